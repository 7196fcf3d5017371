import type { CoreFile, LoadSegment } from '../core-file.js';
import type { UnreadableReason } from '../errors.js';
import { IntervalMap } from '../interval-map.js';
import { LEVEL_NAMES, translate, type PageFault, type PageMapping, type PagingLevels } from './page-walk.js';

/** A load segment placed at its physical addresses. */
interface PhysicalSegment extends LoadSegment {
  readonly start: bigint;
  readonly end: bigint;
}

const TLB_MAX = 1 << 16;

/**
 * The memory of a VM dump: physical memory from the PT_LOADs' physical
 * addresses, and virtual memory through page-table walks over it.
 *
 * In a machine dump a segment's bytes past `filesz` (up to `memsz`) are pages
 * the dumper found to be zero and left out (makedumpfile does), so they read as
 * zeros; bytes lost to a truncated file do not read at all.
 */
export class VmMemory {
  private readonly physical: IntervalMap<PhysicalSegment>;
  /** Virtual page (root, vpn) → physical page, for walks already done. */
  private readonly tlb = new Map<string, PageMapping>();

  constructor(private readonly core: CoreFile, readonly levels: PagingLevels) {
    this.physical = new IntervalMap(core.segments.map((s) => ({ ...s, start: s.paddr, end: s.paddr + s.memsz })));
  }

  /** Physical memory ranges, in address order. */
  get physicalRanges(): readonly PhysicalSegment[] {
    return this.physical.all;
  }

  /** Reads physical memory; returns the bytes read before the first unreadable one. */
  async readPhysical(address: bigint, buf: Uint8Array): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const a = address + BigInt(done);
      const seg = this.physical.find(a);
      if (!seg) break;
      const off = a - seg.start;
      const inSeg = Number(seg.end - a < BigInt(buf.length - done) ? seg.end - a : BigInt(buf.length - done));
      if (off >= BigInt(seg.filesz)) {
        buf.fill(0, done, done + inSeg);
        done += inSeg;
        continue;
      }
      if (off >= BigInt(seg.available)) break;
      const n = Math.min(inSeg, seg.available - Number(off));
      const got = await this.core.read(seg.offset + Number(off), buf.subarray(done, done + n));
      done += got;
      if (got < n) break;
    }
    return done;
  }

  /** Translates a virtual address under a page-table root (cached per 4 KiB page). */
  async translate(root: bigint, vaddr: bigint): Promise<PageMapping | PageFault> {
    const key = `${root}:${vaddr >> 12n}`;
    const hit = this.tlb.get(key);
    if (hit) return { ...hit, physical: hit.physical + (vaddr & 0xfffn) };
    const r = await translate((a, b) => this.readPhysical(a, b), root, vaddr, this.levels);
    if ('physical' in r) {
      if (this.tlb.size >= TLB_MAX) this.tlb.clear();
      this.tlb.set(key, { ...r, physical: r.physical - (vaddr & 0xfffn) });
    }
    return r;
  }

  /**
   * Reads virtual memory under `root`; kernel-half addresses that `root` does
   * not map are retried under `kernelRoot` (a user page table under PTI maps
   * almost none of the kernel, while every kernel mapping is in init_top_pgt).
   */
  async readVirtual(root: bigint, address: bigint, buf: Uint8Array, kernelRoot?: bigint): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const a = address + BigInt(done);
      const m = await this.translateWithKernel(root, a, kernelRoot);
      if (!('physical' in m)) break;
      const inPage = Number(0x1000n - (a & 0xfffn));
      const n = Math.min(inPage, buf.length - done);
      const got = await this.readPhysical(m.physical, buf.subarray(done, done + n));
      done += got;
      if (got < n) break;
    }
    return done;
  }

  /** Translation under `root`, then under `kernelRoot` for a kernel-half address `root` does not map. */
  async translateWithKernel(root: bigint, vaddr: bigint, kernelRoot?: bigint): Promise<PageMapping | PageFault> {
    const m = await this.translate(root, vaddr);
    if ('physical' in m || kernelRoot === undefined || kernelRoot === root || vaddr >> 63n === 0n) return m;
    return this.translate(kernelRoot, vaddr);
  }

  /** Why a physical address cannot be read. */
  explainPhysical(address: bigint): { reason: UnreadableReason; detail: string } {
    const seg = this.physical.find(address);
    if (!seg) return { reason: 'unmapped', detail: `no PT_LOAD segment of the dump holds physical address 0x${address.toString(16)}` };
    const fileOff = seg.offset + Number(address - seg.start);
    return { reason: 'truncated', detail: `physical address 0x${address.toString(16)} is in PT_LOAD segment ${seg.index} at file offset 0x${fileOff.toString(16)}, but ${this.core.path} ends at 0x${this.core.size.toString(16)} (truncated dump)` };
  }

  /** Why a virtual address cannot be read. */
  async explainVirtual(root: bigint, address: bigint, kernelRoot?: bigint): Promise<{ reason: UnreadableReason; detail: string }> {
    const m = await this.translateWithKernel(root, address, kernelRoot);
    if ('physical' in m) {
      const p = this.explainPhysical(m.physical);
      return { reason: p.reason, detail: `virtual 0x${address.toString(16)} maps to physical 0x${m.physical.toString(16)}: ${p.detail}` };
    }
    return { reason: 'not-present', detail: describeFault(m, root) };
  }
}

/** A page fault in words. */
export function describeFault(f: PageFault, root: bigint): string {
  const at = `the ${LEVEL_NAMES[f.level]} entry${f.entryAddress === undefined ? '' : ` at physical 0x${f.entryAddress.toString(16)}`}`;
  switch (f.fault) {
    case 'non-canonical':
      return 'not a canonical address';
    case 'unreadable-table':
      return `the page-table walk from root 0x${root.toString(16)} cannot read ${at}: the dump lacks that page table`;
    case 'not-present':
      return `the page-table walk from root 0x${root.toString(16)} stops at ${at}, which is not present (0x${(f.entry ?? 0n).toString(16)})`;
  }
}
