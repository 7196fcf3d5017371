import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { AbortError, TargetStateError, getLogger, type EventInterest, type ExitStatus, type HwDebugSpec, type StopEvent } from '@stackdb/core';
import { binding, type PtraceBinding } from './binding.js';
import { DR6_BS, dr7With, triggeredSlots } from './debug-registers.js';
import { ERRNO, PtraceError } from './errors.js';
import { ForkChild } from './fork-child.js';
import { reaper, type Reaper, type TraceeOwner } from './reaper.js';
import { USER_FPREGS_SIZE, USER_REGS_SIZE, pcOf, setPc } from './registers.js';
import { PTRACE_EVENT, SIG, TRAP, decodeWaitStatus, isStopSignal, type WaitStatus } from './wait-status.js';

const log = getLogger('T_LUP');

/*
 * All-stop control of one traced process.
 *
 * Every thread is in one of three states: running, listening (restarted with
 * PTRACE_LISTEN from a group-stop: the job stays stopped), or stopped (in a
 * ptrace-stop whose status was reaped). The process as a whole is in a phase:
 *
 *   running ──stop that means something──▶ collecting ──all stopped──▶ stopped
 *   stopped ──step(tid)──▶ stepping ──step done, newborns stopped──▶ stopped
 *   stopped ──resume()──▶ running          any ──last thread gone──▶ exited
 *
 * A stop "means something" when it yields a core StopEvent (breakpoint,
 * hardware trap, signal, exec, ...). The first such stop sends PTRACE_INTERRUPT
 * to every other running thread; each then reports either the interrupt trap
 * (PTRACE_EVENT_STOP) or whatever it was doing meanwhile, which is decoded and
 * added to the same batch, so two threads hitting breakpoints at once are both
 * reported. Stops that mean nothing (stale interrupt traps, a new thread's
 * first stop when thread events are not wanted, fork children) restart the
 * thread at once while running, and leave it stopped otherwise.
 *
 * Statuses arrive from the reaper (the waiter noticed them) or from bounded
 * synchronous spins right after PTRACE_INTERRUPT and PTRACE_SINGLESTEP, which
 * almost always finish within microseconds: a breakpoint round trip thus
 * costs one event-loop wake-up, not three.
 *
 * New threads are attached by the kernel (PTRACE_O_TRACECLONE) and start with
 * a PTRACE_EVENT_STOP that may arrive before or after their creator's
 * PTRACE_EVENT_CLONE; either order works. A group-stop (SIGSTOP and friends)
 * under PTRACE_SEIZE is reported as PTRACE_EVENT_STOP with the stop signal:
 * such a thread is restarted with PTRACE_LISTEN, so job control keeps working.
 */

const MODE = { CONT: 0, SYSCALL: 1, STEP: 2, LISTEN: 3 } as const;
/** How long to spin for threads answering PTRACE_INTERRUPT, and for a single-step. */
const STOP_SPIN_MS = 2;
const STEP_SPIN_MS = 2;
/**
 * How long resume() looks for an immediate stop before leaving it to the
 * waiter: a breakpoint in a tight loop is hit again within microseconds, and
 * reaping it here saves the waiter thread's and the event loop's wake-ups.
 */
const RESUME_SPIN_MS = 0.1;

type Phase = 'running' | 'collecting' | 'stepping' | 'stopped' | 'exited' | 'detached';

/** What the control needs to know from its target. */
export interface ControlHost {
  /** A software breakpoint is inserted at `address`. */
  isBreakpoint(address: bigint): boolean;
  /** A breakpoint was removed from `address` while its trap may still be in flight. */
  isRetired(address: bigint): boolean;
  /** Inserted breakpoints and their original bytes. */
  breakpoints(): [bigint, Uint8Array][];
  /** The event classes requested by the target's users. */
  readonly interests: ReadonlySet<EventInterest>;
  /** The process exec'd: inserted breakpoints and retired ones are gone. */
  onExec(): void;
  /** Fork children become targets of their own (adopted) instead of being cleaned and let go. */
  followForks(): boolean;
}

