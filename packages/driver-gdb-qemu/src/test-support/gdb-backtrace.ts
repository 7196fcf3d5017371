/*
 * gdb's `bt` as data, and core's backtrace in the same shape, so the two can be
 * compared frame by frame: function names, pcs, source lines and the argument
 * values gdb prints (`name=value`, with its `@entry` forms).
 */
import { backtrace, formatArgument, type ProgramSymbols, type Thread, type Walker } from '@stackdb/core';

/** One frame as gdb's `bt` (or ours, formatted the same way) shows it. */
export interface BtFrame {
  readonly index: number;
  /** gdb omits the pc of a frame whose pc starts a line (the innermost at a breakpoint) and of inlined frames. */
  readonly pc?: bigint;
  readonly name: string;
  /** `name=value` strings, in the order printed. */
  readonly args: readonly string[];
  readonly file?: string;
  readonly line?: number;
  /** Ours only: a function that left by a tail call (gdb shows such frames only when it can prove them). */
  readonly tailCall?: boolean;
  /** Ours only: the frame was interrupted (an exception or interrupt frame, pt_regs, lies below it); gdb cannot unwind into it. */
  readonly interrupted?: boolean;
}

/** Splits `a=1, b=0x10 "x, y", c={...}` at the commas that separate arguments. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '{' || c === '[' || c === '<') depth++;
    else if (c === ')' || c === '}' || c === ']' || c === '>') depth--;
    else if (c === ',' && depth === 0 && text[i + 1] === ' ') {
      out.push(text.slice(start, i));
      start = i + 2;
    }
  }
  if (text.slice(start).trim()) out.push(text.slice(start));
  return out;
}

/** The frames of gdb's `bt` output (other lines are ignored). */
export function parseGdbBacktrace(out: string): BtFrame[] {
  const frames: BtFrame[] = [];
  for (const line of out.split('\n')) {
    const m = /^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) \((.*)\)(?: at (\S+):(\d+)| from \S+)?$/.exec(line);
    if (!m) continue;
    frames.push({
      index: Number(m[1]),
      ...(m[2] ? { pc: BigInt(m[2]) } : {}),
      name: m[3]!,
      args: splitArgs(m[4]!),
      ...(m[5] ? { file: m[5], line: Number(m[6]) } : {}),
    });
  }
  return frames;
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
