import path from 'node:path';
import {
  AttachError,
  MemoryError,
  NoSuchThreadError,
  PHYSICAL_SPACE,
  parseProcMaps,
  NotSupportedError,
  ProtocolError,
  RegisterError,
  RegisterSet,
  Target,
  TargetStateError,
  VIRTUAL_SPACE,
  X86_64,
  getLogger,
  imageModule,
  imageRegions,
  readImage,
  modulesFromRegions,
  type Addr,
  type AddressSpace,
  type DebugAccess,
  type EventInterest,
  type HwDebugSpec,
  type LoadedModule,
  type Region,
  type StopEvent,
  type TargetCapabilities,
  type TargetSpec,
  type ThreadInfo,
} from '@stackdb/core';
import type { StubHelper } from './helper.js';
import { placeImages } from './images.js';
import { MachineMemory } from './machine-memory.js';
import { PointType, type RspClient, type ResumeAction } from './rsp/client.js';
import { RSP_ERROR, StubError, UnsupportedPacketError } from './rsp/errors.js';
import { leBytes, leValue } from './rsp/hex.js';
import { SIGINT, SIGTRAP, gdbToLinuxSignal, linuxToGdbSignal } from './rsp/signals.js';
import { parseStopReply, type StopReply } from './rsp/stop-reply.js';
import type { ThreadId } from './rsp/thread-id.js';

const log = getLogger('T_GDB');

const PAGE = 4096n;
/** Lines the core memory cache holds before it starts over (MemoryCache's default). */
const CORE_CACHE_LINES = 4096;
/** Preferred cache line: one QEMU-sized reply, enough for a few stack frames or a small struct. */
const PREFERRED_LINE = 1024;
/** How long an interrupt may go unanswered before it is sent again. */
const INTERRUPT_RESEND_MS = 1000;
/** Default `--memcache-mmap-size` (the seed's 128 MB). */
export const DEFAULT_MEMCACHE_SIZE = 128 * 1024 * 1024;

/** Options of a {@link GdbTarget}. */
export interface GdbTargetOptions {
  /** A connected, negotiated client; the target owns it from now on. */
  readonly client: RspClient;
  readonly id?: number;
  readonly spec?: TargetSpec;
  /** A helper for what the stub cannot give (the QEMU helper). */
  readonly helper?: StubHelper;
  /** `-M`: the main binary (a kernel, or a program) whose debuginfo is loaded. */
  readonly mainFilename?: string;
  /** `-s`: software breakpoints by writing `int3` into memory instead of `Z0` (processes only; machines keep `Z0`). */
  readonly softBreakpoints?: boolean;
  /** `--memcache-mmap-size`: most bytes the memory cache may hold; 0 disables it. */
  readonly memcacheSize?: number;
  /** `-R`: prefix for opening the target's files here. */
  readonly rootPrefix?: string;
  /** How long an interrupted target may take to report its stop (default 10 s). */
  readonly interruptTimeoutMs?: number;
  /** How long a single step may take before it is interrupted (default 30 s). */
  readonly stepTimeoutMs?: number;
}

interface HwPoint {
  readonly spec: HwDebugSpec;
  readonly type: PointType;
}

/** A power of two at most `n` (0 for n < 1). */
function floorPow2(n: number): number {
  return n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
}

/**
 * The cache line for a stub: the preferred size, no larger than one memory
 * reply, and small enough that the whole cache stays under `--memcache-mmap-size`.
 */
export function cacheLineFor(maxRead: number, memcacheSize: number): number {
  if (memcacheSize <= 0) return 0;
  const line = Math.min(PREFERRED_LINE, floorPow2(maxRead), floorPow2(memcacheSize / CORE_CACHE_LINES));
  return line >= 16 ? line : 0;
}

function pointType(access: DebugAccess): PointType {
  return access === 'exec' ? PointType.Hardware : access === 'write' ? PointType.WriteWatch : PointType.AccessWatch;
}