/** One traced thread. */
interface Tracee {
  readonly tid: number;
  state: 'running' | 'listening' | 'stopped';
  /** Attached by the kernel; its first stop has not been seen yet. */
  newborn: boolean;
  /** The thread that created it, once its creator's clone event was seen. */
  parentTid?: number;
  /** Its creation was reported (or needs no report). */
  announced: boolean;
  /** Its last stop was a group-stop: restart it with PTRACE_LISTEN. */
  groupStop: boolean;
  /** The signal of its current signal-delivery-stop (delivered on detach). */
  stopSignal: number;
  /** A signal to deliver at the next restart (found while attaching). */
  inject: number;
  stepping: boolean;
  /** thread-exited was already reported (at PTRACE_EVENT_EXIT). */
  exitReported: boolean;
  /** Number of the system call it entered last. */
  syscallNr: number;
  /** ptrace options it has. */
  options: number;
  /** `user_regs_struct` of the current stop. */
  gpr?: Uint8Array;
  /** FXSAVE image of the current stop. */
  fp?: Uint8Array;
  /** Debug registers DR0..DR7 as programmed (DR6 as last read). */
  readonly dr: BigUint64Array;
  /** Hardware slots programmed on this thread. */
  readonly hw: (HwDebugSpec | undefined)[];
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** What {@link ProcessControl.threadList} gives for each thread. */
export interface TraceeInfo {
  readonly tid: number;
  readonly stopped: boolean;
  readonly parentTid?: number;
}

/** ptrace options for a set of event interests. */
export function ptraceOptions(native: PtraceBinding, interests: ReadonlySet<EventInterest>): number {
  const c = native.constants;
  let o = c.PTRACE_O_TRACECLONE | c.PTRACE_O_TRACEEXEC | c.PTRACE_O_TRACEFORK | c.PTRACE_O_TRACEVFORK | c.PTRACE_O_TRACEVFORKDONE | c.PTRACE_O_TRACESYSGOOD;
  if (interests.has('exit')) o |= c.PTRACE_O_TRACEEXIT;
  return o;
}

function exitStatusOf(ws: WaitStatus): ExitStatus {
  return ws.kind === 'exited' ? { code: ws.code } : ws.kind === 'killed' ? { signal: ws.signal } : {};
}

/**
 * The all-stop engine for one process (see the comment above): owns its
 * threads' ptrace state, turns wait statuses into core StopEvents, and
 * implements pause, resume, single-step, detach and synchronous cleanup.
 */
export class ProcessControl implements TraceeOwner {
  private readonly native: PtraceBinding = binding();
  private readonly reaper: Reaper = reaper();
  private readonly threads = new Map<number, Tracee>();
  private phase: Phase = 'running';
  private batch: StopEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private failure?: unknown;
  private spinPending = 0;
  private memFd = -1;
  private options: number;
  /** Hardware slots programmed on every thread (and on threads created later). */
  private readonly allThreadSlots: (HwDebugSpec | undefined)[] = [undefined, undefined, undefined, undefined];
  /** Breakpoints lifted from memory while a vfork child shares it. */
  private vforkLifted = false;
  /** Fork children being cleaned of breakpoints before they are let go. */
  readonly forkChildren = new Set<ForkChild>();
  /** Detach has begun: resume and step no longer run the target, waits end with the detach. */
  private closing = false;
  private readonly closed: Promise<void>;
  private markClosed!: () => void;
  private readonly status = new Int32Array(1);
  private readonly siginfo = new Int32Array(3);
  private spinTids = new Int32Array(8);
  /** How the process ended. */
  exitStatus?: ExitStatus;

