import type { Probe } from '../probe/probe.js';
import type { ProbeHandlerResult, ProbeHit, ProbeOptions } from '../probe/types.js';
import type { Target } from '../target/target.js';
import type { Thread } from '../target/thread.js';

/** A value of an interpreted program, as its runtime holds it. */
export interface ScriptValue {
  /** The language's name of its type (`string`, `int`, `array`, `Greeter`). */
  readonly type: string;
  /** How the language would print it (`"world"`, `3`, `array(2)`). */
  readonly text: string;
  /** The value for JSON output. */
  readonly json: unknown;
}

/** A named argument of a script frame. */
export interface ScriptArgument {
  readonly name: string;
  readonly value: ScriptValue;
}

/** A frame of an interpreted program, as its runtime keeps it. */
export interface ScriptFrame {
  readonly index: number;
  /** The function's name; the runtime's name for top-level code (`{main}`). */
  readonly function: string;
  /** The class of a method, and how it was called (`->` on an object, `::` static). */
  readonly class?: string;
  readonly callType?: '->' | '::';
  /** Where the frame is executing; absent in a function of the runtime itself. */
  readonly file?: string;
  readonly line?: number;
  /** A function the runtime implements natively (PHP's internal functions). */
  readonly internal: boolean;
  readonly args: readonly ScriptArgument[];
}

/** A thread's stack of script frames, innermost first. */
export interface ScriptBacktrace {
  readonly thread: Thread;
  readonly language: string;
  readonly frames: readonly ScriptFrame[];
  readonly end: 'bottom' | 'depth-limit' | 'error';
  readonly error?: string;
}

/** A call of a probed script function: the machine's hit and the callee's frame. */
export interface ScriptCall {
  readonly hit: ProbeHit;
  readonly frame: ScriptFrame;
}

export type ScriptCallHandler = (call: ScriptCall) => ProbeHandlerResult | Promise<ProbeHandlerResult>;

/**
 * What a language overlay (PHP) offers besides a target: the interpreter's
 * own stacks, which the machine's stack only shows as the interpreter's loop,
 * and probes on the calls of the program's functions.
 */
export interface ScriptRuntime {
  readonly language: string;
  scriptBacktrace(thread: Thread, opts?: { readonly maxDepth?: number }): Promise<ScriptBacktrace>;
  /**
   * Probes the calls of a function of the program (`name`, `Class::method`):
   * the handler runs at each call, the process paused. The probe lives on the
   * process target below, which must run for it to fire.
   */
  probeFunction(spec: string, handler: ScriptCallHandler, opts?: ProbeOptions): Promise<Probe>;
}

/** The script runtime a target is, if it is one. */
export function scriptRuntimeOf(target: Target): ScriptRuntime | undefined {
  const t = target as Partial<ScriptRuntime>;
  return typeof t.scriptBacktrace === 'function' && typeof t.probeFunction === 'function' && typeof t.language === 'string' ? (target as unknown as ScriptRuntime) : undefined;
}

/** A frame's qualified name: `Greeter->greet`, `Greeter::relay`, `usleep`. */
export function scriptFrameName(f: ScriptFrame): string {
  return f.class ? `${f.class}${f.callType ?? '::'}${f.function}` : f.function;
}

/** A frame for JSON output. */
export function scriptFrameJson(f: ScriptFrame) {
  return {
    index: f.index,
    function: f.function,
    ...(f.class !== undefined ? { class: f.class, callType: f.callType } : {}),
    ...(f.file !== undefined ? { file: f.file, line: f.line ?? null } : {}),
    internal: f.internal,
    args: f.args.map((a) => ({ name: a.name, type: a.value.type, text: a.value.text, value: a.value.json })),
  };
}

/** One frame as a line: `#1  Greeter->greet($who="world", $n=3) at /srv/app.php:12`. */
export function formatScriptFrame(f: ScriptFrame): string {
  const name = scriptFrameName(f);
  const args = f.args.map((a) => `${a.name}=${a.value.text}`).join(', ');
  const where = f.file !== undefined ? ` at ${f.file}:${f.line ?? '?'}` : f.internal ? ' [internal function]' : '';
  return `${`#${f.index}`.padEnd(3)} ${name}(${args})${where}`;
}

/** Lines of a script backtrace: the thread header, then one line per frame. */
export function formatScriptBacktrace(bt: ScriptBacktrace): string[] {
  const lines = [`thread ${bt.thread.tid}${bt.thread.name ? ` (${bt.thread.name})` : ''}, ${bt.language} stack:`];
  for (const f of bt.frames) lines.push(formatScriptFrame(f));
  if (bt.end === 'error') lines.push(`Backtrace stopped: ${bt.error}`);
  if (bt.end === 'depth-limit') lines.push('(More stack frames follow...)');
  return lines;
}
