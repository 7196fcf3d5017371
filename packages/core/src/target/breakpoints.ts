import { ProbeError } from '../errors.js';
import { getLogger } from '../log/logger.js';
import type { Target } from './target.js';
import type { Addr, HwDebugSpec, StopEvent } from './types.js';

const log = getLogger('P_PROBEPOINT');

interface SwBreakpoint {
  readonly original: Uint8Array;
  refs: number;
}

/**
 * The software breakpoints inserted in a target: reference-counted by address,
 * hidden from memory reads (the original bytes are shown), kept in place across
 * writes, lifted for single steps, and all removed on detach.
 */
export class SoftwareBreakpoints {
  private readonly table = new Map<Addr, SwBreakpoint>();

  constructor(private readonly target: Target) {}

  has(address: Addr): boolean {
    return this.table.has(address);
  }

  /** Addresses of the inserted breakpoints. */
  addresses(): Addr[] {
    return [...this.table.keys()];
  }

  /** Inserts (or adds a reference to) a breakpoint. */
  async insert(address: Addr): Promise<void> {
    const bp = this.table.get(address);
    if (bp) {
      bp.refs++;
      return;
    }
    const original = await this.target._insertSwBreakpoint(address);
    this.table.set(address, { original, refs: 1 });
    this.target.invalidate();
    log.debug(5, 'inserted breakpoint at 0x%s', address.toString(16));
  }

  /** Drops a reference; the last one restores the original bytes. */
  async remove(address: Addr): Promise<void> {
    const bp = this.table.get(address);
    if (!bp) return;
    if (--bp.refs > 0) return;
    this.table.delete(address);
    await this.target._removeSwBreakpoint(address, bp.original);
    this.target.invalidate();
    log.debug(5, 'removed breakpoint at 0x%s', address.toString(16));
  }

  /** Removes every breakpoint, restoring original bytes; keeps going past failures. */
  async removeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const [address, bp] of [...this.table]) {
      this.table.delete(address);
      try {
        await this.target._removeSwBreakpoint(address, bp.original);
      } catch (err) {
        errors.push(err);
      }
    }
    this.target.invalidate();
    if (errors.length) log.warn('could not remove %d breakpoint(s): %s', errors.length, String(errors[0]));
  }

  /**
   * Takes over breakpoints already in the target's memory (a fork child's copy
   * of its parent's): known, but unreferenced until something inserts them.
   */
  inherit(entries: readonly (readonly [Addr, Uint8Array])[]): void {
    for (const [address, original] of entries) if (!this.table.has(address)) this.table.set(address, { original: Uint8Array.from(original), refs: 0 });
  }

  /** Restores the original bytes of inherited breakpoints nobody inserted again. */
  async releaseInherited(): Promise<void> {
    for (const [address, bp] of [...this.table]) {
      if (bp.refs > 0) continue;
      this.table.delete(address);
      await this.target._removeSwBreakpoint(address, bp.original);
    }
    this.target.invalidate();
  }

  /** Forgets breakpoints whose memory is gone (exec, exit) without touching the target. */
  forgetAll(): void {
    this.table.clear();
  }

  /** Forgets one breakpoint whose memory is gone (its library was unloaded) without touching the target. */
  forget(address: Addr): void {
    this.table.delete(address);
  }

  /** Original bytes of every breakpoint, for synchronous cleanup paths. */
  entries(): [Addr, Uint8Array][] {
    return [...this.table].map(([a, bp]) => [a, bp.original]);
  }

  /** Replaces trap bytes in `buf` (read from `address`) with the original bytes. */
  shadow(address: Addr, buf: Uint8Array): void {
    if (this.table.size === 0 || buf.length === 0) return;
    const end = address + BigInt(buf.length);
    for (const [a, bp] of this.table) {
      for (let i = 0; i < bp.original.length; i++) {
        const x = a + BigInt(i);
        if (x >= address && x < end) buf[Number(x - address)] = bp.original[i]!;
      }
    }
  }

  /**
   * For a write over breakpoints: records the new bytes as the breakpoints'
   * originals and returns the data with the trap bytes kept in place.
   */
  absorbWrite(address: Addr, data: Uint8Array): Uint8Array {
    if (this.table.size === 0) return data;
    const end = address + BigInt(data.length);
    let out = data;
    const insn = this.target.arch.breakpointInstruction;
    for (const [a, bp] of this.table) {
      for (let i = 0; i < bp.original.length; i++) {
        const x = a + BigInt(i);
        if (x < address || x >= end) continue;
        if (out === data) out = Uint8Array.from(data);
        const off = Number(x - address);
        bp.original[i] = data[off]!;
        out[off] = insn[i]!;
      }
    }
    return out;
  }

  /** Runs `fn` (a single step) with the breakpoint at `address` temporarily removed. */
  async withLifted(address: Addr, fn: () => Promise<StopEvent[]>): Promise<StopEvent[]> {
    const bp = this.table.get(address);
    if (!bp) return fn();
    await this.target._removeSwBreakpoint(address, bp.original);
    try {
      return await fn();
    } finally {
      if (this.table.get(address) === bp) await this.target._reinsertSwBreakpoint(address);
      this.target.invalidate();
    }
  }
}