/**
 * A target behind a GDB stub: a process under gdbserver or Valgrind, or a whole
 * machine under QEMU. Threads are the stub's threads (or vCPUs); memory,
 * registers, breakpoints (`Z0`, or `int3` written to memory with `-s`) and
 * hardware breakpoints and watchpoints (`Z1`–`Z4`) go through the stub; a helper
 * adds what the stub lacks. Execution is all-stop, as the protocol is.
 */
export class GdbTarget extends Target {
  readonly client: RspClient;
  readonly helper?: StubHelper;
  readonly mainFilename?: string;
  private readonly memoryBreakpoints: boolean;
  private readonly rootPrefix?: string;
  private readonly interruptTimeoutMs: number;
  private readonly stepTimeoutMs: number;
  /** Stub thread ids by core tid. */
  private readonly ids = new Map<number, ThreadId>();
  private lastThreads: ThreadInfo[] = [];
  /** Breakpoints the stub keeps (`Z0`), and those written into memory. */
  private readonly z0 = new Set<Addr>();
  private readonly memBreakpoints = new Set<Addr>();
  private readonly hw = new Map<number, HwPoint>();
  /** An interrupt was sent whose SIGINT stop has not been seen (it may still come, once). */
  private interruptPending = false;
  private execFile?: string;
  /** Physical memory and page walks, for machines (a helper with `machine` set). */
  private readonly machine?: MachineMemory;

  constructor(opts: GdbTargetOptions) {
    const caps: TargetCapabilities = {
      launch: false,
      readOnly: false,
      writeRegisters: true,
      execution: true,
      swBreakpoints: true,
      hwDebugSlots: 4,
      singleStep: true,
      threadEvents: false,
      processEvents: false,
      syscallEvents: false,
      physicalMemory: opts.helper?.machine ?? false,
      kill: true,
    };
    super({
      id: opts.id ?? opts.spec?.id ?? 0,
      driver: 'gdb',
      arch: X86_64,
      capabilities: caps,
      ...(opts.spec ? { spec: opts.spec } : {}),
      memoryCacheLine: cacheLineFor(opts.client.maxRead, opts.memcacheSize ?? DEFAULT_MEMCACHE_SIZE),
    });
    this.client = opts.client;
    if (opts.helper) this.helper = opts.helper;
    if (opts.mainFilename !== undefined) this.mainFilename = opts.mainFilename;
    if (opts.rootPrefix !== undefined) this.rootPrefix = opts.rootPrefix;
    // A machine's own int3 is the guest kernel's business: there -s keeps the stub's Z0, which is a software breakpoint too.
    this.memoryBreakpoints = (opts.softBreakpoints ?? false) && !opts.helper?.machine;
    if (opts.softBreakpoints && opts.helper?.machine) log.warnopt(1, '-s: breakpoints in a machine stay with the stub (Z0); an int3 in guest memory would trap into the guest');
    this.interruptTimeoutMs = opts.interruptTimeoutMs ?? 10_000;
    this.stepTimeoutMs = opts.stepTimeoutMs ?? 30_000;
    if (opts.helper?.machine) {
      this.machine = new MachineMemory({
        client: this.client,
        helper: opts.helper,
        driver: this.driver,
        referenceRegisters: async () => {
          const first = this.lastThreads[0];
          return first ? (await this.thread(first.tid)).registers() : undefined;
        },
      });
    }
  }

  override async spaces(): Promise<AddressSpace[]> {
    return this.machine ? [VIRTUAL_SPACE, PHYSICAL_SPACE] : [VIRTUAL_SPACE];
  }

  override invalidate(): void {
    super.invalidate();
    this.machine?.invalidate();
  }

  get name(): string {
    return `gdb(${this.client.where})`;
  }

  // ------------------------------------------------------------------ lifecycle

  protected override async _open(): Promise<void> {
    // QEMU announces the stop of a running machine when a client connects; `?` says the same.
    for (const s of this.client.connection.takeUnsolicitedStops()) log.debug(2, 'the stub stopped the target on connection: %s', s);
    const stop = await this.client.haltReason();
    if (stop.kind === 'exited' || stop.kind === 'killed') {
      throw new AttachError('ERR_GDB_EXITED', `the program behind the GDB stub at ${this.client.where} has already exited`);
    }
    await this._listThreads();
    if (stop.kind === 'signal' && stop.thread) this.remember(stop.thread);
    log.debug(1, 'opened %s: %d thread(s)', this.name, this.lastThreads.length);
  }

