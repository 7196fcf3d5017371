import { EventEmitter, on } from 'node:events';
import type { Arch } from '../arch/x86-64.js';
import type { RegisterSet } from '../arch/register-set.js';
import { AbortError, MemoryError, NoSuchThreadError, NotSupportedError, TargetStateError } from '../errors.js';
import { registerForCleanup, withInterrupt } from '../cleanup/cleanup.js';
import { getLogger } from '../log/logger.js';
import { syscallName } from '../syscalls/decode.js';
import { VIRTUAL_SPACE, type AddressSpace } from './address-space.js';
import { SoftwareBreakpoints, HardwareDebugSlots } from './breakpoints.js';
import { MemoryCache } from './memory-cache.js';
import { Thread } from './thread.js';
import type {
  Addr,
  EventInterest,
  ExitStatus,
  HwDebugSpec,
  LoadedModule,
  Region,
  StopEvent,
  TargetCapabilities,
  TargetStatus,
  ThreadInfo,
} from './types.js';
import type { TargetSpec } from '../registry/spec.js';
import type { OsModel } from '../personality.js';

const log = getLogger('T_TARGET');

/** A signal stop as user code sees it; set `deliver` to false to suppress it. */
export interface SignalEvent {
  readonly thread: Thread;
  readonly signal: number;
  /** Delivered to the thread on the next resume unless a listener clears it. */
  deliver: boolean;
}

/** Typed events every target emits (listen with `on`, or iterate with `events()`). */
export interface TargetEventMap {
  'state-change': [{ from: TargetStatus; to: TargetStatus }];
  'thread-created': [{ thread: Thread; parentTid: number }];
  'thread-exited': [{ tid: number; status?: ExitStatus }];
  /** A process forked; `child` is its target when forks are followed ({@link Target.followForks}). */
  fork: [{ thread: Thread; childPid: number; vfork: boolean; child?: Target }];
  exec: [{ thread: Thread; path?: string }];
  signal: [SignalEvent];
  /** A system call starts: its number, name (from the x86-64 table) and raw arguments (decode with `decodeSyscallArgs`). */
  'syscall-enter': [{ thread: Thread; nr: number; name: string; args: readonly bigint[] }];
  /** A system call returns (decode the value with `decodeSyscallReturn`). */
  'syscall-exit': [{ thread: Thread; nr: number; name: string; ret: bigint }];
  exited: [{ status: ExitStatus }];
}

/** Constructor arguments shared by every target. */
export interface TargetInit {
  /** Numeric id (`-i`), unique among the targets of one program. */
  readonly id: number;
  /** Driver name (`ptrace`, `gdb`, ...). */
  readonly driver: string;
  readonly arch: Arch;
  readonly capabilities: TargetCapabilities;
  /** The spec it was created from, when it came from options. */
  readonly spec?: TargetSpec;
  /** Base target, for overlays. */
  readonly base?: Target;
  /** Memory cache line size used while paused; 0 disables the cache. */
  readonly memoryCacheLine?: number;
}

/**
 * Something a handler of stop events (the probe layer, a personality) can ask the
 * target to do once it has seen the events: keep running, or return to the caller.
 */
export type StopDecision = 'resume' | 'stop';

/** A consumer of raw stops, run before events are emitted (the probe layer is one). */
export interface StopHandler {
  /**
   * Sees one raw stop while the target is paused. Returns `true` when it consumed
   * the event (it is then not emitted as a user event), and may ask to stop.
   */
  handleStop(target: Target, event: StopEvent): Promise<{ consumed: boolean; decision?: StopDecision } | undefined>;
}

/** What happens to the children a target forks (see {@link Target.followForks}). */
export interface ForkPolicy {
  /** Children become targets of their own, stopped, passed in the `fork` event. */
  readonly follow: boolean;
  /** A followed (non-vfork) child gets copies of its parent's probes. */
  readonly inheritProbes: boolean;
}

/** Result of {@link Target.monitor}. */
export interface MonitorResult {
  readonly reason: 'exited' | 'stopped' | 'aborted' | 'detached';
  readonly status?: ExitStatus;
}

/**
 * A debugging target: a process, a machine, a process inside a machine, a
 * language runtime. Public methods validate the state and arguments and then call
 * the protected `_method()`s a driver implements (after abstract-level); what a
 * driver cannot do is stated in {@link capabilities} and throws
 * `NotSupportedError` (`ERR_NOT_SUPPORTED`).
 *
 * Execution is all-stop: when the target is paused every thread is stopped.
 * Memory reads while paused go through a line cache; software breakpoints are
 * hidden from reads (their original bytes are shown).
 */
