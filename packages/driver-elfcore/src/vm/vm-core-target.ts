import { NoSuchThreadError, PHYSICAL_SPACE, PagingError, RegisterSet, VIRTUAL_SPACE } from '@stackdb/core';
import type { AddressSpace, LoadedModule, PagingContext, Region, ThreadInfo } from '@stackdb/core';
import path from 'node:path';
import type { CoreNote } from '../core-file.js';
import { ElfCoreTarget, type ElfCoreTargetInit } from '../elfcore-target.js';
import { CoreFileError, CoreMemoryError, type UnreadableReason } from '../errors.js';
import { VmcoreInfo } from '../vmcoreinfo.js';
import { decodePrstatus, decodeQemuCpuState, type NoteOrigin, type Prstatus, type QemuCpuState } from '../x86-64-notes.js';
import { findKernelImage, type KernelImage } from './kernel-image.js';
import { VmMemory } from './vm-memory.js';

/** `__START_KERNEL_map`: where x86-64 maps the kernel image (physical `phys_base` and up). */
export const START_KERNEL_MAP = 0xffffffff80000000n;

/** CR4.LA57: 5-level paging. */
const CR4_LA57 = 1n << 12n;

/** One virtual CPU of a VM dump. */
export interface VmCpu {
  /** CPU number, from 0, in the dump's note order. */
  readonly index: number;
  /** Registers (pr_reg) and, for kdump, the pid of the task that was running. */
  readonly prstatus: Prstatus;
  /** QEMU's CPU state (control registers, segment bases), in QEMU dumps. */
  readonly qemu?: QemuCpuState;
}

/** Options of VM dumps beyond the dump file. */
export interface VmCoreOptions {
  /** `--core-exe`/`-M`: the kernel's vmlinux (found from VMCOREINFO's release when absent). */
  readonly exe?: string;
  /** `-R`: root prefix for finding the vmlinux. */
  readonly rootPrefix?: string;
}

/**
 * A whole machine's memory dump: QEMU's `dump-guest-memory` ELF output or a
 * kdump ELF vmcore. Physical memory is the PT_LOADs' physical addresses
 * ({@link PHYSICAL_SPACE}); virtual addresses are translated through the
 * guest's page tables: the default space uses the current vCPU's CR3 (QEMU
 * dumps), falling back to the kernel's own tables (`init_top_pgt` from
 * VMCOREINFO) for kernel addresses the CPU's tables do not map, and for dumps
 * without CPU control registers (kdump). A space with a `pageTableRoot` (as a
 * personality makes for a process) is walked from that root.
 * The vCPUs are the threads (tid = CPU number + 1, named `CPU#n`).
 */
export class VmCoreTarget extends ElfCoreTarget {
  private readonly opts: VmCoreOptions;
  private readonly cpuList: VmCpu[] = [];
  private readonly ownProblems: CoreFileError[] = [];
  private info?: VmcoreInfo;
  private memory?: VmMemory;
  private kernelRoot?: bigint;
  private la57 = false;
  private kernelImage?: KernelImage;
  private current = 0;

  constructor(init: ElfCoreTargetInit & VmCoreOptions) {
    super(init, true);
    this.opts = { ...(init.exe ? { exe: init.exe } : {}), ...(init.rootPrefix ? { rootPrefix: init.rootPrefix } : {}) };
  }

  override get problems(): readonly CoreFileError[] {
    return [...this.core.problems, ...this.ownProblems];
  }

  /** The kernel's VMCOREINFO, when the dump carries it. */
  get vmcoreinfo(): VmcoreInfo | undefined {
    return this.info;
  }

  /** The vCPUs, in CPU order. */
  get cpus(): readonly VmCpu[] {
    return this.cpuList;
  }

  /** The CPU whose page tables the default virtual space uses. */
  get currentCpu(): number {
    return this.current;
  }

  /** Makes another CPU current (its CR3 then translates the default virtual space). */
  selectCpu(index: number): void {
    if (!this.cpuList[index]) throw new NoSuchThreadError(`CPU#${index}`);
    this.current = index;
  }