  protected override async _pause(): Promise<StopEvent[]> {
    const { text, resent } = await this.interruptAndWait();
    const stop = this.parse(text);
    if (this.isInterruptStop(stop)) {
      this.interruptPending = resent;
      return [];
    }
    return this.toEvents(stop);
  }

  /**
   * Sends `\x03` and waits for the stop, sending it again each second without
   * one: Valgrind's gdbserver (through vgdb) loses an interrupt that arrives
   * just after a `c`, before Valgrind has resumed. A repeated interrupt can
   * leave one more SIGINT behind, which {@link settle} swallows.
   */
  private async interruptAndWait(): Promise<{ text: string; resent: boolean }> {
    const conn = this.client.connection;
    const deadline = Date.now() + this.interruptTimeoutMs;
    for (let sent = 0; ; ) {
      if (conn.interrupt()) {
        this.interruptPending = true;
        sent++;
      }
      const left = deadline - Date.now();
      try {
        return { text: await conn.waitStop({ timeoutMs: Math.min(left, INTERRUPT_RESEND_MS) }), resent: sent > 1 };
      } catch (err) {
        if (!(err instanceof ProtocolError && err.code === RSP_ERROR.TIMEOUT)) throw err;
        if (left > INTERRUPT_RESEND_MS) {
          log.debug(2, 'no stop within %d ms of an interrupt; interrupting again', INTERRUPT_RESEND_MS);
          continue;
        }
        this.client.close();
        throw new ProtocolError(RSP_ERROR.TIMEOUT, `the GDB stub at ${this.client.where} did not stop the target within ${this.interruptTimeoutMs} ms of an interrupt; the connection was closed`, { cause: err });
      }
    }
  }

  protected override async _resume(signals: ReadonlyMap<number, number>): Promise<void> {
    const actions: ResumeAction[] = [];
    for (const [tid, sig] of signals) actions.push({ action: 'c', signal: linuxToGdbSignal(sig), thread: this.idOf(tid) });
    actions.push({ action: 'c' });
    await this.client.resume(actions);
  }

  protected override async _wait(signal?: AbortSignal): Promise<StopEvent[]> {
    for (;;) {
      const stop = this.parse(await this.client.connection.waitStop(signal ? { signal } : {}));
      const events = await this.settle(stop);
      if (events) return events;
    }
  }

  protected override async _poll(): Promise<StopEvent[]> {
    for (;;) {
      const text = this.client.connection.takeStop();
      if (text === undefined) return [];
      const events = await this.settle(this.parse(text));
      if (events) return events;
    }
  }

  /**
   * Turns a stop into events, or swallows the one late SIGINT an interrupt can
   * leave behind when the target stopped on its own just before the `\x03`
   * arrived (gdbserver then signals the stopped process): the target is resumed
   * and undefined returned.
   */
  private async settle(stop: StopReply): Promise<StopEvent[] | undefined> {
    if (this.interruptPending && this.isInterruptStop(stop)) {
      this.interruptPending = false;
      log.debug(3, 'swallowing the SIGINT of an earlier interrupt');
      await this.client.resume([{ action: 'c' }]);
      return undefined;
    }
    return this.toEvents(stop);
  }

  protected override async _step(tid: number): Promise<StopEvent[]> {
    const id = this.idOf(tid);
    const from = this.memBreakpoints.size ? (await this._getRegisters(tid)).pc : undefined;
    await this.client.resume([{ action: 's', thread: id }]);
    const conn = this.client.connection;
    let text: string;
    try {
      text = await conn.waitStop({ timeoutMs: this.stepTimeoutMs });
    } catch (err) {
      if (!(err instanceof ProtocolError) || err.code !== RSP_ERROR.TIMEOUT) throw err;
      // A step that blocks (a system call that waits) is interrupted, not waited for forever.
      log.debug(2, 'single step of %d did not finish within %d ms; interrupting', tid, this.stepTimeoutMs);
      const events = await this._pause();
      return events.length ? events : [{ kind: 'interrupted', tid }];
    }
    const stop = this.parse(text);
    if (this.interruptPending && this.isInterruptStop(stop)) {
      // The late SIGINT of a repeated interrupt came instead of the step: the step is still to do.
      this.interruptPending = false;
      log.debug(3, 'swallowing the SIGINT of an earlier interrupt; stepping again');
      return this._step(tid);
    }
    return this.toEvents(stop, { tid, from });
  }