  constructor(readonly pid: number, private readonly host: ControlHost) {
    this.options = ptraceOptions(this.native, host.interests);
    this.reaper.addProcess(pid, this);
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /**
   * Announces a detach: from now on resume and step leave the threads
   * stopped, and waits return (empty) once the detach is done, so a monitor
   * loop still running concurrently cannot set the target going again while
   * its traps are being removed.
   */
  beginClosing(): void {
    this.closing = true;
  }

  // ------------------------------------------------------------ threads

  /** Adds a thread this control traces (`stopped` when its stop status was already reaped). */
  addThread(tid: number, state: 'running' | 'stopped', newborn: boolean): Tracee {
    const t: Tracee = {
      tid,
      state,
      newborn,
      announced: !newborn || !this.wantThreadEvents(),
      groupStop: false,
      stopSignal: 0,
      inject: 0,
      stepping: false,
      exitReported: false,
      syscallNr: -1,
      options: this.options,
      dr: new BigUint64Array(8),
      hw: [undefined, undefined, undefined, undefined],
    };
    this.threads.set(tid, t);
    this.reaper.track(tid, this);
    return t;
  }

  /** Whether `tid` is one of the traced threads. */
  has(tid: number): boolean {
    return this.threads.has(tid);
  }

  /** The traced threads. */
  threadList(): TraceeInfo[] {
    return [...this.threads.values()].map((t) => (t.parentTid === undefined ? { tid: t.tid, stopped: t.state === 'stopped' } : { tid: t.tid, stopped: t.state === 'stopped', parentTid: t.parentTid }));
  }

  /** Reads the debug registers of every thread into their shadows (after attaching). */
  loadDebugRegisters(): void {
    for (const t of this.threads.values()) {
      const e = this.native.getDebugRegs(t.tid, t.dr);
      if (e) log.warnopt(1, 'cannot read the debug registers of thread %d: %d', t.tid, e);
    }
  }

  /** Marks a signal found while attaching for delivery at the first resume. */
  injectLater(tid: number, signal: number): void {
    const t = this.threads.get(tid);
    if (t) t.inject = signal;
  }

  private wantThreadEvents(): boolean {
    return this.host.interests.has('thread');
  }

  private forget(t: Tracee): void {
    this.threads.delete(t.tid);
    this.reaper.untrack(t.tid);
  }

  private stopped(tid: number): Tracee {
    const t = this.threads.get(tid);
    if (!t) throw new TargetStateError(`process ${this.pid} has no thread ${tid}`);
    if (t.state !== 'stopped') throw new TargetStateError(`thread ${tid} of process ${this.pid} is running`);
    return t;
  }

  /** Any stopped thread (for PTRACE_POKEDATA), or 0. */
  private anyStopped(): number {
    for (const t of this.threads.values()) if (t.state === 'stopped') return t.tid;
    return 0;
  }

  // -------------------------------------------------------- reaper side

  /** @internal Called by the reaper with a status of one of our threads. */
  onStatus(tid: number, status: number): void {
    this.handleStatus(tid, status);
    this.afterChange();
  }

  /** @internal */
  onError(err: unknown): void {
    this.failure = err;
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
    this.reaper.update();
  }

  /** @internal */
  watching(): boolean {
    for (const t of this.threads.values()) if (t.state !== 'stopped') return true;
    return false;
  }

  /** @internal */
  waiting(): boolean {
    return this.waiters.size > 0;
  }

  private handleStatus(tid: number, status: number): void {
    const ws = decodeWaitStatus(status);
    let t = this.threads.get(tid);
    if (!t) {
      // A thread forgotten at an exec reports its end: nothing to do.
      if (ws.kind !== 'stopped') return;
      // A new thread whose creator's clone event is still to come.
      t = this.addThread(tid, 'stopped', true);
    }
    if (ws.kind === 'continued') return;
    if (ws.kind !== 'stopped') return this.onGone(t, ws);
    t.state = 'stopped';
    t.gpr = undefined;
    t.fp = undefined;
    this.onStop(t, ws.signal, ws.event);
  }

  private afterChange(): void {
    if (this.spinPending) {
      const ms = this.spinPending;
      this.spinPending = 0;
      this.spin(ms);
    }
    this.progress();
    this.reaper.update();
  }

  /** Reaps statuses synchronously for up to `ms` while a stop or step is being completed. */
  private spin(ms: number): void {
    const deadline = performance.now() + ms;
    while (this.phase === 'collecting' || this.phase === 'stepping') {
      const n = this.pendingTids();
      if (n === 0) return;
      const left = Math.floor((deadline - performance.now()) * 1000);
      if (left <= 0) return;
      const r = this.native.waitSpin(this.spinTids, n, left, this.status);
      if (r > 0) {
        this.handleStatus(r, this.status[0]!);
        this.progress();
      } else {
        if (r === -ERRNO.ECHILD) {
          // None of them can report any more (gone without a status, e.g. at an exec).
          for (let i = 0; i < n; i++) {
            const t = this.threads.get(this.spinTids[i]!);
            if (t) this.forget(t);
          }
          continue;
        }
        return;
      }
    }
  }

  /** Completes a stop or a step once every thread is stopped. */
  private progress(): void {
    if (this.phase === 'collecting' || this.phase === 'stepping') {
      for (const t of this.threads.values()) if (t.state !== 'stopped' || t.stepping) return;
      this.phase = 'stopped';
    }
    if (this.phase === 'stopped' || this.phase === 'exited' || this.phase === 'detached') {
      for (const w of this.waiters) w.resolve();
      this.waiters.clear();
    }
  }

  private report(ev: StopEvent): void {
    this.batch.push(ev);
    if (this.phase === 'running') this.beginStop();
  }

  /** running → collecting: interrupts every running thread. */
  private beginStop(): void {
    if (this.phase !== 'running') return;
    this.phase = 'collecting';
    this.spinPending = STOP_SPIN_MS;
    for (const t of this.threads.values()) {
      if (t.state === 'stopped' || t.newborn) continue;
      const e = this.native.interrupt(t.tid);
      if (e && e !== ERRNO.ESRCH) throw new PtraceError(`cannot interrupt thread ${t.tid}`, e);
    }
  }

  /** A stop that reports nothing: restart the thread while running, keep it stopped otherwise. */
  private settle(t: Tracee): void {
    if (t.state !== 'stopped') return;
    if (t.stepping) return this.restart(t, MODE.STEP, 0);
    if (this.phase !== 'running' || !t.announced) return;
    this.restart(t, this.runMode(), 0);
  }

  private runMode(): number {
    return this.host.interests.has('syscall') ? MODE.SYSCALL : MODE.CONT;
  }

  private restart(t: Tracee, mode: number, signal: number): void {
    if (t.options !== this.options) {
      const e = this.native.setOptions(t.tid, this.options);
      if (e === 0) t.options = this.options;
    }
    const req = mode !== MODE.STEP && t.groupStop && signal === 0 ? MODE.LISTEN : mode;
    const e = this.native.restart(t.tid, req, signal);
    // ESRCH: it was killed meanwhile, and its exit status is on its way.
    if (e && e !== ERRNO.ESRCH) throw new PtraceError(`cannot resume thread ${t.tid}`, e);
    t.state = req === MODE.LISTEN ? 'listening' : 'running';
    t.gpr = undefined;
    t.fp = undefined;
    t.stopSignal = 0;
  }

  // ----------------------------------------------------- stop decoding

  private onStop(t: Tracee, sig: number, event: number): void {
    t.stopSignal = 0;
    if (event !== PTRACE_EVENT.STOP) t.groupStop = false;
    switch (event) {
      case 0:
        break;
      case PTRACE_EVENT.STOP:
        // An interrupt trap (ours, or a stale one), a group-stop, or a new thread's first stop.
        t.groupStop = isStopSignal(sig);
        if (t.newborn) this.onBorn(t);
        return this.settle(t);
      case PTRACE_EVENT.CLONE:
        this.onClone(t, this.eventMsg(t));
        return this.settle(t);
      case PTRACE_EVENT.FORK:
      case PTRACE_EVENT.VFORK:
        this.onFork(t, this.eventMsg(t), event === PTRACE_EVENT.VFORK);
        return this.settle(t);
      case PTRACE_EVENT.VFORK_DONE:
        this.restoreAfterVfork();
        return this.settle(t);
      case PTRACE_EVENT.EXEC:
        return this.onExec(t);
      case PTRACE_EVENT.EXIT:
        return this.onExiting(t);
      default:
        return this.settle(t);
    }
    if (sig === (SIG.SIGTRAP | 0x80)) return this.onSyscall(t);
    if (sig === SIG.SIGTRAP) return this.onTrap(t);
    // A signal-delivery-stop. While stepping it is delivered and the step goes on
    // (into the handler): core has no way to dispatch it in the middle of a step.
    if (t.stepping) return this.restart(t, MODE.STEP, sig);
    t.stopSignal = sig;
    this.report({ kind: 'signal', tid: t.tid, signal: sig });
  }

  private eventMsg(t: Tracee): number {
    const m = this.native.eventMsg(t.tid);
    if (m < 0) throw new PtraceError(`cannot read the event message of thread ${t.tid}`, -m);
    return m;
  }

  private onBorn(t: Tracee): void {
    t.newborn = false;
    // Debug registers are not inherited by new threads.
    this.allThreadSlots.forEach((spec, slot) => {
      if (spec) this.program(t, slot, spec);
    });
    if (t.parentTid !== undefined) this.announce(t);
  }

  private onClone(parent: Tracee, childTid: number): void {
    const c = this.threads.get(childTid) ?? this.addThread(childTid, 'running', true);
    c.parentTid = parent.tid;
    if (!c.newborn) {
      this.announce(c);
      this.settle(c);
    }
  }

  private announce(t: Tracee): void {
    if (t.announced) return;
    t.announced = true;
    if (this.wantThreadEvents()) this.report({ kind: 'thread-created', tid: t.tid, parentTid: t.parentTid ?? this.pid });
  }

  private onFork(parent: Tracee, childPid: number, vfork: boolean): void {
    // A fork child has a copy of our breakpoints in its memory; a vfork child
    // shares the parent's memory, so they are lifted until it execs or exits.
    if (vfork) this.liftForVfork();
    if (this.host.followForks()) {
      // The child stays traced and stopped for its adopter (core makes a target of it).
      return this.report({ kind: vfork ? 'vfork' : 'fork', tid: parent.tid, childPid });
    }
    const child = new ForkChild(childPid, vfork ? [] : this.host.breakpoints(), () => this.forkChildren.delete(child));
    this.forkChildren.add(child);
    child.start();
    if (this.host.interests.has('fork')) this.report({ kind: vfork ? 'vfork' : 'fork', tid: parent.tid, childPid });
  }

  private liftForVfork(): void {
    const tid = this.anyStopped();
    for (const [a, orig] of this.host.breakpoints()) this.native.writeMem(this.memFd, tid, a, orig);
    this.vforkLifted = true;
  }

  private restoreAfterVfork(): void {
    if (!this.vforkLifted) return;
    this.vforkLifted = false;
    const tid = this.anyStopped();
    const trap = Uint8Array.of(0xcc);
    for (const [a] of this.host.breakpoints()) this.native.writeMem(this.memFd, tid, a, trap);
  }

  private onExec(t: Tracee): void {
    // Every other thread is gone; the exec'ing thread now has the leader's tid.
    for (const o of [...this.threads.values()]) if (o !== t) this.forget(o);
    t.stepping = false;
    t.newborn = false;
    t.announced = true;
    // The kernel dropped the debug registers and the old address space.
    t.dr.fill(0n);
    t.hw.fill(undefined);
    this.allThreadSlots.fill(undefined);
    this.vforkLifted = false;
    this.openMemory();
    this.host.onExec();
    let path: string | undefined;
    try {
      path = fs.readlinkSync(`/proc/${this.pid}/exe`);
    } catch {
      path = undefined;
    }
    this.report(path === undefined ? { kind: 'exec', tid: t.tid } : { kind: 'exec', tid: t.tid, path });
  }

  private onExiting(t: Tracee): void {
    t.stepping = false;
    if (this.host.interests.has('exit') && !t.exitReported) {
      t.exitReported = true;
      this.report({ kind: 'thread-exited', tid: t.tid, status: exitStatusOf(decodeWaitStatus(this.eventMsg(t))) });
      return;
    }
    this.settle(t);
  }

  private onGone(t: Tracee, ws: WaitStatus): void {
    this.forget(t);
    t.stepping = false;
    const status = exitStatusOf(ws);
    // The leader's end is reported only after every other thread's: the process is gone.
    if (t.tid === this.pid || this.threads.size === 0) {
      for (const o of [...this.threads.values()]) this.forget(o);
      this.exitStatus = status;
      this.batch.push({ kind: 'exited', status });
      if (this.phase !== 'detached') this.phase = 'exited';
      return;
    }
    if (!t.exitReported && (this.wantThreadEvents() || this.host.interests.has('exit'))) this.report({ kind: 'thread-exited', tid: t.tid, status });
  }

  private onSyscall(t: Tracee): void {
    if (!this.host.interests.has('syscall')) return this.settle(t);
    const buf = new Uint8Array(88);
    const n = this.native.syscallInfo(t.tid, buf);
    if (n < 0) throw new PtraceError(`cannot read the system call of thread ${t.tid}`, -n);
    const dv = new DataView(buf.buffer);
    if (buf[0] === 1) {
      const nr = Number(dv.getBigUint64(24, true));
      t.syscallNr = nr;
      const args = Array.from({ length: 6 }, (_, i) => dv.getBigUint64(32 + i * 8, true));
      this.report({ kind: 'syscall-enter', tid: t.tid, nr, args });
    } else if (buf[0] === 2) {
      this.report({ kind: 'syscall-exit', tid: t.tid, nr: t.syscallNr, ret: dv.getBigInt64(24, true) });
    } else {
      this.settle(t);
    }
  }

  private onTrap(t: Tracee): void {
    // An int3 of ours: known without PTRACE_GETSIGINFO when nothing else could trap here
    // (no single-step, no debug register armed on the thread).
    // Likewise the end of a single-step: not after one of our int3s, nothing else armed.
    if (!t.hw.some(Boolean)) {
      const at = pcOf(this.gpr(t)) - 1n;
      if (this.host.isBreakpoint(at)) {
        if (!t.stepping) {
          this.setPc(t, at);
          return this.report({ kind: 'breakpoint', tid: t.tid, address: at });
        }
      } else if (t.stepping && !this.host.isRetired(at)) {
        t.stepping = false;
        return this.report({ kind: 'step', tid: t.tid });
      }
    }
    const code = this.native.sigInfo(t.tid, this.siginfo) === 0 ? this.siginfo[2]! : -1;
    if (code === TRAP.SI_KERNEL || code === TRAP.BRKPT) {
      // int3: the pc is one past the breakpoint.
      const at = pcOf(this.gpr(t)) - 1n;
      if (this.host.isBreakpoint(at)) {
        this.setPc(t, at);
        t.stepping = false;
        return this.report({ kind: 'breakpoint', tid: t.tid, address: at });
      }
      if (this.host.isRetired(at)) {
        this.setPc(t, at);
        return this.settle(t);
      }
    }
    if (code === TRAP.HWBKPT || t.stepping) {
      const slots = t.hw.some(Boolean) ? this.takeDr6(t) : [];
      for (const slot of slots) {
        const spec = t.hw[slot]!;
        this.report({ kind: 'hw-debug', tid: t.tid, slot, address: spec.address, access: spec.access });
      }
      if (t.stepping) {
        t.stepping = false;
        return this.report({ kind: 'step', tid: t.tid });
      }
      if (slots.length) return;
      // Only debug registers raise TRAP_HWBKPT: one whose slot was cleared meanwhile is stale.
      if (code === TRAP.HWBKPT) return this.settle(t);
    }
    // Nobody's trap: the program's own SIGTRAP, passed on like any signal.
    t.stopSignal = SIG.SIGTRAP;
    this.report({ kind: 'signal', tid: t.tid, signal: SIG.SIGTRAP });
  }

  /** Reads and clears DR6; returns the programmed slots it names. */
  private takeDr6(t: Tracee): number[] {
    const v = this.native.getDebugReg(t.tid, 6);
    if (typeof v === 'number') throw new PtraceError(`cannot read DR6 of thread ${t.tid}`, v);
    t.dr[6] = v;
    if (v & (0xfn | DR6_BS)) this.native.setDebugReg(t.tid, 6, 0n);
    return triggeredSlots(v).filter((s) => t.hw[s] !== undefined);
  }

  // --------------------------------------------------- execution control

  /** Resumes every stopped thread, delivering `signals` (tid → signal). */
  resume(signals: ReadonlyMap<number, number>): void {
    if (this.phase === 'exited' || this.closing) return;
    if (this.phase !== 'stopped') throw new TargetStateError(`process ${this.pid} is not stopped (${this.phase})`);
    this.phase = 'running';
    for (const t of [...this.threads.values()]) {
      if (t.state !== 'stopped' || !t.announced) continue;
      const sig = signals.get(t.tid) ?? t.inject;
      t.inject = 0;
      this.restart(t, this.runMode(), sig);
    }
    this.spinRunning(RESUME_SPIN_MS);
    this.afterChange();
  }

  /** While running, reaps what stops within `ms`; a stop that reports something begins the all-stop. */
  private spinRunning(ms: number): void {
    const deadline = performance.now() + ms;
    while (this.phase === 'running') {
      const n = this.pendingTids();
      const left = Math.floor((deadline - performance.now()) * 1000);
      if (n === 0 || left <= 0) return;
      const r = this.native.waitSpin(this.spinTids, n, left, this.status);
      if (r <= 0) return;
      this.handleStatus(r, this.status[0]!);
    }
  }

  /** Fills spinTids with the threads not stopped; returns how many. */
  private pendingTids(): number {
    let n = 0;
    for (const t of this.threads.values()) {
      if (t.state === 'stopped') continue;
      if (n === this.spinTids.length) {
        const bigger = new Int32Array(n * 2);
        bigger.set(this.spinTids);
        this.spinTids = bigger;
      }
      this.spinTids[n++] = t.tid;
    }
    return n;
  }

  /**
   * Takes over a fork child the kernel attached (its only thread is the
   * process itself): its first stop, already reaped (`first`) or still to
   * come, leaves it stopped.
   */
  async adopt(first: number | undefined): Promise<void> {
    this.phase = 'collecting';
    if (first !== undefined) this.handleStatus(this.pid, first);
    this.spinPending = STOP_SPIN_MS;
    this.afterChange();
    await this.awaitStopped();
    // Its first stop means nothing to anyone.
    this.takeBatch();
  }

  /** Stops every thread; returns the events that happened meanwhile. */
  async pause(): Promise<StopEvent[]> {
    if (this.phase === 'running') {
      this.beginStop();
      this.afterChange();
    }
    await this.awaitStopped();
    return this.takeBatch();
  }

  /** Waits until the process stops (all-stop) and returns what stopped it. */
  async wait(signal?: AbortSignal): Promise<StopEvent[]> {
    if (this.closing) {
      await this.closed;
      return [];
    }
    await this.awaitStopped(signal);
    return this.takeBatch();
  }

  /** Like {@link wait}, but returns [] at once when nothing has happened yet. */
  async poll(): Promise<StopEvent[]> {
    if (this.closing) return [];
    if (this.phase === 'running') {
      for (const t of [...this.threads.values()]) {
        if (t.state === 'stopped' || !this.threads.has(t.tid)) continue;
        if (this.native.wait(t.tid, true, this.status) > 0) this.handleStatus(t.tid, this.status[0]!);
      }
      this.afterChange();
      if (this.phase === 'running') return [];
    }
    await this.awaitStopped();
    return this.takeBatch();
  }

  /** Single-steps one thread while the others stay stopped. */
  async step(tid: number): Promise<StopEvent[]> {
    if (this.closing) return [];
    if (this.phase !== 'stopped') throw new TargetStateError(`process ${this.pid} is not stopped (${this.phase})`);
    const t = this.stopped(tid);
    this.phase = 'stepping';
    t.stepping = true;
    this.restart(t, MODE.STEP, 0);
    this.spinPending = STEP_SPIN_MS;
    this.afterChange();
    await this.awaitStopped();
    return this.takeBatch();
  }

  /** The events of the last stop, once. */
  takeBatch(): StopEvent[] {
    const b = this.batch;
    this.batch = [];
    return b;
  }

  /** True once the last thread is gone. */
  get exited(): boolean {
    return this.phase === 'exited';
  }

  private awaitStopped(signal?: AbortSignal): Promise<void> {
    if (this.failure !== undefined) {
      const f = this.failure;
      this.failure = undefined;
      return Promise.reject(f);
    }
    if (this.phase === 'stopped' || this.phase === 'exited' || this.phase === 'detached') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(w);
        this.reaper.update();
        reject(new AbortError());
      };
      const w: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      if (signal?.aborted) return reject(new AbortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
      this.reaper.update();
    });
  }