  /** Physical address of the kernel's top page table (`init_top_pgt`), from VMCOREINFO. */
  get kernelPageTableRoot(): bigint | undefined {
    return this.kernelRoot;
  }

  /** Paging depth of the guest (5 with LA57). */
  get pagingLevels(): 4 | 5 {
    return this.la57 ? 5 : 4;
  }

  /** The kernel's vmlinux and KASLR offset, once found (see {@link VmCoreOptions.exe}). */
  get kernel(): KernelImage | undefined {
    return this.kernelImage;
  }

  /**
   * The kernel's own virtual space (walked from `init_top_pgt`): kernel
   * addresses whatever the CPU was running. Undefined without VMCOREINFO.
   */
  get kernelSpace(): AddressSpace | undefined {
    return this.kernelRoot === undefined ? undefined : { id: 'kernel', kind: 'virtual', name: 'kernel (init_top_pgt)', pageTableRoot: this.kernelRoot };
  }

  override async spaces(): Promise<AddressSpace[]> {
    const k = this.kernelSpace;
    return k ? [VIRTUAL_SPACE, PHYSICAL_SPACE, k] : [VIRTUAL_SPACE, PHYSICAL_SPACE];
  }

  /** Translates a virtual address of a space (default: the current CPU's) to a physical one. */
  async translate(vaddr: bigint, space: AddressSpace = this.defaultSpace): Promise<bigint> {
    const ctx = this.pagingOf(space);
    try {
      return (await this.mem.translate(vaddr, ctx, this.kernelPaging)).physical;
    } catch (err) {
      if (!(err instanceof PagingError)) throw err;
      const why = await this.mem.explainVirtual(vaddr, ctx, this.kernelPaging);
      throw new CoreMemoryError(vaddr, 0, why.reason, why.detail);
    }
  }

  protected async _open(): Promise<void> {
    const prstatus: Prstatus[] = [];
    const qemu: QemuCpuState[] = [];
    for (const n of this.core.notes) {
      if (n.name === 'CORE' && n.type === 1) this.push(prstatus, this.decode(n, 'NT_PRSTATUS', decodePrstatus));
      else if (n.name === 'QEMU') this.push(qemu, this.decode(n, 'QEMU CPU state', decodeQemuCpuState));
      else if (n.name === 'VMCOREINFO' && !this.info) this.info = VmcoreInfo.fromNote(n.desc);
    }
    // QEMU writes every CPU's NT_PRSTATUS, then every CPU's QEMU note, in CPU order.
    prstatus.forEach((p, index) => this.cpuList.push(qemu[index] ? { index, prstatus: p, qemu: qemu[index] } : { index, prstatus: p }));
    if (!this.cpuList.length) this.ownProblems.push(new CoreFileError('ERR_CORE_NOTE', this.core.path, 'has no NT_PRSTATUS note: no vCPU or register is available'));

    const cr4 = this.cpuList[0]?.qemu?.cr[4];
    this.la57 = cr4 !== undefined ? (cr4 & CR4_LA57) !== 0n : this.info?.fiveLevelPaging ?? false;
    this.memory = new VmMemory(this.core);

    const pgt = this.info?.symbol('init_top_pgt') ?? this.info?.symbol('init_level4_pgt');
    const physBase = this.info?.physBase;
    if (pgt !== undefined && physBase !== undefined) this.kernelRoot = pgt - START_KERNEL_MAP + physBase;
    if (this.kernelRoot === undefined && !this.cpuList.some((c) => c.qemu)) {
      this.ownProblems.push(new CoreFileError('ERR_CORE_NOTE', this.core.path, 'has neither CPU control registers nor VMCOREINFO init_top_pgt/phys_base: virtual addresses cannot be translated'));
    }

    const found = await findKernelImage({ corePath: this.core.path, ...this.opts, ...(this.info ? { info: this.info } : {}) });
    this.ownProblems.push(...found.problems);
    if (found.image) this.kernelImage = found.image;
  }

  private decode<T>(n: CoreNote, what: string, fn: (d: Uint8Array, o: NoteOrigin) => T): T | undefined {
    try {
      return fn(n.desc, { file: this.core.path, offset: n.fileOffset, what });
    } catch (err) {
      if (!(err instanceof CoreFileError)) throw err;
      this.ownProblems.push(err);
      return undefined;
    }
  }

