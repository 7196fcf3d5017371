import fs from 'node:fs';
import { getLogger } from '@stackdb/core';
import { binding, type PtraceBinding } from './binding.js';

const log = getLogger('T_LUP');

/** Something that owns traced tasks and consumes their wait statuses. */
export interface TraceeOwner {
  /** A wait status reaped for one of its tasks (or a new thread of its process). */
  onStatus(tid: number, status: number): void;
  /** A failure while handling a status; the owner fails whoever awaits it. */
  onError(err: unknown): void;
  /** True while some of its tasks run: their stops must be noticed. */
  watching(): boolean;
  /** True while a caller awaits its events: the event loop must stay alive. */
  waiting(): boolean;
}

/**
 * The process-wide reaper: the only place that turns the waiter's notices into
 * reaped statuses. It routes each status to the owner of the tid, or of the
 * tid's thread group (a new thread whose creation event has not been seen
 * yet); statuses of traced tasks nobody owns yet (fork children, before their
 * parent's fork event) are kept until claimed. It never waits for a pid that
 * it did not learn from the waiter or an owner, so Node's own children stay
 * libuv's.
 */
export class Reaper {
  private readonly byTid = new Map<number, TraceeOwner>();
  private readonly byProcess = new Map<number, TraceeOwner>();
  private readonly orphans = new Map<number, number>();
  private readonly owners = new Set<TraceeOwner>();
  private readonly status = new Int32Array(1);
  private started = false;
  private lastNotice = 0;
  private repeats = 0;
  private retry?: NodeJS.Timeout;

  constructor(readonly native: PtraceBinding) {}

  /** Makes `owner` receive the statuses of `tid`. */
  track(tid: number, owner: TraceeOwner): void {
    this.start();
    this.byTid.set(tid, owner);
    this.owners.add(owner);
    this.native.track(tid, true);
  }

  /** Whether some owner tracks `tid`. */
  isTracked(tid: number): boolean {
    return this.byTid.has(tid);
  }

  /** Forgets `tid` (it exited, or was detached). */
  untrack(tid: number): void {
    this.byTid.delete(tid);
    this.native.track(tid, false);
  }

  /** Routes statuses of new threads of process `pid` (not yet tracked) to `owner`. */
  addProcess(pid: number, owner: TraceeOwner): void {
    this.start();
    this.byProcess.set(pid, owner);
    this.owners.add(owner);
  }

  /** Forgets an owner entirely. */
  remove(owner: TraceeOwner): void {
    this.owners.delete(owner);
    for (const [tid, o] of this.byTid) if (o === owner) this.untrack(tid);
    for (const [pid, o] of this.byProcess) if (o === owner) this.byProcess.delete(pid);
    this.update();
  }

  /** A status reaped before anybody claimed the task (a fork child's first stop), once. */
  takeOrphan(tid: number): number | undefined {
    const s = this.orphans.get(tid);
    this.orphans.delete(tid);
    return s;
  }

  /** Arms the waiter while some owner has running tasks; keeps Node alive while some owner is awaited. */
  update(): void {
    if (!this.started) return;
    let watch = false;
    let wait = false;
    for (const o of this.owners) {
      watch ||= o.watching();
      wait ||= o.waiting();
    }
    this.native.watch(watch && !this.retry, wait);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.native.watcherStart((pid) => this.onNotice(pid));
  }

  private onNotice(pid: number): void {
    if (pid > 0) {
      let owner = this.byTid.get(pid);
      if (!owner) {
        const tgid = threadGroupOf(pid);
        owner = tgid === undefined ? undefined : this.byProcess.get(tgid);
      }
      const r = this.native.wait(pid, true, this.status);
      if (r > 0) {
        this.repeats = 0;
        if (owner) {
          try {
            owner.onStatus(pid, this.status[0]!);
          } catch (err) {
            owner.onError(err);
          }
        } else {
          log.debug(3, 'keeping the status of unclaimed tracee %d', pid);
          this.orphans.set(pid, this.status[0]!);
        }
      } else if (pid === this.lastNotice && ++this.repeats > 3) {
        // Noticed but not reapable, again and again: let the kernel settle before re-arming.
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.repeats = 0;
          this.update();
        }, 2);
      }
      this.lastNotice = pid;
    }
    this.update();
  }
}

/** The thread group (process) of a task, from /proc; undefined once it is gone. */
export function threadGroupOf(tid: number): number | undefined {
  try {
    const m = /\nTgid:\s*(\d+)/.exec(fs.readFileSync(`/proc/${tid}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The tracer of a task (its TracerPid), 0 when untraced, undefined when it is gone. */
export function tracerOf(tid: number): number | undefined {
  try {
    const m = /\nTracerPid:\s*(\d+)/.exec(fs.readFileSync(`/proc/${tid}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const SHARED = Symbol.for('@stackdb/driver-ptrace reaper');

/**
 * The reaper of this thread, created with the addon on first use. It hangs on
 * the addon's exports, so two copies of this module (say, sources and build)
 * still share the one waiter the addon has.
 */
export function reaper(): Reaper {
  const native = binding() as PtraceBinding & { [SHARED]?: Reaper };
  return (native[SHARED] ??= new Reaper(native));
}
