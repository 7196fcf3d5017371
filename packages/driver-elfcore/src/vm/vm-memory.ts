import { PageWalker, PagingError, getLogger, type PagingContext, type Translation } from '@stackdb/core';
import type { CoreFile, LoadSegment } from '../core-file.js';
import { CoreMemoryError, type UnreadableReason } from '../errors.js';
import { IntervalMap } from '../interval-map.js';

const log = getLogger('T_CORE');

/** A load segment placed at its physical addresses. */
export interface PhysicalSegment extends LoadSegment {
  readonly start: bigint;
  readonly end: bigint;
}

/** One run of mapped virtual memory with the same rights. */
export interface MappedRange {
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly user: boolean;
}

/**
 * The memory of a VM dump: physical memory from the PT_LOADs' physical
 * addresses, and virtual memory through core's {@link PageWalker} over it.
 *
 * In a machine dump a segment's bytes past `filesz` (up to `memsz`) are pages
 * the dumper found to be zero and left out (makedumpfile does), so they read as
 * zeros; bytes lost to a truncated file do not read at all. A dump never
 * changes, so the walker's caches are never invalidated.
 */
export class VmMemory {
  private readonly physical: IntervalMap<PhysicalSegment>;
  private readonly walker: PageWalker;

  constructor(private readonly core: CoreFile) {
    this.physical = new IntervalMap(core.segments.map((s) => ({ ...s, start: s.paddr, end: s.paddr + s.memsz })));
    this.walker = new PageWalker(async (address, size) => {
      const buf = new Uint8Array(size);
      const n = await this.readPhysical(address, buf);
      if (n < size) {
        const why = this.explainPhysical(address + BigInt(n));
        throw new CoreMemoryError(address + BigInt(n), n, why.reason, why.detail);
      }
      return buf;
    });
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
      const left = BigInt(buf.length - done);
      const inSeg = Number(seg.end - a < left ? seg.end - a : left);
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

  /**
   * Translates under `ctx`; kernel-half addresses it does not map are retried
   * under `kernel` (a user page table under PTI maps almost none of the
   * kernel, while every kernel mapping is in init_top_pgt). Rejects with
   * core's {@link PagingError}.
   */
  async translate(vaddr: bigint, ctx: PagingContext, kernel?: PagingContext): Promise<Translation> {
    try {
      return await this.walker.translate(vaddr, ctx);
    } catch (err) {
      if (!kernel || kernel.cr3 === ctx.cr3 || vaddr >> 63n === 0n || !(err instanceof PagingError) || err.code !== 'ERR_NOT_MAPPED') throw err;
      return this.walker.translate(vaddr, kernel);
    }
  }

  /** Reads virtual memory; returns the bytes read before the first unmapped or unreadable one. */
  async readVirtual(address: bigint, buf: Uint8Array, ctx: PagingContext, kernel?: PagingContext): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const a = address + BigInt(done);
      let t: Translation;
      try {
        t = await this.translate(a, ctx, kernel);
      } catch (err) {
        if (err instanceof PagingError) break;
        throw err;
      }
      const n = Math.min(Number(t.pageSize - (t.physical - t.physicalPage)), buf.length - done);
      const got = await this.readPhysical(t.physical, buf.subarray(done, done + n));
      done += got;
      if (got < n) break;
    }
    return done;
  }

  /**
   * The mapped ranges of an address space, adjacent pages with the same rights
   * merged. A page table the dump lacks ends the listing there, with a warning.
   */
  async mappedRanges(ctx: PagingContext): Promise<MappedRange[]> {
    const out: MappedRange[] = [];
    try {
      for await (const m of this.walker.mappings(ctx)) {
        const last = out[out.length - 1];
        const end = m.virtualPage + m.pageSize;
        if (last && last.end === m.virtualPage && last.writable === m.writable && last.executable === m.executable && last.user === m.user) {
          out[out.length - 1] = { ...last, end };
        } else {
          out.push({ start: m.virtualPage, end, writable: m.writable, executable: m.executable, user: m.user });
        }
      }
    } catch (err) {
      if (!(err instanceof PagingError)) throw err;
      log.warn('%s: the list of mapped memory stops at 0x%s: %s', this.core.path, (out[out.length - 1]?.end ?? 0n).toString(16), err.message);
    }
    return out;
  }

  /** Why a physical address cannot be read. */
  explainPhysical(address: bigint): { reason: UnreadableReason; detail: string } {
    const seg = this.physical.find(address);
    if (!seg) return { reason: 'unmapped', detail: `no PT_LOAD segment of the dump holds physical address 0x${address.toString(16)}` };
    const fileOff = seg.offset + Number(address - seg.start);
    return { reason: 'truncated', detail: `physical address 0x${address.toString(16)} is in PT_LOAD segment ${seg.index} at file offset 0x${fileOff.toString(16)}, but ${this.core.path} ends at 0x${this.core.size.toString(16)} (truncated dump)` };
  }

  /** Why a virtual address cannot be read. */
  async explainVirtual(address: bigint, ctx: PagingContext, kernel?: PagingContext): Promise<{ reason: UnreadableReason; detail: string }> {
    let t: Translation;
    try {
      t = await this.translate(address, ctx, kernel);
    } catch (err) {
      if (!(err instanceof PagingError)) throw err;
      // A page table the dump lacks is the dump's fault; an absent entry is the guest's state.
      const cause = err.cause instanceof CoreMemoryError ? `: ${err.cause.message}` : '';
      return { reason: err.code === 'ERR_PAGE_TABLE_READ' && err.cause instanceof CoreMemoryError ? err.cause.reason : 'not-present', detail: `${err.message} (page tables at 0x${ctx.cr3.toString(16)})${cause}` };
    }
    const p = this.explainPhysical(t.physical);
    return { reason: p.reason, detail: `virtual 0x${address.toString(16)} maps to physical 0x${t.physical.toString(16)}: ${p.detail}` };
  }
}