  /**
   * Detaches (`D;PID` under multiprocess, else `D`). A stub that takes
   * `QProgramSignals` is first told which signals may go to the program: gdbserver
   * then delivers a thread's pending stop signal on detach only when core asks
   * for it (core passes the signals nobody suppressed).
   */
  protected override async _detach(signals: ReadonlyMap<number, number>): Promise<void> {
    if (this.client.features.supported.get('QProgramSignals') === true) {
      const pass = [...new Set(signals.values())].map((s) => linuxToGdbSignal(s).toString(16));
      await this.client.ok(`QProgramSignals:${pass.join(';')}`);
    }
    const pids = this.pids();
    if (pids.length) for (const pid of pids) await this.client.detach(pid);
    else await this.client.detach();
    this.client.close();
  }

  protected override async _kill(): Promise<void> {
    const pids = this.pids();
    if (pids.length) for (const pid of pids) await this.client.kill(pid);
    else await this.client.kill();
    this.client.close();
  }

  protected override async _close(): Promise<void> {
    this.client.close();
    await this.helper?.close();
  }

  protected override _cleanupSync(): void {
    // Best effort on exit paths: the packets reach the socket before the process ends.
    const conn = this.client.connection;
    if (conn.closedBy) return;
    conn.interrupt();
    for (const a of this.z0) conn.sendNoWait(`z0,${a.toString(16)},1`);
    for (const [addr, original] of this.swBreakpoints.entries()) {
      if (this.memBreakpoints.has(addr)) conn.sendNoWait(`M${addr.toString(16)},${original.length.toString(16)}:${Buffer.from(original).toString('hex')}`);
    }
    for (const p of this.hw.values()) conn.sendNoWait(`z${p.type},${p.spec.address.toString(16)},${p.spec.length.toString(16)}`);
    const pids = this.pids();
    if (pids.length && this.client.features.multiprocess) for (const pid of pids) conn.sendNoWait(`D;${pid.toString(16)}`);
    else conn.sendNoWait('D');
  }

  protected override async _configureEvents(interests: ReadonlySet<EventInterest>): Promise<void> {
    for (const i of interests) {
      if (i !== 'exit') throw new NotSupportedError(`${i} events`, this.driver);
    }
  }

  // -------------------------------------------------------------------- threads

  protected override async _listThreads(): Promise<ThreadInfo[]> {
    if (this.client.connection.state === 'running') return this.lastThreads.map((t) => ({ ...t, state: 'running' }));
    const list = await this.client.threads();
    this.ids.clear();
    this.lastThreads = list.map((t) => {
      this.remember(t.id);
      return {
        tid: t.id.tid,
        state: 'stopped',
        ...(t.name ? { name: t.name } : {}),
        ...(t.id.pid !== undefined ? { pid: t.id.pid } : {}),
      };
    });
    return this.lastThreads;
  }

  private remember(id: ThreadId): void {
    if (id.tid > 0) this.ids.set(id.tid, id);
  }

  private idOf(tid: number): ThreadId {
    const id = this.ids.get(tid);
    if (!id) throw new NoSuchThreadError(tid);
    return id;
  }

  /** Process ids behind the stub (multiprocess stubs only). */
  private pids(): number[] {
    return [...new Set([...this.ids.values()].flatMap((i) => (i.pid !== undefined && i.pid > 0 ? [i.pid] : [])))];
  }

  // ------------------------------------------------------------------ registers

