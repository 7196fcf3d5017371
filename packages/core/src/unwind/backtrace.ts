import type { ProgramSymbols } from '../symbols/program.js';
import type { Thread } from '../target/thread.js';
import type { Addr } from '../target/types.js';
import { formatValue, type FormatContext } from '../values/format.js';
import { FrameScope, type LogicalFrame, type NamedValue } from '../values/frame-scope.js';
import type { Value } from '../values/value.js';
import type { Frame } from './frame.js';
import type { Walker } from './walker.js';

/** One line of a backtrace: a logical frame with its arguments (and locals when asked). */
export interface BacktraceFrame {
  /** Position in the backtrace (logical frames, so inlined calls count). */
  readonly index: number;
  readonly frame: LogicalFrame;
  /** Runtime pc of the physical frame. */
  readonly pc: Addr;
  /** Show the address (as gdb: the innermost logical frame of each physical frame, unless its exact pc starts a line). */
  readonly showAddress: boolean;
  readonly args: readonly NamedValue[];
  readonly locals?: readonly NamedValue[];
}

/** A thread's backtrace. */
export interface Backtrace {
  readonly thread: Thread;
  readonly frames: readonly BacktraceFrame[];
  /** Why the walk ended (`bottom`, `depth-limit` or `error`). */
  readonly end: 'bottom' | 'depth-limit' | 'error';
  readonly error?: string;
}

/** Options of {@link backtrace}. */
export interface BacktraceOptions {
  /** Maximum logical frames. */
  readonly maxDepth?: number;
  /** Also load each frame's local variables. */
  readonly locals?: boolean;
  /** Skip argument values (names only). */
  readonly noArgs?: boolean;
}

/**
 * Walks a thread and describes every logical frame (inlined calls and gdb's
 * tail-call frames expanded) with typed values. Values are loaded from the
 * outermost frame inward, so entry values passed down a deep recursion are
 * found once per frame.
 */
export async function backtrace(walker: Walker, program: ProgramSymbols, thread: Thread, opts: BacktraceOptions = {}): Promise<Backtrace> {
  const max = opts.maxDepth ?? 4096;
  // One frame past the limit: the last frame shown still has its caller's call site for entry values.
  const stack = await walker.walkStack(thread, { maxDepth: max + 1 });
  const physical = [...stack.frames];
  const beyond = physical.length > max ? physical.splice(max) : [];
  // Scopes from the outermost frame inward, so each knows its caller (entry values).
  const scopes: FrameScope[] = new Array(physical.length);
  const scopeOf = (f: Frame, caller: FrameScope | undefined) => {
    const cfa = async () => {
      if (f.cfa === undefined) await walker.walkSingleFrame(f);
      return f.cfa;
    };
    return FrameScope.create(program, f, caller, cfa);
  };
  let caller = beyond[0] ? await scopeOf(beyond[0], undefined) : undefined;
  for (let i = physical.length - 1; i >= 0; i--) scopes[i] = caller = await scopeOf(physical[i]!, caller);
  const lines: { scope: FrameScope; frame: LogicalFrame; pc: Addr; showAddress: boolean; tailArgs?: readonly NamedValue[] }[] = [];
  let truncated = false;
  outer: for (const scope of scopes) {
    for (const lf of scope.logicalFrames()) {
      if (lines.length >= max) {
        truncated = true;
        break outer;
      }
      lines.push({ scope, frame: lf, pc: lf.physical.pc, showAddress: lf.inlineDepth === 0 && !scope.pcAtLineStart });
    }
    // A function that left by a tail call into this frame's function sits between it and its caller.
    for (const t of await scope.tailCallFrames()) {
      if (lines.length >= max) {
        truncated = true;
        break outer;
      }
      lines.push({ scope, frame: t.frame, pc: t.pc, showAddress: true, tailArgs: t.args });
    }
  }
  const frames: BacktraceFrame[] = new Array(lines.length);
  for (let k = lines.length - 1; k >= 0; k--) {
    const l = lines[k]!;
    const args = opts.noArgs ? [] : (l.tailArgs ?? (await l.scope.args(l.frame)));
    const locals = opts.locals && !l.tailArgs ? await l.scope.locals(l.frame) : undefined;
    frames[k] = { index: k, frame: l.frame, pc: l.pc, showAddress: l.showAddress, args, ...(locals ? { locals } : {}) };
  }
  const end = truncated || beyond.length ? 'depth-limit' : stack.end;
  return stack.error && end === 'error' ? { thread, frames, end, error: stack.error } : { thread, frames, end };
}

function sameBytes(a: Value, b: Value): boolean {
  return !!a.bytes && !!b.bytes && a.bytes.length === b.bytes.length && a.bytes.every((x, i) => x === b.bytes![i]);
}

/** `name=value`, with gdb's entry-value forms (`a=a@entry=2`, `a@entry=2`, `a=3, a@entry=2`). */
export async function formatArgument(arg: NamedValue, ctx: FormatContext, scalarsOnly = true): Promise<string> {
  const opts = { scalarsOnly };
  const value = await formatValue(arg.value, ctx, opts);
  if (!arg.entry) return `${arg.name}=${value}`;
  const entry = await formatValue(arg.entry, ctx, opts);
  if (arg.value.status !== 'ok') return `${arg.name}@entry=${entry}`;
  if (sameBytes(arg.value, arg.entry)) return `${arg.name}=${arg.name}@entry=${entry}`;
  return `${arg.name}=${value}, ${arg.name}@entry=${entry}`;
}

/**
 * The seed's (and gdb's) line for a frame:
 * `#N  0xADDR in func (arg=val, ...) at file:line`, or `from LIBRARY` (a
 * shared library, not the main program) without a line; a signal trampoline is `<signal handler called>`.
 */
export async function formatBacktraceFrame(f: BacktraceFrame, ctx: FormatContext): Promise<string> {
  const num = `#${f.index}`.padEnd(3) + ' ';
  if (f.frame.physical.isSignalTrampoline && !f.frame.tailCall) return `${num}<signal handler called>`;
  const addr = f.showAddress ? `0x${f.pc.toString(16).padStart(16, '0')} in ` : '';
  const args = (await Promise.all(f.args.map((a) => formatArgument(a, ctx)))).join(', ');
  const where = f.frame.file !== undefined ? ` at ${f.frame.file}:${f.frame.line ?? '?'}` : f.frame.module && !f.frame.module.main ? ` from ${f.frame.module.path}` : '';
  return `${num}${addr}${f.frame.name ?? '??'} (${args})${where}`;
}

/** Lines of a backtrace: the thread header, one line per frame, locals indented under their frame. */
export async function formatBacktrace(bt: Backtrace, ctx: FormatContext): Promise<string[]> {
  const lines = [`thread ${bt.thread.tid}${bt.thread.name ? ` (${bt.thread.name})` : ''}:`];
  for (const f of bt.frames) {
    lines.push(await formatBacktraceFrame(f, ctx));
    for (const l of f.locals ?? []) lines.push(`        ${l.name} = ${await formatValue(l.value, ctx)}`);
  }
  if (bt.end === 'error') lines.push(`Backtrace stopped: ${bt.error}`);
  if (bt.end === 'depth-limit') lines.push('(More stack frames follow...)');
  return lines;
}
