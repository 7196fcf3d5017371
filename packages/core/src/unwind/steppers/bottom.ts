import type { Addr } from '../../target/types.js';
import type { Frame, StepResult } from '../frame.js';
import type { FrameStepper, WalkContext } from '../stepper.js';

/** Functions no frame is below: the program entry, thread-start trampolines, and the kernel's boot and fork entries. */
const OUTERMOST = new Set(['_start', '__clone', 'clone', '__clone3', 'clone3', '__thread_start', 'thread_start', 'secondary_startup_64', 'startup_64', 'ret_from_fork']);

/**
 * Recognises the bottom of a stack: a zero pc, or a frame in the program's
 * entry point or the raw thread-start code. Where unwind tables describe the
 * frame, they decide (glibc's `_start` and `clone3` mark the return address
 * undefined, which the table steppers report as the bottom), so symbol tables
 * are consulted only for code without unwind information.
 */
export class BottomOfStackStepper implements FrameStepper {
  readonly name = 'bottom';
  readonly priority = 200;

  /** @param hasUnwindInfo whether unwind tables cover a pc (then this stepper leaves the frame to them). */
  constructor(private readonly hasUnwindInfo?: (pc: Addr) => Promise<boolean>) {}

  async getCallerFrame(frame: Frame, ctx: WalkContext): Promise<StepResult> {
    if (frame.pc === 0n) return { status: 'bottom' };
    if (this.hasUnwindInfo && (await this.hasUnwindInfo(frame.lookupPc))) return { status: 'not-me' };
    const sym = await ctx.symbols?.symbolAt(frame.lookupPc);
    if (sym && OUTERMOST.has(sym.name)) return { status: 'bottom' };
    return { status: 'not-me' };
  }
}
