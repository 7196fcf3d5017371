/*
 * gdb's `bt` as data, and core's backtrace in the same shape, so the two can be
 * compared frame by frame: function names, pcs, source lines and the argument
 * values gdb prints (`name=value`, with its `@entry` forms).
 */
import { backtrace, formatArgument, type ProgramSymbols, type Thread, type Walker } from '@stackdb/core';
import type { GdbBacktraceFrame } from '@stackdb/test-support';

/** One frame as gdb's `bt` (or ours, formatted the same way) shows it. */
export interface BtFrame extends GdbBacktraceFrame {
  /** Ours only: a function that left by a tail call (gdb shows such frames only when it can prove them). */
  readonly tailCall?: boolean;
  /** Ours only: the frame was interrupted (an exception or interrupt frame, pt_regs, lies below it); gdb cannot unwind into it. */
  readonly interrupted?: boolean;
}

/** Core's backtrace of a thread, with arguments formatted as gdb prints them. */
export async function ourBacktrace(walker: Walker, program: ProgramSymbols, thread: Thread): Promise<BtFrame[]> {
  const bt = await backtrace(walker, program, thread);
  const ctx = { target: thread.target, program };
  return Promise.all(
    bt.frames.map(async (f) => ({
      index: f.index,
      pc: f.pc,
      name: f.frame.name ?? '??',
      args: await Promise.all(f.args.map((a) => formatArgument(a, ctx))),
      ...(f.frame.file !== undefined ? { file: f.frame.file } : {}),
      ...(f.frame.line !== undefined ? { line: f.frame.line } : {}),
      ...(f.frame.tailCall ? { tailCall: true } : {}),
      ...(f.index > 0 && f.frame.inlineDepth === 0 && f.frame.physical.init.exactPc ? { interrupted: true } : {}),
    })),
  );
}

/** `name=value` pairs by name; gdb may order the parameters of inlined calls differently. */
export function argMap(args: readonly string[]): Map<string, string> {
  return new Map(args.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
}

/** True when gdb printed a value (not `<optimized out>`, nor an error instead of memory). */
export function concrete(value: string): boolean {
  return !value.includes('<optimized out>') && !value.includes('<error:');
}
