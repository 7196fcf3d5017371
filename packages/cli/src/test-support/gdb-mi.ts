import { run } from '@stackdb/test-support';

/** A GDB/MI value: a string, a tuple or a list. */
export type MiValue = string | MiTuple | MiValue[];
/** A tuple; repeated names (`frame=…,frame=…` in lists) are kept in order. */
export interface MiTuple {
  readonly [name: string]: MiValue;
}

/**
 * Parses the results of one MI record (`^done,a="1",b={…}`): `result ("," result)*`
 * after the class. Lists of results (`[frame={…},frame={…}]`) become lists of
 * their values.
 */
export function parseMiRecord(line: string): { klass: string; results: MiTuple } {
  const m = /^\^(\w+)(?:,(.*))?$/.exec(line.trim());
  if (!m) throw new Error(`not an MI result record: ${line.slice(0, 200)}`);
  const text = m[2] ?? '';
  let i = 0;
  const fail = (what: string) => new Error(`MI parse error at ${i} (${what}): ${text.slice(Math.max(0, i - 40), i + 40)}`);
  const str = (): string => {
    if (text[i] !== '"') throw fail('string');
    i++;
    let out = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const c = text[i + 1]!;
        if (/[0-7]/.test(c)) {
          const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
          out += String.fromCharCode(parseInt(oct, 8));
          i += 1 + oct.length;
          continue;
        }
        out += ({ n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' } as Record<string, string>)[c] ?? c;
        i += 2;
        continue;
      }
      out += text[i++];
    }
    i++;
    return out;
  };
  const name = (): string => {
    const s = i;
    while (i < text.length && /[\w-]/.test(text[i]!)) i++;
    if (i === s) throw fail('name');
    return text.slice(s, i);
  };
  const value = (): MiValue => {
    if (text[i] === '"') return str();
    if (text[i] === '{') {
      i++;
      const t: Record<string, MiValue> = {};
      while (text[i] !== '}') {
        const n = name();
        if (text[i++] !== '=') throw fail('=');
        t[n] = value();
        if (text[i] === ',') i++;
      }
      i++;
      return t;
    }
    if (text[i] === '[') {
      i++;
      const l: MiValue[] = [];
      while (text[i] !== ']') {
        // A list of results: drop the names.
        if (/[\w-]/.test(text[i]!)) {
          const save = i;
          name();
          if (text[i] === '=') i++;
          else i = save;
        }
        l.push(value());
        if (text[i] === ',') i++;
      }
      i++;
      return l;
    }
    throw fail('value');
  };
  const results: Record<string, MiValue> = {};
  while (i < text.length) {
    const n = name();
    if (text[i++] !== '=') throw fail('=');
    results[n] = value();
    if (text[i] === ',') i++;
  }
  return { klass: m[1]!, results };
}

/** One frame as gdb shows it. */
export interface GdbFrame {
  readonly level: number;
  readonly addr: bigint;
  readonly func: string;
  readonly file?: string;
  readonly line?: number;
  /** Arguments by name, in gdb's order; entry values as `name@entry`. */
  args: { name: string; value: string }[];
  /** Locals (when asked for), innermost block first. */
  locals?: { name: string; value: string }[];
}

/** One thread's stack as gdb shows it. */
export interface GdbThread {
  readonly tid: number;
  readonly name?: string;
  readonly frames: GdbFrame[];
}

const THREAD_HEADER = /^Thread \d+ \(.*?LWP (\d+)\)(?: "(.*)")?\):$/;

/**
 * Every thread's frames with arguments (and locals) of a process, from gdb in
 * batch mode over MI commands: `-stack-list-frames`, `-stack-list-arguments
 * --all-values`, and per frame `-stack-list-locals --all-values`.
 */
export function gdbStacks(pid: number, opts: { locals?: boolean } = {}): GdbThread[] {
  const mi = (cmd: string) => `interpreter-exec mi "${cmd}"`;
  const out = run('gdb', [
    '-batch', '-nx', '-p', String(pid),
    '-ex', 'set backtrace past-main on',
    '-ex', 'set backtrace limit unlimited',
    '-ex', `thread apply all ${mi('-stack-list-frames')}`,
    '-ex', `thread apply all ${mi('-stack-list-arguments --all-values')}`,
    ...(opts.locals ? ['-ex', `thread apply all frame apply all -q ${mi('-stack-list-locals --all-values')}`] : []),
  ], { timeoutMs: 120_000 });
  const threads = new Map<number, GdbThread>();
  const pass: ('frames' | 'args' | 'locals')[] = ['frames', 'args', 'locals'];
  let phase = -1;
  let current: GdbThread | undefined;
  let localLevel = 0;
  let seenInPhase = new Set<number>();
  for (const line of out.split('\n')) {
    const h = THREAD_HEADER.exec(line);
    if (h) {
      const tid = Number(h[1]);
      if (phase < 0 || seenInPhase.has(tid)) {
        phase++;
        seenInPhase = new Set();
      }
      seenInPhase.add(tid);
      current = threads.get(tid);
      if (!current) threads.set(tid, (current = { tid, ...(h[2] !== undefined ? { name: h[2] } : {}), frames: [] }));
      localLevel = 0;
      continue;
    }
    if (!current || !line.startsWith('^')) continue;
    const { klass, results } = parseMiRecord(line);
    const what = pass[phase];
    if (klass !== 'done') {
      // A frame gdb could not list locals for still takes its place in the sequence.
      if (what === 'locals') localLevel++;
      continue;
    }
    if (what === 'frames') {
      for (const f of results.stack as MiTuple[]) {
        const file = f.file as string | undefined;
        current.frames.push({
          level: Number(f.level), addr: BigInt(f.addr as string), func: (f.func as string | undefined) ?? '??',
          ...(file !== undefined ? { file, line: Number(f.line) } : {}), args: [],
        });
      }
    } else if (what === 'args') {
      for (const f of results['stack-args'] as MiTuple[]) {
        const frame = current.frames[Number(f.level)];
        if (frame) frame.args = (f.args as MiTuple[]).map((a) => ({ name: a.name as string, value: (a.value as string | undefined) ?? '' }));
      }
    } else if (what === 'locals') {
      const frame = current.frames[localLevel++];
      if (frame) frame.locals = (results.locals as MiTuple[]).map((a) => ({ name: a.name as string, value: (a.value as string | undefined) ?? '' }));
    }
  }
  return [...threads.values()].sort((a, b) => a.tid - b.tid);
}

/** gdb's text for "no value here": optimized out, unavailable, or an error reading it. */
export function gdbHasNoValue(v: string): boolean {
  return v === '<optimized out>' || v === '<unavailable>' || v.startsWith('<error');
}
