import { getLogger } from '@stackdb/core';
import { binding } from './binding.js';
import { ERRNO } from './errors.js';
import { reaper, type TraceeOwner } from './reaper.js';
import { decodeWaitStatus } from './wait-status.js';

const log = getLogger('T_LUP');

/** How long to wait for a fork child's first stop before handling it asynchronously. */
const FIRST_STOP_SPIN_MICROS = 20_000;

/**
 * A child the kernel attached at a fork (PTRACE_O_TRACEFORK/VFORK). Its
 * memory is a copy of its parent's, with the parent's breakpoints in it: once
 * it reports its first stop, the original bytes are written back into its
 * memory (for a vfork child, which shares the parent's memory, the parent has
 * lifted them already), and it is detached to run free.
 */
export class ForkChild implements TraceeOwner {
  private readonly native = binding();
  private done = false;
  private readonly status = new Int32Array(1);

  constructor(readonly pid: number, private readonly breakpoints: readonly [bigint, Uint8Array][], private readonly onDone: () => void) {}

  /** Starts handling: takes its first stop if it already came, or waits a little for it. */
  start(): void {
    const r = reaper();
    r.track(this.pid, this);
    let st = r.takeOrphan(this.pid);
    if (st === undefined && this.native.waitSpin(Int32Array.of(this.pid), 1, FIRST_STOP_SPIN_MICROS, this.status) === this.pid) st = this.status[0]!;
    if (st !== undefined) this.onStatus(this.pid, st);
    r.update();
  }

  /** @internal */
  onStatus(_tid: number, status: number): void {
    if (this.done) return;
    if (decodeWaitStatus(status).kind === 'stopped') this.cleanAndDetach();
    this.finish();
  }

  /** @internal */
  onError(err: unknown): void {
    log.warn('fork child %d: %s', this.pid, String(err));
    this.finish();
  }

  /** @internal */
  watching(): boolean {
    return !this.done;
  }

  /** @internal */
  waiting(): boolean {
    return false;
  }

  /** For synchronous cleanup: waits (bounded) for the first stop, then cleans and detaches. */
  releaseSync(): void {
    if (this.done) return;
    const r = this.native.waitSpin(Int32Array.of(this.pid), 1, 200_000, this.status);
    if (r === this.pid) this.onStatus(this.pid, this.status[0]!);
    else this.finish();
  }

  private cleanAndDetach(): void {
    if (this.breakpoints.length) {
      const fd = this.native.openMem(this.pid);
      for (const [a, orig] of this.breakpoints) this.native.writeMem(fd >= 0 ? fd : -1, this.pid, a, orig);
      if (fd >= 0) this.native.closeFd(fd);
    }
    const e = this.native.detach(this.pid, 0);
    if (e && e !== ERRNO.ESRCH) log.warn('cannot detach fork child %d: %d', this.pid, e);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    reaper().untrack(this.pid);
    this.onDone();
  }
}
