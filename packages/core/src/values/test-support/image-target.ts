import { ElfFile, PT } from '@stackdb/dwdebug';
import { X86_64 } from '../../arch/x86-64.js';
import { RegisterSet } from '../../arch/register-set.js';
import { Target } from '../../target/target.js';
import type { AddressSpace } from '../../target/address-space.js';
import type { Addr, LoadedModule, Region, StopEvent, ThreadInfo } from '../../target/types.js';

/**
 * A paused, in-memory target for unit tests of core logic: the initial memory
 * image of a non-PIE executable (its PT_LOAD segments, .bss zeroed) plus
 * memory the test adds, and threads whose registers the test sets. It never
 * runs.
 */
export class ImageTarget extends Target {
  private readonly segments: { start: Addr; bytes: Uint8Array; exec: boolean; write: boolean; fromFile: boolean }[] = [];
  private readonly regs = new Map<number, RegisterSet>();

  constructor(readonly file?: string) {
    super({
      id: 1, driver: 'image', arch: X86_64,
      capabilities: { launch: false, readOnly: false, writeRegisters: true, execution: false, swBreakpoints: false, hwDebugSlots: 0, singleStep: false, threadEvents: false, processEvents: false, syscallEvents: false, physicalMemory: false, kill: false },
    });
    if (file) {
      const elf = ElfFile.open(file);
      try {
        for (const s of elf.segments) {
          if (s.type !== PT.LOAD) continue;
          const bytes = new Uint8Array(Number(s.memsz));
          bytes.set(elf.readRaw(s.offset, s.filesz));
          this.segments.push({ start: s.vaddr, bytes, exec: (s.flags & 1) !== 0, write: (s.flags & 2) !== 0, fromFile: true });
        }
      } finally {
        elf.close();
      }
    }
  }

  get name(): string {
    return `image(${this.file ?? 'memory'})`;
  }

  /** Adds memory (a synthetic stack, say) at `start`. */
  map(start: Addr, bytes: Uint8Array, opts: { exec?: boolean } = {}): void {
    this.segments.push({ start, bytes, exec: opts.exec ?? false, write: true, fromFile: false });
  }

  /** Sets a thread's registers (the thread exists from then on). */
  setThread(tid: number, values: Record<string, bigint>): void {
    this.regs.set(tid, new RegisterSet(X86_64, Object.entries(values)));
    this.invalidate();
  }

  private find(address: Addr): { start: Addr; bytes: Uint8Array } | undefined {
    return this.segments.find((s) => s.start <= address && address < s.start + BigInt(s.bytes.length));
  }

  protected async _open(): Promise<void> {}
  protected async _pause(): Promise<StopEvent[]> {
    return [];
  }
  protected async _resume(): Promise<void> {}
  protected async _wait(): Promise<StopEvent[]> {
    return [];
  }
  protected async _poll(): Promise<StopEvent[]> {
    return [];
  }
  protected async _read(_space: AddressSpace, address: Addr, buf: Uint8Array): Promise<number> {
    let n = 0;
    while (n < buf.length) {
      const s = this.find(address + BigInt(n));
      if (!s) break;
      const off = Number(address + BigInt(n) - s.start);
      const take = Math.min(buf.length - n, s.bytes.length - off);
      buf.set(s.bytes.subarray(off, off + take), n);
      n += take;
    }
    return n;
  }
  protected override async _write(_space: AddressSpace, address: Addr, data: Uint8Array): Promise<number> {
    let n = 0;
    while (n < data.length) {
      const s = this.find(address + BigInt(n));
      if (!s) break;
      const off = Number(address + BigInt(n) - s.start);
      const take = Math.min(data.length - n, s.bytes.length - off);
      s.bytes.set(data.subarray(n, n + take), off);
      n += take;
    }
    return n;
  }
  protected async _listThreads(): Promise<ThreadInfo[]> {
    return [...this.regs.keys()].map((tid) => ({ tid, state: 'stopped' as const }));
  }
  async _getRegisters(tid: number): Promise<RegisterSet> {
    return (this.regs.get(tid) ?? new RegisterSet(X86_64)).clone();
  }
  override async _setRegisters(tid: number, regs: RegisterSet): Promise<void> {
    this.regs.set(tid, regs.clone());
  }
  protected async _regions(): Promise<Region[]> {
    return this.segments.map((s) => ({ start: s.start, end: s.start + BigInt(s.bytes.length), readable: true, writable: s.write, executable: s.exec, offset: 0n }));
  }
  protected async _modules(): Promise<LoadedModule[]> {
    const ranges = this.segments.filter((s) => s.fromFile).map((s) => [s.start, s.start + BigInt(s.bytes.length)] as const);
    if (!this.file || !ranges.length) return [];
    return [{ path: this.file, name: this.file.split('/').pop()!, bias: 0n, ranges, main: true }];
  }
  protected async _detach(): Promise<void> {}
  protected async _close(): Promise<void> {}
}
