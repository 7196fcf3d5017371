import type { Frame, StepResult } from '../frame.js';
import type { FrameStepper, WalkContext } from '../stepper.js';

/** Functions no frame is below: the program entry, thread-start trampolines, and the kernel's boot and fork entries. */
const OUTERMOST = new Set(['_start', '__clone', 'clone', '__clone3', 'clone3', '__thread_start', 'thread_start', 'secondary_startup_64', 'startup_64', 'ret_from_fork']);

/**
 * Recognises the bottom of a stack: a zero pc, or a frame in the program's
 * entry point or the raw thread-start code (whose unwind tables, where present,
 * also mark the return address undefined).
 */
export class BottomOfStackStepper implements FrameStepper {
  readonly name = 'bottom';
  readonly priority = 200;

  async getCallerFrame(frame: Frame, ctx: WalkContext): Promise<StepResult> {
    if (frame.pc === 0n) return { status: 'bottom' };
    const sym = await ctx.symbols?.symbolAt(frame.lookupPc);
    if (sym && OUTERMOST.has(sym.name)) return { status: 'bottom' };
    return { status: 'not-me' };
  }
}