  /** Stops the threads still running (the process being stopped already), for detach and kill. */
  private async stopStragglers(): Promise<void> {
    if (this.phase === 'running') {
      this.beginStop();
      this.afterChange();
    }
    await this.awaitStopped();
  }

  /**
   * Lets the process go: every thread is detached (a signal it stopped with is
   * delivered). Breakpoints and debug registers must be gone already.
   */
  async detach(): Promise<void> {
    this.closing = true;
    if (this.phase === 'exited' || this.phase === 'detached') return;
    await this.stopStragglers();
    // Whatever the target still has (a slot core could not clear, a trap
    // re-inserted by a step that raced with the removal) goes now.
    this.restoreBytes(this.host.breakpoints());
    for (const t of [...this.threads.values()]) {
      this.clearSlots(t);
      const e = this.native.detach(t.tid, t.stopSignal || t.inject);
      if (e && e !== ERRNO.ESRCH) log.warn('cannot detach thread %d: %d', t.tid, e);
      this.forget(t);
    }
    this.phase = 'detached';
    this.progress();
    this.markClosed();
  }

  private restoreBytes(breakpoints: readonly [bigint, Uint8Array][]): void {
    const tid = this.anyStopped();
    for (const [a, orig] of breakpoints) this.native.writeMem(this.memFd, tid, a, orig);
  }