  override async _getRegisters(tid: number): Promise<RegisterSet> {
    this.requireStopped('read registers');
    const block = await this.client.readRegisters(this.idOf(tid));
    const regs = new RegisterSet(this.arch);
    for (const r of this.client.layout.registers) {
      if (!r.archName || r.offset + r.size > block.bytes.length) continue;
      if (block.unavailable.subarray(r.offset, r.offset + r.size).some((x) => x)) continue;
      regs.set(r.archName, leValue(block.bytes.subarray(r.offset, r.offset + r.size)));
    }
    if (this.helper?.extraRegisters) {
      for (const [name, value] of Object.entries(await this.helper.extraRegisters(tid))) {
        const desc = this.arch.findRegister(name);
        if (desc && !regs.has(desc)) regs.set(desc, value);
      }
    }
    return regs;
  }

  override async _setRegisters(tid: number, regs: RegisterSet, changed: readonly string[]): Promise<void> {
    this.requireStopped('write registers');
    const id = this.idOf(tid);
    const layout = this.client.layout;
    const writes = changed.map((name) => {
      const r = layout.byArchName(name);
      if (!r) throw new RegisterError(`register ${name} cannot be written through the GDB stub at ${this.client.where}`);
      return { r, bytes: leBytes(regs.require(name), r.size) };
    });
    let viaG = false;
    for (const w of writes) {
      if (!(await this.client.writeRegister(id, w.r.regnum, w.bytes))) {
        viaG = true;
        break;
      }
    }
    if (!viaG) return;
    const block = await this.client.readRegisters(id);
    for (const w of writes) block.bytes.set(w.bytes, w.r.offset);
    await this.client.writeRegisters(id, block.bytes);
  }

  // --------------------------------------------------------------------- memory

  protected override async _read(space: AddressSpace, address: Addr, buf: Uint8Array): Promise<number> {
    this.requireStopped('read memory');
    if (space.kind === 'physical') {
      if (!this.machine) throw new NotSupportedError('physical memory (it needs a machine helper such as --qemu)', this.driver);
      return this.machine.readPhysical(address, buf);
    }
    if (this.machine) {
      const n = await this.machine.readVirtual(space, address, buf);
      if (n !== undefined) return n;
    }
    if (space.pageTableRoot !== undefined) throw new NotSupportedError('other address spaces (page-table walks need a machine helper such as --qemu)', this.driver);
    return this.stubRead(address, buf);
  }

  /**
   * Reads through `m` in reply-sized chunks. A stub refuses a whole request when
   * any byte is unreadable (QEMU) or returns the readable prefix (gdbserver); a
   * refused chunk is retried page by page so the count returned stops exactly
   * at the first unreadable page.
   */
  private async stubRead(address: Addr, buf: Uint8Array): Promise<number> {
    let done = 0;
    const max = this.client.maxRead;
    while (done < buf.length) {
      const at = address + BigInt(done);
      const want = Math.min(max, buf.length - done);
      const got = await this.readChunk(at, want);
      if (got === undefined) {
        const toPage = Number(PAGE - (at % PAGE));
        if (want <= toPage) return done;
        // The chunk spans pages: find the first bad one.
        let pos = 0;
        while (pos < want) {
          const n = Math.min(want - pos, Number(PAGE - ((at + BigInt(pos)) % PAGE)));
          const part = await this.readChunk(at + BigInt(pos), n);
          if (!part) return done + pos;
          buf.set(part, done + pos);
          pos += part.length;
          if (part.length < n) return done + pos;
        }
        done += pos;
        continue;
      }
      buf.set(got, done);
      done += got.length;
      if (got.length < want) return done;
    }
    return done;
  }

  private async readChunk(address: Addr, length: number): Promise<Uint8Array | undefined> {
    try {
      return await this.client.readMemory(address, length);
    } catch (err) {
      if (err instanceof StubError) return undefined;
      throw err;
    }
  }

  protected override async _write(space: AddressSpace, address: Addr, data: Uint8Array): Promise<number> {
    this.requireStopped('write memory');
    if (space.kind === 'physical') {
      if (!this.machine) throw new NotSupportedError('physical memory (it needs a machine helper such as --qemu)', this.driver);
      return this.machine.writePhysical(address, data);
    }
    const bytes = this.keepStubBreakpointsOut(address, data);
    if (this.machine && space.pageTableRoot !== undefined) {
      const n = await this.machine.writeVirtual(space, address, bytes);
      if (n !== undefined) return n;
    }
    if (space.pageTableRoot !== undefined) throw new NotSupportedError('other address spaces (page-table walks need a machine helper such as --qemu)', this.driver);
    return this.stubWrite(address, bytes);
  }

