/** One frame line of gdb's `bt` output, or of our backtrace text (the same shape). */
export interface GdbBacktraceFrame {
  readonly index: number;
  /** gdb omits the pc of a frame whose pc starts a line (the innermost at a breakpoint) and of inlined frames. */
  readonly pc?: bigint;
  readonly name: string;
  /** `name=value` strings, in the order printed. */
  readonly args: readonly string[];
  readonly file?: string;
  readonly line?: number;
}

/** Splits `a=1, b=0x10 "x, y", c={...}` at the commas that separate arguments (not inside strings, braces or brackets). */
export function splitGdbArgs(text: string): string[] {
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
    else if ('({[<'.includes(c)) depth++;
    else if (')}]>'.includes(c)) depth--;
    else if (c === ',' && depth === 0 && text[i + 1] === ' ') {
      out.push(text.slice(start, i));
      start = i + 2;
    }
  }
  if (text.slice(start).trim()) out.push(text.slice(start));
  return out;
}

/** The frame lines of a `bt` block (other lines are ignored). */
export function parseGdbBacktrace(text: string): GdbBacktraceFrame[] {
  const frames: GdbBacktraceFrame[] = [];
  for (const line of text.split('\n')) {
    const m = /^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) \((.*)\)(?: at (\S+):(\d+)| from \S+)?$/.exec(line);
    if (!m) continue;
    frames.push({
      index: Number(m[1]),
      ...(m[2] ? { pc: BigInt(m[2]) } : {}),
      name: m[3]!,
      args: splitGdbArgs(m[4]!),
      ...(m[5] ? { file: m[5], line: Number(m[6]) } : {}),
    });
  }
  return frames;
}

/**
 * Our frames without the tail-call frames gdb did not infer (it shows one only
 * where it can prove the chain of call sites): a tail-call frame is kept where
 * gdb's frame at the same position has its name.
 */
export function keepTailCallsGdbShows<T>(ours: readonly T[], theirs: readonly { readonly name: string }[], isTailCall: (f: T) => boolean, nameOf: (f: T) => string | null | undefined): T[] {
  const kept: T[] = [];
  for (const f of ours) if (!isTailCall(f) || theirs[kept.length]?.name === nameOf(f)) kept.push(f);
  return kept;
}