export abstract class Target extends EventEmitter<TargetEventMap> {
  readonly id: number;
  readonly driver: string;
  readonly arch: Arch;
  readonly capabilities: TargetCapabilities;
  readonly spec?: TargetSpec;
  readonly base?: Target;
  readonly overlays: Target[] = [];
  /** Inserted software breakpoints (shared machinery; drivers may override insertion). */
  readonly swBreakpoints: SoftwareBreakpoints;
  /** Allocation of hardware debug slots. */
  readonly hwSlots: HardwareDebugSlots;

  private statusValue: TargetStatus = 'new';
  private readonly threadMap = new Map<number, Thread>();
  private readonly cache?: MemoryCache;
  private readonly stopHandlers: StopHandler[] = [];
  private readonly pending: StopEvent[] = [];
  private readonly interests = new Set<EventInterest>();
  /** Signals to deliver on the next resume, per thread. */
  private readonly pendingSignals = new Map<number, number>();
  /** Threads that stopped on a software breakpoint and must step over it when resumed. */
  private readonly onBreakpoint = new Map<number, Addr>();
  /** Threads that stopped on an execute hardware breakpoint (slot) and must step past it. */
  private readonly onHwBreakpoint = new Map<number, number>();
  /** Threads whose registers were written since they stopped (their pc may have moved). */
  private readonly registersWritten = new Set<number>();
  private exitStatus?: ExitStatus;
  private forkPolicyValue: ForkPolicy = { follow: false, inheritProbes: false };
  /** Followed fork children by pid. */
  private readonly children = new Map<number, Target>();
  private parentTarget?: Target;
  /** Set once detach() starts: from then on nothing resumes the target. */
  private detaching?: Promise<void>;
  private osModel?: OsModel;

  constructor(init: TargetInit) {
    super();
    this.id = init.id;
    this.driver = init.driver;
    this.arch = init.arch;
    this.capabilities = init.capabilities;
    if (init.spec) this.spec = init.spec;
    if (init.base) this.base = init.base;
    if (init.memoryCacheLine) this.cache = new MemoryCache(init.memoryCacheLine);
    this.swBreakpoints = new SoftwareBreakpoints(this);
    this.hwSlots = new HardwareDebugSlots(this, init.capabilities.hwDebugSlots);
  }

  /** A name for listings, e.g. `ptrace(1234)`. */
  abstract get name(): string;

  /** The OS model of an attached personality (`--personality`): tasks, address spaces, modules. */
  get os(): OsModel | undefined {
    return this.osModel;
  }

  /** What tools list: the tasks of an attached OS personality, else the driver's threads. */
  tasksOrThreads(): Promise<Thread[]> {
    return this.osModel ? this.osModel.threads() : this.threads();
  }

  /** Gives the target the OS model a personality made of it; detach() detaches the model first. */
  attachOs(model: OsModel): void {
    this.osModel = model;
  }

  get status(): TargetStatus {
    return this.statusValue;
  }

  /** How the target ended, once it has exited. */
  get exit(): ExitStatus | undefined {
    return this.exitStatus;
  }

  /** `-s`: code probes must use software breakpoints (drivers may override). */
  get softBreakpoints(): boolean {
    return this.spec?.common.softBreakpoints ?? false;
  }

  /** How fork children are handled. */
  get forkPolicy(): ForkPolicy {
    return this.forkPolicyValue;
  }

  /**
   * Follows fork children (ctlmux's inheritance): each becomes a target of its
   * own, opened and stopped, given in the `fork` event (and by
   * {@link childTarget}); with `inheritProbes` it carries copies of this
   * target's probes (a vfork child, which runs in its parent's memory until it
   * execs, carries none). Not following (the default), children are cleaned of
   * breakpoints and let go. Needs a driver that can adopt children.
   */
  async followForks(opts: { inheritProbes?: boolean; follow?: boolean } = {}): Promise<void> {
    const follow = opts.follow ?? true;
    if (follow && !this.capabilities.processEvents) throw new NotSupportedError('following forks', this.driver);
    this.forkPolicyValue = { follow, inheritProbes: follow && (opts.inheritProbes ?? false) };
    if (follow) await this.requestEvents('fork');
  }