  /** Clears every slot this control programmed on a stopped thread. */
  private clearSlots(t: Tracee): void {
    let dr7 = t.dr[7]!;
    t.hw.forEach((spec, slot) => {
      if (spec) dr7 = dr7With(dr7, slot, null);
    });
    if (dr7 !== t.dr[7]) this.native.setDebugReg(t.tid, 7, dr7);
    t.dr[7] = dr7;
    t.hw.fill(undefined);
  }

  /** Kills the process and waits until every thread is gone. */
  async kill(): Promise<ExitStatus> {
    if (this.phase === 'exited' || this.phase === 'detached') return this.exitStatus ?? { signal: SIG.SIGKILL };
    this.native.kill(this.pid, SIG.SIGKILL);
    // Killed threads leave their stops and report their ends; one that stops
    // once more on its way out (an exit event) is restarted.
    while (!this.exited && this.threads.size) {
      for (const t of this.threads.values()) {
        if (t.state === 'stopped') this.native.restart(t.tid, MODE.CONT, 0);
        t.state = 'running';
        t.stepping = false;
      }
      this.phase = 'collecting';
      this.reaper.update();
      await this.awaitStopped();
    }
    this.takeBatch();
    return this.exitStatus ?? { signal: SIG.SIGKILL };
  }

  /** Releases the memory file and stops routing statuses here. */
  close(): void {
    if (this.memFd >= 0) this.native.closeFd(this.memFd);
    this.memFd = -1;
    for (const t of [...this.threads.values()]) this.forget(t);
    this.reaper.remove(this);
    if (this.phase !== 'exited') this.phase = 'detached';
    this.progress();
    this.markClosed();
  }