  /** Writes through `X`/`M` in packet- and page-sized pieces; returns the bytes written before a refusal. */
  private async stubWrite(address: Addr, bytes: Uint8Array): Promise<number> {
    let done = 0;
    while (done < bytes.length) {
      // Page-sized at most, so a refused write stops the count at the first unwritable page.
      const n = Math.min(this.client.maxWrite(bytes, done), Number(PAGE - ((address + BigInt(done)) % PAGE)));
      try {
        await this.client.writeMemory(address + BigInt(done), bytes.subarray(done, done + n));
      } catch (err) {
        if (err instanceof StubError) return done;
        throw err;
      }
      done += n;
    }
    return done;
  }

  /**
   * Core keeps trap bytes in place when a write covers a breakpoint; for `Z0`
   * breakpoints the stub keeps the trap itself and takes written bytes as the
   * new original, so those positions get the (updated) original bytes instead.
   */
  private keepStubBreakpointsOut(address: Addr, data: Uint8Array): Uint8Array {
    if (!this.z0.size) return data;
    const end = address + BigInt(data.length);
    let out = data;
    for (const [a, original] of this.swBreakpoints.entries()) {
      if (!this.z0.has(a) || !original.length || a < address || a >= end) continue;
      if (out === data) out = Uint8Array.from(data);
      out[Number(a - address)] = original[0]!;
    }
    return out;
  }

  // ---------------------------------------------------------------- breakpoints

  override async _insertSwBreakpoint(address: Addr): Promise<Uint8Array> {
    if (!this.memoryBreakpoints && !this.client.pointUnsupported(PointType.Software)) {
      // A machine's Z0 leaves guest memory alone and fires at a virtual address on every
      // vCPU, whatever address space is current (a process's breakpoint may be placed while
      // another runs): no byte to keep, none shown in its place.
      if (this.helper?.machine) {
        if (await this.client.insertPoint(PointType.Software, address, 1)) {
          this.z0.add(address);
          return new Uint8Array(0);
        }
      } else {
        const original = new Uint8Array(1);
        if ((await this.stubRead(address, original)) < 1) throw new MemoryError(address, 0, `cannot insert a breakpoint at 0x${address.toString(16)}`);
        if (await this.client.insertPoint(PointType.Software, address, 1)) {
          this.z0.add(address);
          return original;
        }
      }
    }
    const original = await super._insertSwBreakpoint(address);
    this.memBreakpoints.add(address);
    return original;
  }

  override async _removeSwBreakpoint(address: Addr, original: Uint8Array): Promise<void> {
    if (this.z0.delete(address)) {
      await this.client.removePoint(PointType.Software, address, 1);
      return;
    }
    this.memBreakpoints.delete(address);
    await super._removeSwBreakpoint(address, original);
  }

  /**
   * Hardware slots map to `Z1`–`Z4`, which a stub applies to every thread: a
   * slot restricted to one thread is programmed for all, and clearing a slot
   * for one thread (to step past an execute breakpoint) clears it for all while
   * only that thread runs.
   */
  override async _setHwDebug(slot: number, spec: HwDebugSpec | null, _tid?: number): Promise<void> {
    const cur = this.hw.get(slot);
    if (cur && spec && cur.spec.address === spec.address && cur.spec.access === spec.access && cur.spec.length === spec.length) return;
    if (cur) {
      await this.client.removePoint(cur.type, cur.spec.address, cur.spec.length);
      this.hw.delete(slot);
    }
    if (!spec) return;
    const type = pointType(spec.access);
    let ok: boolean;
    try {
      ok = await this.client.insertPoint(type, spec.address, spec.length);
    } catch (err) {
      if (err instanceof StubError) throw new NotSupportedError(`a hardware ${spec.access === 'exec' ? 'breakpoint' : 'watchpoint'} at 0x${spec.address.toString(16)} (${err.message})`, this.driver);
      throw err;
    }
    if (!ok) throw new NotSupportedError(`hardware ${spec.access === 'exec' ? 'breakpoints' : `${spec.access} watchpoints`} (the stub has no Z${type})`, this.driver);
    this.hw.set(slot, { spec, type });
  }