  /** The target of a followed fork child, by pid. */
  childTarget(pid: number): Target | undefined {
    return this.children.get(pid);
  }

  /** The followed children still attached. */
  childTargets(): Target[] {
    return [...this.children.values()].filter((c) => c.status !== 'closed' && c.status !== 'detached');
  }

  /** For a followed fork child: the target it was forked from. */
  get forkParent(): Target | undefined {
    return this.parentTarget;
  }

  /** The default address space for reads and writes. */
  get defaultSpace(): AddressSpace {
    return VIRTUAL_SPACE;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Attaches to or launches the target. On success it is paused. */
  async open(): Promise<void> {
    if (this.statusValue !== 'new') throw new TargetStateError(`${this.name} is already open`);
    await this._open();
    this.setStatus('paused');
    log.debug(1, 'opened %s', this.name);
  }

  /** Stops every thread. Events that arrive meanwhile are kept for the next {@link wait}. */
  async pause(): Promise<void> {
    if (this.statusValue === 'paused') return;
    this.requireStatus('running', 'pause');
    const events = await this._pause();
    this.pending.push(...events);
    this.afterStop();
  }

  /**
   * Resumes every thread; threads sitting on breakpoints step over them first.
   * When stop events are pending (reported earlier, or raised while stepping over
   * a breakpoint) the target stays paused and the next {@link wait} returns them.
   */
  async resume(): Promise<void> {
    if (this.detaching) return;
    this.requireStatus('paused', 'resume');
    this.requireExecution('resume');
    if (this.pending.length) return;
    await this.stepOverBreakpoints();
    if (this.pending.length || this.detaching) return;
    const signals = new Map(this.pendingSignals);
    this.pendingSignals.clear();
    this.invalidate();
    await this._resume(signals);
    this.setStatus('running');
  }

  /** Single-steps one thread while the others stay stopped; returns the stops it caused. */
  async step(thread: Thread | number): Promise<StopEvent[]> {
    this.requireStatus('paused', 'step');
    if (!this.capabilities.singleStep) throw new NotSupportedError('single-step', this.driver);
    const tid = typeof thread === 'number' ? thread : thread.tid;
    await this.thread(tid);
    const events = await this.stepPastBreakpoint(tid);
    // Anything but the step itself (a signal, an exit) is handled by the next wait().
    this.pending.push(...events.filter((e) => e.kind !== 'step'));
    return events;
  }

  /**
   * Waits until the running target stops, then dispatches the stops to the stop
   * handlers (probes) and emits the remaining ones as events. Returns the raw stops
   * and whether a handler asked to stop.
   */
  async wait(opts: { signal?: AbortSignal } = {}): Promise<{ events: StopEvent[]; decision: StopDecision }> {
    let events: StopEvent[];
    if (this.pending.length) {
      events = this.pending.splice(0);
    } else {
      this.requireStatus('running', 'wait');
      events = await this._wait(opts.signal);
      this.afterStop();
    }
    const decision = await this.dispatch(events);
    return { events, decision };
  }

  /**
   * Handles pending stops without blocking: when the target has stopped since it
   * was last resumed, dispatches the stops and returns them; otherwise returns [].
   */
  async poll(): Promise<StopEvent[]> {
    if (!this.pending.length && this.statusValue === 'running') {
      const ready = await this._poll();
      if (!ready.length) return [];
      this.afterStop();
      this.pending.push(...ready);
    }
    if (!this.pending.length) return [];
    return (await this.wait()).events;
  }

  /**
   * Runs the target, handling stops, until it exits, a handler asks to stop, or
   * `signal` aborts (the target is then paused). Idle monitoring costs no CPU.
   */
  async monitor(opts: { signal?: AbortSignal } = {}): Promise<MonitorResult> {
    // SIGINT aborts the monitor (returning control to the program) instead of killing it.
    const interrupt = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, interrupt.signal]) : interrupt.signal;
    return withInterrupt(() => interrupt.abort(), () => this.monitorLoop(signal));
  }

  private async monitorLoop(signal: AbortSignal): Promise<MonitorResult> {
    for (;;) {
      if (this.detaching) {
        await this.detaching;
        return { reason: 'detached' };
      }
      if (this.statusValue === 'exited') return this.exitStatus ? { reason: 'exited', status: this.exitStatus } : { reason: 'exited' };
      if (this.statusValue === 'detached' || this.statusValue === 'closed') return { reason: 'detached' };
      if (signal.aborted) {
        if (this.statusValue === 'running') await this.pause();
        if (this.pending.length) await this.wait();
        return { reason: 'aborted' };
      }
      if (this.statusValue === 'paused' && !this.pending.length) await this.resume();
      try {
        const { decision } = await this.wait({ signal });
        if (decision === 'stop' && (this.statusValue as TargetStatus) !== 'exited') return { reason: 'stopped' };
      } catch (err) {
        if (err instanceof AbortError) continue;
        throw err;
      }
    }
  }

  /** Removes every probe and breakpoint, restores debug registers, and lets the target go. */
  async detach(): Promise<void> {
    if (this.detaching) return this.detaching;
    if (this.statusValue === 'detached' || this.statusValue === 'closed' || this.statusValue === 'exited') return;
    const run = async () => {
      if (this.statusValue === 'running') await this.pause();
      for (const o of this.overlays) await o.detach();
      await this.osModel?.detach();
      await this.removeAllTraps();
      this.invalidate();
      // Signals the target received and nobody suppressed go with it.
      const signals = new Map(this.pendingSignals);
      for (const ev of this.pending.splice(0)) if (ev.kind === 'signal' && !signals.has(ev.tid)) signals.set(ev.tid, ev.signal);
      this.pendingSignals.clear();
      await this._detach(signals);
      this.setStatus('detached');
    };
    const done = run();
    this.detaching = done;
    // A failed detach may be retried; a finished one keeps the flag for good.
    done.catch(() => {
      if (this.detaching === done) this.detaching = undefined;
    });
    await done;
  }

  /** Kills the target. */
  async kill(): Promise<void> {
    if (!this.capabilities.kill) throw new NotSupportedError('kill', this.driver);
    if (this.statusValue === 'exited' || this.statusValue === 'closed') return;
    await this._kill();
    this.exitStatus ??= { signal: 9 };
    this.setStatus('exited');
  }

  /** Detaches if still attached and releases everything the target holds. */
  async close(): Promise<void> {
    if (this.statusValue === 'closed') return;
    try {
      if (this.statusValue === 'paused' || this.statusValue === 'running') await this.detach();
    } finally {
      await this._close();
      this.setStatus('closed');
    }
  }

  /**
   * Synchronous, best-effort removal of every trap and release of the target, for
   * process exit paths where nothing asynchronous can run.
   */
  cleanupSync(): void {
    if (this.statusValue === 'closed' || this.statusValue === 'detached' || this.statusValue === 'exited' || this.statusValue === 'new') return;
    this._cleanupSync();
  }

  // ------------------------------------------------------------------ memory

  /** Reads exactly `length` bytes; throws {@link MemoryError} naming the first unreadable address. */
  async read(address: Addr, length: number, opts: { space?: AddressSpace } = {}): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    const n = await this.readInto(address, out, opts);
    if (n < length) throw new MemoryError(address + BigInt(n), n);
    return out;
  }

  /** Reads up to `out.length` bytes and returns how many could be read before the first fault. */
  async readInto(address: Addr, out: Uint8Array, opts: { space?: AddressSpace } = {}): Promise<number> {
    this.requireOpen('read memory');
    const space = opts.space ?? this.defaultSpace;
    if (out.length === 0) return 0;
    let n: number;
    if (this.cache && this.statusValue === 'paused') {
      const ok = await this.cache.read(space.id, address, out, async (lineAddr, buf) => (await this._read(space, lineAddr, buf)) === buf.length);
      n = ok ? out.length : await this._read(space, address, out);
    } else {
      n = await this._read(space, address, out);
    }
    if (space.kind === 'virtual') this.swBreakpoints.shadow(address, out.subarray(0, n));
    return n;
  }

  /** Writes bytes; software breakpoints under the range are kept in place. */
  async write(address: Addr, data: Uint8Array, opts: { space?: AddressSpace } = {}): Promise<void> {
    this.requireOpen('write memory');
    if (this.capabilities.readOnly) throw new NotSupportedError('writing memory', this.driver);
    const space = opts.space ?? this.defaultSpace;
    this.cache?.clear();
    const bytes = space.kind === 'virtual' ? this.swBreakpoints.absorbWrite(address, data) : data;
    const n = await this._write(space, address, bytes);
    if (n < data.length) throw new MemoryError(address + BigInt(n), n);
  }

  /** Reads a NUL-terminated string of at most `max` bytes (decoded as UTF-8). */
  async readString(address: Addr, max = 4096, opts: { space?: AddressSpace } = {}): Promise<string> {
    const chunk = 256;
    const parts: Uint8Array[] = [];
    let total = 0;
    while (total < max) {
      const buf = new Uint8Array(Math.min(chunk - Number((address + BigInt(total)) % BigInt(chunk)), max - total));
      const n = await this.readInto(address + BigInt(total), buf, opts);
      const z = buf.subarray(0, n).indexOf(0);
      if (z >= 0) {
        parts.push(buf.subarray(0, z));
        return Buffer.concat(parts).toString('utf8');
      }
      parts.push(buf.subarray(0, n));
      total += n;
      if (n < buf.length) {
        if (total === 0) throw new MemoryError(address, 0);
        break;
      }
    }
    return Buffer.concat(parts).toString('utf8');
  }

  /** Reads an unsigned little-endian integer of `size` bytes (1, 2, 4, 8). */
  async readUnsigned(address: Addr, size: 1 | 2 | 4 | 8, opts: { space?: AddressSpace } = {}): Promise<bigint> {
    const b = await this.read(address, size, opts);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (size) {
      case 1: return BigInt(b[0]!);
      case 2: return BigInt(dv.getUint16(0, true));
      case 4: return BigInt(dv.getUint32(0, true));
      default: return dv.getBigUint64(0, true);
    }
  }

  /** Reads a pointer-sized word. */
  readPointer(address: Addr, opts: { space?: AddressSpace } = {}): Promise<bigint> {
    return this.readUnsigned(address, this.arch.wordSize as 8, opts);
  }

  /** The address spaces this target exposes. */
  async spaces(): Promise<AddressSpace[]> {
    return [this.defaultSpace];
  }

  /** Memory regions of an address space. */
  async regions(space: AddressSpace = this.defaultSpace): Promise<Region[]> {
    this.requireOpen('list regions');
    return this._regions(space);
  }

  /** Loaded objects (program, libraries, kernel, modules) with their load biases. */
  async modules(): Promise<LoadedModule[]> {
    this.requireOpen('list modules');
    return this._modules();
  }

  // ----------------------------------------------------------------- threads

  /** The target's threads, refreshed from the driver. */
  async threads(): Promise<Thread[]> {
    this.requireOpen('list threads');
    const infos = await this._listThreads();
    const seen = new Set<number>();
    for (const info of infos) {
      seen.add(info.tid);
      const t = this.threadMap.get(info.tid);
      if (t) t.update(info);
      else this.threadMap.set(info.tid, new Thread(this, info));
    }
    for (const tid of [...this.threadMap.keys()]) if (!seen.has(tid)) this.threadMap.delete(tid);
    return [...this.threadMap.values()];
  }

  /** One thread by id; throws NoSuchThreadError. */
  async thread(tid: number): Promise<Thread> {
    const t = this.threadMap.get(tid);
    if (t) return t;
    await this.threads();
    const again = this.threadMap.get(tid);
    if (!again) throw new NoSuchThreadError(tid);
    return again;
  }

  /** A thread known from the last listing or event, without asking the driver. */
  knownThread(tid: number): Thread | undefined {
    return this.threadMap.get(tid);
  }

  // ------------------------------------------------------ stop-event plumbing

  /** Adds a consumer of raw stops (the probe layer, a personality's active probes). */
  addStopHandler(handler: StopHandler): void {
    this.stopHandlers.push(handler);
  }

  removeStopHandler(handler: StopHandler): void {
    const i = this.stopHandlers.indexOf(handler);
    if (i >= 0) this.stopHandlers.splice(i, 1);
  }

  /** Asks the driver to report a class of events (sets ptrace options, enables syscall stops). */
  async requestEvents(interest: EventInterest): Promise<void> {
    if (this.interests.has(interest)) return;
    this.interests.add(interest);
    await this._configureEvents(new Set(this.interests));
  }

  /** The event classes currently requested. */
  get eventInterests(): ReadonlySet<EventInterest> {
    return this.interests;
  }

  /** Queues a signal for a thread, delivered on the next resume. */
  deliverSignal(tid: number, signal: number): void {
    this.pendingSignals.set(tid, signal);
  }

  /**
   * Marks that a thread is stopped on the software breakpoint at `address`
   * (so resuming steps over it). The probe layer calls it when it re-arms a
   * thread; drivers do not need to.
   */
  markOnBreakpoint(tid: number, address: Addr): void {
    this.onBreakpoint.set(tid, address);
  }

  /** @internal A thread's registers were written (Thread.setRegisters): its pc may have left the breakpoint. */
  noteRegistersWritten(tid: number): void {
    this.registersWritten.add(tid);
  }

  /**
   * Forgets that a thread stopped on a breakpoint, after a handler moved its pc
   * away (a forced return): resuming then must not step over anything.
   */
  forgetBreakpointStop(tid: number): void {
    this.onBreakpoint.delete(tid);
    this.onHwBreakpoint.delete(tid);
  }

  private async dispatch(events: StopEvent[]): Promise<StopDecision> {
    let decision: StopDecision = 'resume';
    for (const ev of events) {
      if (ev.kind === 'breakpoint') this.onBreakpoint.set(ev.tid, ev.address);
      if (ev.kind === 'hw-debug' && ev.access === 'exec') this.onHwBreakpoint.set(ev.tid, ev.slot);
      if (ev.kind === 'thread-created') await this.hwSlots.applyToThread(ev.tid);
      if (ev.kind === 'thread-exited') this.hwSlots.forgetThread(ev.tid);
      if ((ev.kind === 'fork' || ev.kind === 'vfork') && this.forkPolicyValue.follow) await this.adoptChild(ev.childPid, ev.kind === 'vfork');
      if (ev.kind === 'exec') {
        // The new image has neither our breakpoints nor our debug registers.
        this.swBreakpoints.forgetAll();
        this.hwSlots.forgetAll();
        this.onBreakpoint.clear();
        this.onHwBreakpoint.clear();
      }
      if (ev.kind === 'exited') {
        this.exitStatus = ev.status;
        this.swBreakpoints.forgetAll();
        this.setStatus('exited');
      }
      let consumed = false;
      for (const h of this.stopHandlers) {
        const r = await h.handleStop(this, ev);
        if (r?.decision === 'stop') decision = 'stop';
        if (r?.consumed) {
          consumed = true;
          break;
        }
      }
      if ((ev.kind === 'fork' || ev.kind === 'vfork')) {
        // Breakpoints the child inherited that no copied probe claimed are restored in its memory.
        const child = this.children.get(ev.childPid);
        if (child?.status === 'paused') await child.swBreakpoints.releaseInherited();
      }
      if (!consumed) decision = (await this.emitStop(ev)) ?? decision;
    }
    return decision;
  }

  /** Takes over a fork child as a target of its own (stopped), knowing the breakpoint bytes it inherited. */
  private async adoptChild(pid: number, vfork: boolean): Promise<void> {
    const child = await this._adoptChild(pid, vfork);
    if (!child) return;
    child.parentTarget = this;
    child.forkPolicyValue = this.forkPolicyValue;
    registerForCleanup(child);
    await child.open();
    if (!vfork) child.swBreakpoints.inherit(this.swBreakpoints.entries());
    if (this.forkPolicyValue.follow) await child.requestEvents('fork');
    for (const i of this.interests) await child.requestEvents(i);
    this.children.set(pid, child);
    child.on('state-change', ({ to }) => {
      if (to === 'closed') this.children.delete(pid);
    });
  }

  /** Turns an unconsumed raw stop into a typed user event. */
  private async emitStop(ev: StopEvent): Promise<StopDecision | undefined> {
    switch (ev.kind) {
      case 'thread-created': {
        const thread = await this.thread(ev.tid).catch(() => undefined);
        if (thread) this.emit('thread-created', { thread, parentTid: ev.parentTid });
        return undefined;
      }
      case 'thread-exited':
        this.threadMap.delete(ev.tid);
        this.onBreakpoint.delete(ev.tid);
        this.emit('thread-exited', ev.status ? { tid: ev.tid, status: ev.status } : { tid: ev.tid });
        return undefined;
      case 'fork':
      case 'vfork': {
        const child = this.children.get(ev.childPid);
        this.emit('fork', { thread: await this.thread(ev.tid), childPid: ev.childPid, vfork: ev.kind === 'vfork', ...(child ? { child } : {}) });
        return undefined;
      }
      case 'exec':
        this.emit('exec', ev.path === undefined ? { thread: await this.thread(ev.tid) } : { thread: await this.thread(ev.tid), path: ev.path });
        return undefined;
      case 'signal': {
        const e: SignalEvent = { thread: await this.thread(ev.tid), signal: ev.signal, deliver: true };
        this.emit('signal', e);
        if (e.deliver) this.pendingSignals.set(ev.tid, ev.signal);
        return undefined;
      }
      case 'syscall-enter':
        this.emit('syscall-enter', { thread: await this.thread(ev.tid), nr: ev.nr, name: syscallName(ev.nr), args: ev.args });
        return undefined;
      case 'syscall-exit':
        this.emit('syscall-exit', { thread: await this.thread(ev.tid), nr: ev.nr, name: syscallName(ev.nr), ret: ev.ret });
        return undefined;
      case 'exited':
        this.emit('exited', { status: ev.status });
        return 'stop';
      case 'interrupted':
        return 'stop';
      case 'breakpoint':
      case 'hw-debug':
      case 'step':
        // A trap nobody claims (a probe removed while the stop was in flight).
        return undefined;
    }
  }

  /**
   * Async iterator over one event type, ending when `signal` aborts:
   * `for await (const [e] of target.events('thread-created')) …`.
   */
  events<K extends keyof TargetEventMap>(name: K, opts: { signal?: AbortSignal } = {}): AsyncIterableIterator<TargetEventMap[K]> {
    return on(this as unknown as EventEmitter, name, opts) as AsyncIterableIterator<TargetEventMap[K]>;
  }

  // ------------------------------------------------------------ driver hooks

  /** Attach or launch; leave every thread stopped. */
  protected abstract _open(): Promise<void>;
  /** Stop every thread of a running target; return stops that were reported meanwhile. */
  protected abstract _pause(): Promise<StopEvent[]>;
  /** Resume every thread, delivering the given signals (tid → signal). */
  protected abstract _resume(signals: ReadonlyMap<number, number>): Promise<void>;
  /** Wait until the running target stops; stop all threads; return every stop that happened. */
  protected abstract _wait(signal?: AbortSignal): Promise<StopEvent[]>;
  /** Like `_wait` but never blocks: [] when nothing happened yet. */
  protected abstract _poll(): Promise<StopEvent[]>;
  /** Execute one instruction of one thread, the others staying stopped. */
  protected _step(_tid: number): Promise<StopEvent[]> {
    throw new NotSupportedError('single-step', this.driver);
  }
  /** Read into `buf`; return the number of bytes read before the first fault. */
  protected abstract _read(space: AddressSpace, address: Addr, buf: Uint8Array): Promise<number>;
  /** Write; return the number of bytes written before the first fault. */
  protected _write(_space: AddressSpace, _address: Addr, _data: Uint8Array): Promise<number> {
    throw new NotSupportedError('writing memory', this.driver);
  }
  protected abstract _listThreads(): Promise<ThreadInfo[]>;
  /** All registers the driver can give for a stopped thread. */
  abstract _getRegisters(tid: number): Promise<RegisterSet>;
  /** Write the given registers of a stopped thread. */
  _setRegisters(_tid: number, _regs: RegisterSet, _changed: readonly string[]): Promise<void> {
    throw new NotSupportedError('writing registers', this.driver);
  }
  protected abstract _regions(space: AddressSpace): Promise<Region[]>;
  protected abstract _modules(): Promise<LoadedModule[]>;
  /** Program (or clear, with null) one hardware debug slot on every thread, or on `tid` only. */
  _setHwDebug(_slot: number, _spec: HwDebugSpec | null, _tid?: number): Promise<void> {
    throw new NotSupportedError('hardware breakpoints', this.driver);
  }
  /**
   * Insert a software breakpoint. The default writes the architecture's trap
   * instruction through `_write`; stubs with their own breakpoints override it.
   * Returns the original bytes.
   */
  async _insertSwBreakpoint(address: Addr): Promise<Uint8Array> {
    const insn = this.arch.breakpointInstruction;
    const orig = new Uint8Array(insn.length);
    const n = await this._read(this.defaultSpace, address, orig);
    if (n < orig.length) throw new MemoryError(address + BigInt(n), n);
    const w = await this._write(this.defaultSpace, address, insn);
    if (w < insn.length) throw new MemoryError(address + BigInt(w), w, `cannot insert a breakpoint at 0x${address.toString(16)}`);
    return orig;
  }
  /**
   * Put a software breakpoint back after it was lifted for a step (its
   * original bytes are known). The default inserts it again.
   */
  async _reinsertSwBreakpoint(address: Addr): Promise<void> {
    await this._insertSwBreakpoint(address);
  }
  /** Remove a software breakpoint, restoring `original`. */
  async _removeSwBreakpoint(address: Addr, original: Uint8Array): Promise<void> {
    await this._write(this.defaultSpace, address, original);
  }
  /**
   * Make a target of a fork child the kernel attached (it is stopped, or will
   * stop, in its first trace stop); core opens it. Undefined when the driver
   * cannot (the child is then let go as when forks are not followed).
   */
  protected _adoptChild(_pid: number, _vfork: boolean): Promise<Target | undefined> {
    return Promise.resolve(undefined);
  }
  /** Tell the driver which event classes to report. */
  protected _configureEvents(_interests: ReadonlySet<EventInterest>): Promise<void> {
    return Promise.resolve();
  }
  /** Let the target go, leaving it running as it was before attach, delivering the given signals (tid → signal). */
  protected abstract _detach(signals: ReadonlyMap<number, number>): Promise<void>;
  protected _kill(): Promise<void> {
    throw new NotSupportedError('kill', this.driver);
  }
  /** Release resources (sockets, mappings, addon handles). */
  protected abstract _close(): Promise<void>;
  /** Synchronous last-resort cleanup: remove traps and detach without awaiting anything. */
  protected _cleanupSync(): void {}

  // --------------------------------------------------------------- internals

  /** Used by drivers when their target exits or dies. */
  protected markExited(status: ExitStatus): void {
    this.exitStatus = status;
    this.swBreakpoints.forgetAll();
    this.setStatus('exited');
  }

  /** Drops cached memory and registers (after the target ran or state was written). */
  invalidate(): void {
    this.cache?.clear();
    for (const t of this.threadMap.values()) t.invalidate();
  }

  private afterStop(): void {
    this.registersWritten.clear();
    this.invalidate();
    if (this.statusValue === 'running') this.setStatus('paused');
  }

  private async stepOverBreakpoints(): Promise<void> {
    const tids = new Set([...this.onBreakpoint.keys(), ...this.onHwBreakpoint.keys()]);
    for (const tid of tids) {
      const events = await this.stepPastBreakpoint(tid);
      // A step over a breakpoint can itself stop for something else (a signal, an exit);
      // those are handled by the next wait().
      this.pending.push(...events.filter((e) => e.kind !== 'step'));
    }
  }

  /**
   * Steps one thread, first lifting the breakpoint it sits on (restore byte,
   * step, re-insert; or disable its hardware slot for that thread) while every
   * other thread stays stopped.
   */
  private async stepPastBreakpoint(tid: number): Promise<StopEvent[]> {
    const addr = this.onBreakpoint.get(tid);
    const slot = this.onHwBreakpoint.get(tid);
    this.onBreakpoint.delete(tid);
    this.onHwBreakpoint.delete(tid);
    this.invalidate();
    if (addr !== undefined && this.swBreakpoints.has(addr)) {
      // Unless a handler wrote its registers, the thread is still where it stopped: on the breakpoint.
      const written = this.registersWritten.delete(tid);
      const pc = written ? await (await this.thread(tid)).pc() : addr;
      if (pc === addr) return this.swBreakpoints.withLifted(addr, () => this._step(tid));
    }
    if (slot !== undefined) return this.hwSlots.withSlotDisabled(tid, slot, () => this._step(tid));
    return this._step(tid);
  }

  private async removeAllTraps(): Promise<void> {
    await this.swBreakpoints.removeAll();
    await this.hwSlots.clearAll();
    this.onBreakpoint.clear();
    this.onHwBreakpoint.clear();
  }

  protected setStatus(to: TargetStatus): void {
    const from = this.statusValue;
    if (from === to) return;
    this.statusValue = to;
    this.emit('state-change', { from, to });
  }

  private requireStatus(s: TargetStatus, op: string): void {
    if (this.statusValue !== s) throw new TargetStateError(`cannot ${op} ${this.name}: it is ${this.statusValue}, not ${s}`);
  }

  private requireOpen(op: string): void {
    const s = this.statusValue;
    if (s === 'new' || s === 'closed' || s === 'detached') {
      throw new TargetStateError(`cannot ${op}: ${this.name} is ${s}`);
    }
  }

  private requireExecution(op: string): void {
    if (!this.capabilities.execution) throw new NotSupportedError(op, this.driver);
  }
}