  private push<T>(list: T[], x: T | undefined): void {
    if (x !== undefined) list.push(x);
  }

  private get mem(): VmMemory {
    if (!this.memory) throw new CoreFileError('ERR_CORE_FORMAT', this.core.path, 'the dump is not open');
    return this.memory;
  }

  /** Paging under the kernel's own tables, when VMCOREINFO locates them. */
  private get kernelPaging(): PagingContext | undefined {
    return this.kernelRoot === undefined ? undefined : { cr3: this.kernelRoot, cr4: this.la57 ? CR4_LA57 : 0n };
  }

  /**
   * How a virtual space is translated: its own page-table root, else the
   * current vCPU's control registers, else the kernel's tables.
   */
  private pagingOf(space: AddressSpace): PagingContext {
    if (space.pageTableRoot !== undefined) return { cr3: space.pageTableRoot, cr4: this.la57 ? CR4_LA57 : 0n };
    const q = this.cpuList[this.current]?.qemu;
    if (q) return { cr3: q.cr[3], cr0: q.cr[0], cr4: q.cr[4] };
    const k = this.kernelPaging;
    if (k) return k;
    throw new CoreMemoryError(0n, 0, 'not-present', `${this.core.path} gives no page-table root to translate virtual addresses with`);
  }

  protected async _read(space: AddressSpace, address: bigint, buf: Uint8Array): Promise<number> {
    if (space.kind === 'physical') return this.mem.readPhysical(address, buf);
    return this.mem.readVirtual(address, buf, this.pagingOf(space), this.kernelPaging);
  }

  protected async explain(space: AddressSpace, address: bigint): Promise<{ reason: UnreadableReason; detail: string }> {
    if (space.kind === 'physical') return this.mem.explainPhysical(address);
    return this.mem.explainVirtual(address, this.pagingOf(space), this.kernelPaging);
  }

  protected async _listThreads(): Promise<ThreadInfo[]> {
    return this.cpuList.map((c) => ({
      tid: c.index + 1,
      name: `CPU#${c.index}`,
      state: 'stopped' as const,
      context: (c.prstatus.regs.get('cs')! & 3n) === 0n ? ('kernel' as const) : ('user' as const),
    }));
  }

  async _getRegisters(tid: number): Promise<RegisterSet> {
    const c = this.cpuList[tid - 1];
    if (!c) throw new NoSuchThreadError(tid);
    const regs = new RegisterSet(this.arch, c.prstatus.regs);
    const q = c.qemu;
    if (q) {
      regs.set('cr0', q.cr[0]);
      regs.set('cr2', q.cr[2]);
      regs.set('cr3', q.cr[3]);
      regs.set('cr4', q.cr[4]);
      regs.set('fs_base', q.segments.fs.base);
      regs.set('gs_base', q.segments.gs.base);
      if (q.kernelGsBase !== undefined) regs.set('kernel_gs_base', q.kernelGsBase);
    }
    return regs;
  }

  /** Physical space: the dump's PT_LOADs. Virtual spaces: the mapped ranges of their page tables. */
  protected async _regions(space: AddressSpace): Promise<Region[]> {
    if (space.kind === 'physical') {
      return this.mem.physicalRanges.map((s) => ({ start: s.start, end: s.end, readable: true, writable: true, executable: true, offset: 0n }));
    }
    const ranges = await this.mem.mappedRanges(this.pagingOf(space));
    return ranges.map((r) => ({ start: r.start, end: r.end, readable: true, writable: r.writable, executable: r.executable, offset: 0n }));
  }

  /** The kernel (from its vmlinux and KASLR offset); modules come with the Linux personality. */
  protected async _modules(): Promise<LoadedModule[]> {
    const k = this.kernelImage;
    return k ? [{ path: k.path, name: path.basename(k.path).startsWith('vmlinux') ? 'vmlinux' : path.basename(k.path), bias: k.bias, ranges: [k.range], main: true }] : [];
  }

  protected async _close(): Promise<void> {
    await this.core.close();
  }
}