  // ---------------------------------------------------------- regions & modules

  protected override async _regions(space: AddressSpace): Promise<Region[]> {
    if (space.kind === 'physical' || space.pageTableRoot !== undefined) return [];
    if (this.helper?.machine) return this.mainImageRegions();
    const maps = await this.procMaps();
    if (maps) return maps;
    const main = await this.mainPath();
    if (!main) return [];
    return (await placeImages(this.imageContext(), main)).regions;
  }

  protected override async _modules(): Promise<LoadedModule[]> {
    const main = await this.mainPath();
    if (this.helper?.machine) {
      const image = main ? readImage(main, this.openPath(main)) : undefined;
      return image ? [imageModule(image, 0n, true)] : [];
    }
    const maps = await this.procMaps();
    if (maps) return modulesFromRegions(maps, { ...(main ? { mainPath: main } : {}), openPath: (p) => this.openPath(p) });
    if (!main) return [];
    return (await placeImages(this.imageContext(), main)).modules;
  }

  private mainImageRegions(): Region[] {
    const image = this.mainFilename ? readImage(this.mainFilename, this.openPath(this.mainFilename)) : undefined;
    return image ? imageRegions(image, 0n) : [];
  }

  /** `/proc/PID/maps` through the stub's host I/O, when it has that and a pid is known. */
  private async procMaps(): Promise<Region[] | undefined> {
    const [pid] = this.pids();
    if (pid === undefined || this.client.connection.state === 'running') return undefined;
    try {
      return parseProcMaps(Buffer.from(await this.client.readStubFile(`/proc/${pid}/maps`)).toString('utf8'));
    } catch (err) {
      if (err instanceof StubError || err instanceof UnsupportedPacketError) return undefined;
      throw err;
    }
  }

  /** The main program: `-M`, else what the stub says it runs (`qXfer:exec-file`). */
  private async mainPath(): Promise<string | undefined> {
    if (this.mainFilename) return this.mainFilename;
    if (this.execFile !== undefined) return this.execFile || undefined;
    this.execFile = '';
    if (this.client.features.supported.get('qXfer:exec-file:read') === true && this.client.connection.state !== 'running') {
      const [pid] = this.pids();
      try {
        this.execFile = Buffer.from(await this.client.xferRead('exec-file', pid === undefined ? '' : pid.toString(16))).toString('utf8');
      } catch (err) {
        if (!(err instanceof StubError)) throw err;
      }
    }
    return this.execFile || undefined;
  }

  private openPath(p: string): string {
    return this.rootPrefix ? path.join(this.rootPrefix, p) : p;
  }

  private imageContext() {
    return {
      read: (a: Addr, n: number) => this.read(a, n),
      readString: (a: Addr) => this.readString(a),
      xfer: async (object: string, annex: string) => {
        if (this.client.features.supported.get(`qXfer:${object}:read`) !== true) return undefined;
        return this.client.xferRead(object, annex);
      },
      openPath: (p: string) => this.openPath(p),
    };
  }

  // ----------------------------------------------------------- stops → events