  /**
   * Synchronous last-resort cleanup (process exit, fatal signals): stops every
   * thread (rewinding any that just hit a breakpoint), writes the original
   * bytes of `breakpoints` back, clears the debug registers it programmed,
   * and detaches every thread and fork child.
   */
  cleanupSync(breakpoints: [bigint, Uint8Array][], isRetired: (a: bigint) => boolean): void {
    if (this.phase === 'exited' || this.phase === 'detached') return;
    const isOurs = new Set(breakpoints.map(([a]) => a));
    for (const t of this.threads.values()) if (t.state !== 'stopped' && !t.newborn) this.native.interrupt(t.tid);
    const deadline = performance.now() + 2000;
    for (;;) {
      const running = [...this.threads.values()].filter((t) => t.state !== 'stopped');
      if (!running.length || performance.now() > deadline) break;
      const tids = Int32Array.from(running.map((t) => t.tid));
      const r = this.native.waitSpin(tids, tids.length, 10_000, this.status);
      if (r === -ERRNO.ECHILD) break;
      if (r > 0) this.settleSync(r, this.status[0]!, (a) => isOurs.has(a) || isRetired(a));
    }
    this.restoreBytes(breakpoints);
    for (const t of this.threads.values()) {
      if (t.state !== 'stopped') continue;
      this.clearSlots(t);
      this.native.detach(t.tid, t.stopSignal || t.inject);
    }
    for (const c of [...this.forkChildren]) c.releaseSync();
    this.phase = 'detached';
    this.close();
  }