interface SlotUse {
  readonly spec: HwDebugSpec;
  /** Restricted to one thread, or undefined for all threads. */
  readonly tid?: number;
}

/**
 * Allocation of a target's hardware debug slots (x86 DR0–DR3), managed per
 * thread: a slot is programmed either on every thread (and on threads created
 * later), or on one thread only, in which case other threads may use the same
 * slot number for something else. `ERR_NO_HW_SLOTS` when a thread has none left.
 */
export class HardwareDebugSlots {
  /** Uses on every thread, by slot number. */
  private readonly all: (SlotUse | undefined)[];
  /** Uses on one thread: tid → slot number → use. */
  private readonly perThread = new Map<number, (SlotUse | undefined)[]>();

  constructor(private readonly target: Target, count: number) {
    this.all = new Array(count).fill(undefined);
  }

  get count(): number {
    return this.all.length;
  }

  /** Slots in use. */
  used(): { slot: number; spec: HwDebugSpec; tid?: number }[] {
    const out = this.all.flatMap((u, slot) => (u ? [{ slot, ...u }] : []));
    for (const uses of this.perThread.values()) uses.forEach((u, slot) => u && out.push({ slot, ...u }));
    return out;
  }

  /** Free slots on a thread (`tid`), or on every thread at once (undefined). */
  free(tid?: number): number {
    let n = 0;
    for (let i = 0; i < this.all.length; i++) if (this.isFree(i, tid)) n++;
    return n;
  }

  private isFree(slot: number, tid: number | undefined): boolean {
    if (this.all[slot]) return false;
    if (tid !== undefined) return !this.perThread.get(tid)?.[slot];
    for (const uses of this.perThread.values()) if (uses[slot]) return false;
    return true;
  }

  /** Programs a free slot (on every thread, or on `tid` only) and returns its number. */
  async allocate(spec: HwDebugSpec, tid?: number): Promise<number> {
    let slot = -1;
    for (let i = 0; i < this.all.length && slot < 0; i++) if (this.isFree(i, tid)) slot = i;
    if (slot < 0) {
      const whose = tid === undefined ? `of ${this.target.name}` : `of thread ${tid} of ${this.target.name}`;
      throw new ProbeError('ERR_NO_HW_SLOTS', `all ${this.all.length} hardware debug slots ${whose} are in use; use a software breakpoint (-s) or remove a probe`);
    }
    await this.target._setHwDebug(slot, spec, tid);
    if (tid === undefined) this.all[slot] = { spec };
    else {
      let uses = this.perThread.get(tid);
      if (!uses) this.perThread.set(tid, (uses = new Array(this.all.length).fill(undefined)));
      uses[slot] = { spec, tid };
    }
    return slot;
  }

  /** The use of a slot on a thread (its own, or the all-thread one). */
  useOf(slot: number, tid: number): SlotUse | undefined {
    return this.perThread.get(tid)?.[slot] ?? this.all[slot];
  }

  /** Clears a slot (of every thread, or of `tid` only). */
  async release(slot: number, tid?: number): Promise<void> {
    const uses = tid === undefined ? this.all : this.perThread.get(tid);
    const use = uses?.[slot];
    if (!uses || !use) return;
    uses[slot] = undefined;
    await this.target._setHwDebug(slot, null, use.tid);
  }

  /** Clears every slot. */
  async clearAll(): Promise<void> {
    const uses = this.used();
    this.all.fill(undefined);
    this.perThread.clear();
    for (const u of uses) {
      try {
        await this.target._setHwDebug(u.slot, null, u.tid);
      } catch (err) {
        log.warn('could not clear hardware debug slot %d: %s', u.slot, String(err));
      }
    }
  }

  /** Forgets every slot without touching the target (its image or threads are gone). */
  forgetAll(): void {
    this.all.fill(undefined);
    this.perThread.clear();
  }

  /** Forgets the slots of a thread that exited. */
  forgetThread(tid: number): void {
    this.perThread.delete(tid);
  }

  /** Programs the all-thread slots on a newly created thread. */
  async applyToThread(tid: number): Promise<void> {
    for (let i = 0; i < this.all.length; i++) {
      const use = this.all[i];
      if (use) await this.target._setHwDebug(i, use.spec, tid);
    }
  }

  /** Runs `fn` with one slot disabled on one thread (to step past an execute breakpoint). */
  async withSlotDisabled(tid: number, slot: number, fn: () => Promise<StopEvent[]>): Promise<StopEvent[]> {
    const use = this.useOf(slot, tid);
    if (!use) return fn();
    await this.target._setHwDebug(slot, null, tid);
    try {
      return await fn();
    } finally {
      if (this.useOf(slot, tid) === use) await this.target._setHwDebug(slot, use.spec, tid);
    }
  }
}