  private parse(text: string): StopReply {
    const stop = parseStopReply(text);
    if (!stop) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub at ${this.client.where} sent a malformed stop reply: ${text.slice(0, 60)}`);
    if (stop.kind === 'signal' && stop.thread) this.remember(stop.thread);
    return stop;
  }

  private isInterruptStop(stop: StopReply): boolean {
    return stop.kind === 'signal' && (stop.signal === SIGINT || stop.signal === 0) && !stop.reason;
  }

  /**
   * The pc of a stopped thread: from the stop reply's expedited registers, else
   * with `p` (one register rather than QEMU's kilobyte of `g`), else from `g`.
   */
  private async stopPc(stop: Extract<StopReply, { kind: 'signal' }>, tid: number): Promise<Addr> {
    const rip = this.client.layout.byArchName('rip')!;
    const sent = stop.registers.get(rip.regnum) ?? (await this.client.readRegister(this.idOf(tid), rip.regnum));
    if (sent && sent.length === rip.size) return leValue(sent);
    return (await this._getRegisters(tid)).require('rip');
  }

  /**
   * Maps a stop reply to core stop events. A `SIGTRAP` is a breakpoint when the
   * pc is at a stub (`Z0`) breakpoint (the stub reports the pc already moved
   * back), or just past one written into memory (the pc is then moved back);
   * a hardware hit when the stub names a watched address or a hardware
   * breakpoint; a step when a step was asked for; else a plain signal.
   */
  private async toEvents(stop: StopReply, step?: { tid: number; from: Addr | undefined }): Promise<StopEvent[]> {
    switch (stop.kind) {
      case 'exited':
        return [{ kind: 'exited', status: { code: stop.code } }];
      case 'killed':
        return [{ kind: 'exited', status: { signal: gdbToLinuxSignal(stop.signal) } }];
      case 'thread-exited':
        return stop.thread ? [{ kind: 'thread-exited', tid: stop.thread.tid }] : [];
      case 'no-resumed':
        return [{ kind: 'interrupted' }];
      case 'signal':
        break;
    }
    const tid = stop.thread?.tid ?? step?.tid ?? this.lastThreads[0]?.tid;
    if (tid === undefined) return [{ kind: 'interrupted' }];
    if (stop.signal === 0) return [{ kind: 'interrupted', tid }];
    if (stop.signal !== SIGTRAP) return [{ kind: 'signal', tid, signal: gdbToLinuxSignal(stop.signal) }];
    const events: StopEvent[] = [];
    const reason = stop.reason;
    if (reason && (reason.kind === 'watch' || reason.kind === 'rwatch' || reason.kind === 'awatch')) {
      const hit = this.watchSlot(reason.address);
      if (hit) events.push({ kind: 'hw-debug', tid, slot: hit.slot, address: reason.address, access: hit.access });
      else events.push({ kind: 'signal', tid, signal: SIGTRAP });
      if (step && step.tid === tid) events.push({ kind: 'step', tid });
      return events;
    }
    const pc = await this.stopPc(stop, tid);
    const stepping = step !== undefined && step.tid === tid;
    const execSlot = [...this.hw].find(([, p]) => p.type === PointType.Hardware && p.spec.address === pc);
    if (execSlot && (reason?.kind === 'hwbreak' || (!stepping && reason?.kind !== 'swbreak'))) {
      return [{ kind: 'hw-debug', tid, slot: execSlot[0], address: pc, access: 'exec' }];
    }
    // A stub that reports `swbreak` has already moved the pc back onto the trap, for its
    // own breakpoints and for int3s written into memory alike.
    if (reason?.kind === 'swbreak' && (this.z0.has(pc) || this.memBreakpoints.has(pc))) return [{ kind: 'breakpoint', tid, address: pc }];
    if (this.z0.has(pc) && !stepping && !this.client.features.swbreak) return [{ kind: 'breakpoint', tid, address: pc }];
    const at = pc - 1n;
    if (reason?.kind !== 'swbreak' && this.memBreakpoints.has(at) && (!stepping || step.from === at)) {
      await this._setRegisters(tid, new RegisterSet(this.arch, [['rip', at]]), ['rip']);
      return [{ kind: 'breakpoint', tid, address: at }];
    }
    if (stepping) return [{ kind: 'step', tid }];
    return [{ kind: 'signal', tid, signal: SIGTRAP }];
  }

  private watchSlot(address: Addr): { slot: number; access: DebugAccess } | undefined {
    for (const [slot, p] of this.hw) {
      if (p.type === PointType.Hardware) continue;
      if (address >= p.spec.address && address < p.spec.address + BigInt(p.spec.length)) return { slot, access: p.spec.access };
    }
    return undefined;
  }

  private requireStopped(op: string): void {
    if (this.client.connection.state === 'running') {
      throw new TargetStateError(`cannot ${op} of ${this.name} while it runs: a GDB stub answers only when the target is stopped`);
    }
  }
}