  /** Minimal status handling for {@link cleanupSync}: nothing is reported, nothing restarted. */
  private settleSync(tid: number, status: number, isTrap: (a: bigint) => boolean): void {
    const ws = decodeWaitStatus(status);
    let t = this.threads.get(tid);
    if (!t) {
      if (ws.kind !== 'stopped') return;
      t = this.addThread(tid, 'stopped', false);
    }
    if (ws.kind === 'exited' || ws.kind === 'killed') return this.forget(t);
    if (ws.kind !== 'stopped') return;
    t.state = 'stopped';
    t.gpr = undefined;
    if (ws.event === PTRACE_EVENT.CLONE) {
      const child = this.native.eventMsg(tid);
      if (child > 0 && !this.threads.has(child)) this.addThread(child, 'running', true);
    } else if (ws.event === PTRACE_EVENT.FORK || ws.event === PTRACE_EVENT.VFORK) {
      const child = this.native.eventMsg(tid);
      if (child > 0) {
        const c = new ForkChild(child, ws.event === PTRACE_EVENT.FORK ? this.host.breakpoints() : [], () => this.forkChildren.delete(c));
        this.forkChildren.add(c);
      }
    } else if (ws.event === 0 && ws.signal === SIG.SIGTRAP) {
      const code = this.native.sigInfo(tid, this.siginfo) === 0 ? this.siginfo[2]! : -1;
      const at = pcOf(this.gpr(t)) - 1n;
      if ((code === TRAP.SI_KERNEL || code === TRAP.BRKPT) && isTrap(at)) this.setPc(t, at);
      else if (code !== TRAP.TRACE && code !== TRAP.HWBKPT) t.stopSignal = SIG.SIGTRAP;
    } else if (ws.event === 0 && ws.signal !== (SIG.SIGTRAP | 0x80)) {
      t.stopSignal = ws.signal;
    }
  }

  // ------------------------------------------------- registers and memory

  private gpr(t: Tracee): Uint8Array {
    if (!t.gpr) {
      const buf = new Uint8Array(USER_REGS_SIZE);
      const e = this.native.getRegs(t.tid, buf);
      if (e) throw new PtraceError(`cannot read the registers of thread ${t.tid}`, e);
      t.gpr = buf;
    }
    return t.gpr;
  }

  private setPc(t: Tracee, pc: bigint): void {
    const g = this.gpr(t);
    setPc(g, pc);
    const e = this.native.setRegs(t.tid, g);
    if (e) throw new PtraceError(`cannot set the pc of thread ${t.tid}`, e);
  }

  /** The general and debug register images of a stopped thread. */
  generalRegisters(tid: number): { gpr: Uint8Array; dr: BigUint64Array } {
    const t = this.stopped(tid);
    return { gpr: this.gpr(t), dr: t.dr };
  }

  /** The register images of a stopped thread: general, FXSAVE, debug. */
  registers(tid: number): { gpr: Uint8Array; fp: Uint8Array; dr: BigUint64Array } {
    const t = this.stopped(tid);
    if (!t.fp) {
      const fp = new Uint8Array(USER_FPREGS_SIZE);
      const e = this.native.getFpRegs(tid, fp);
      if (e) throw new PtraceError(`cannot read the FP registers of thread ${tid}`, e);
      t.fp = fp;
    }
    return { gpr: this.gpr(t), fp: t.fp, dr: t.dr };
  }

  /** Writes register images of a stopped thread (those given). */
  setRegisters(tid: number, images: { gpr?: Uint8Array; fp?: Uint8Array; dr?: ReadonlyMap<number, bigint> }): void {
    const t = this.stopped(tid);
    if (images.gpr) {
      const e = this.native.setRegs(tid, images.gpr);
      if (e) throw new PtraceError(`cannot write the registers of thread ${tid}`, e);
      t.gpr = images.gpr;
    }
    if (images.fp) {
      const e = this.native.setFpRegs(tid, images.fp);
      if (e) throw new PtraceError(`cannot write the FP registers of thread ${tid}`, e);
      t.fp = images.fp;
    }
    for (const [i, v] of images.dr ?? []) {
      const e = this.native.setDebugReg(tid, i, v);
      if (e) throw new PtraceError(`cannot write DR${i} of thread ${tid}`, e);
      t.dr[i] = v;
    }
  }

  /** Programs (or clears) a hardware slot on one thread, or on every thread and later ones. */
  setHwDebug(slot: number, spec: HwDebugSpec | null, tid?: number): void {
    if (tid === undefined) this.allThreadSlots[slot] = spec ?? undefined;
    const targets = tid === undefined ? [...this.threads.values()].filter((t) => !t.newborn) : [this.stopped(tid)];
    for (const t of targets) {
      if (t.state !== 'stopped') throw new TargetStateError(`thread ${t.tid} of process ${this.pid} is running`);
      this.program(t, slot, spec);
    }
  }

  private program(t: Tracee, slot: number, spec: HwDebugSpec | null): void {
    const dr7 = dr7With(t.dr[7]!, slot, spec);
    let e = 0;
    if (spec) {
      e = this.native.setDebugReg(t.tid, slot, spec.address) || this.native.setDebugReg(t.tid, 7, dr7);
    } else {
      e = this.native.setDebugReg(t.tid, 7, dr7) || this.native.setDebugReg(t.tid, slot, 0n);
    }
    if (e) throw new PtraceError(`cannot program debug register ${slot} of thread ${t.tid}`, e);
    t.dr[7] = dr7;
    t.dr[slot] = spec ? spec.address : 0n;
    t.hw[slot] = spec ?? undefined;
  }

  /** Opens (or reopens, after an exec) /proc/PID/mem. */
  openMemory(): void {
    if (this.memFd >= 0) this.native.closeFd(this.memFd);
    const fd = this.native.openMem(this.pid);
    this.memFd = fd >= 0 ? fd : -1;
    if (fd < 0) log.warnopt(1, 'cannot open /proc/%d/mem (%d): using process_vm_readv and PTRACE_POKEDATA', this.pid, -fd);
  }

  /** Reads memory; returns the bytes read before the first fault. */
  read(address: bigint, buf: Uint8Array): number {
    return this.native.readMem(this.pid, this.memFd, address, buf);
  }

  /** Writes memory; returns the bytes written before the first fault. */
  write(address: bigint, data: Uint8Array): number {
    return this.native.writeMem(this.memFd, this.anyStopped(), address, data);
  }

  /** Changes the ptrace options to match the event interests (applied at each thread's next restart). */
  configure(interests: ReadonlySet<EventInterest>): void {
    this.options = ptraceOptions(this.native, interests);
  }
}
