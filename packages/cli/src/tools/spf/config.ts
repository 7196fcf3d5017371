import { UsageError } from '@stackdb/core';

/*
 * The spf configuration language (the original's README.spf): one directive,
 *
 *   ProbeFilter SYMBOL [id(ID)] [when(pre|post)] [disable()]
 *       [vfilter(NAME=/REGEX/,...)] [tfilter(NAME=/REGEX/,...)]
 *       [print()] [bt()] [report(rt=i|f,tn=NAME,tid=N,rv=VALUE,msg="TEXT",ttctx=...)]
 *       [enable(ID)] [disable(ID)] [remove(ID)] [abort(CODE)] [exit(CODE)]
 *
 * a line each (a trailing backslash continues it), `#` comments, blank lines.
 */

/** A line of the configuration that makes no sense. */
export class SpfConfigError extends UsageError {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
  }
}

/** A NAME=/REGEX/ test of a filter. */
export interface Match {
  readonly name: string;
  readonly re: RegExp;
}

/** What a matching filter does, in the order its line says. */
export type SpfAction =
  | { readonly kind: 'print' }
  | { readonly kind: 'bt' }
  | { readonly kind: 'report'; readonly fields: Readonly<Record<string, string>> }
  | { readonly kind: 'enable' | 'disable' | 'remove'; readonly id: string }
  | { readonly kind: 'abort'; readonly code: bigint }
  | { readonly kind: 'exit'; readonly code: number };

/** One ProbeFilter line. */
export interface ProbeFilterSpec {
  readonly symbol: string;
  readonly id?: string;
  readonly when: 'pre' | 'post';
  readonly disabled: boolean;
  readonly vfilter: readonly Match[];
  readonly tfilter: readonly Match[];
  readonly actions: readonly SpfAction[];
  /** Where it was written (`FILE:LINE`, or `argument N`). */
  readonly where: string;
}

const TFILTER_NAMES = new Set(['tid', 'ptid', 'tidhier', 'name', 'namehier', 'uid', 'gid']);
const REPORT_FIELDS = new Set(['rt', 'tn', 'tid', 'rv', 'msg', 'ttctx']);

/** Where the regex or string opening at `i` (`/…/`, `"…"`, with backslash escapes) closes, or -1. */
function closingDelimiter(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === text[i]) return j;
  }
  return -1;
}

/** Splits `name(args) name(args) ...`; `/…/` and `"…"` may hold parentheses, commas and spaces. */
function terms(text: string, where: string): { name: string; args: string }[] {
  const out: { name: string; args: string }[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i]!)) {
      i++;
      continue;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\(/.exec(text.slice(i));
    if (!m) throw new SpfConfigError(where, `expected NAME(...) at "${text.slice(i, i + 20)}"`);
    i += m[0].length;
    const start = i;
    for (; i < text.length && text[i] !== ')'; i++) {
      if (text[i] !== '/' && text[i] !== '"') continue;
      const end = closingDelimiter(text, i);
      i = end < 0 ? text.length : end;
    }
    if (i >= text.length) throw new SpfConfigError(where, `${m[1]}( has no closing parenthesis`);
    out.push({ name: m[1]!, args: text.slice(start, i).trim() });
    i++;
  }
  return out;
}

/** Splits `a=/x,y/,b="z"` at the commas outside regexes and quotes. */
function pairs(args: string, where: string, what: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < args.length) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*/.exec(args.slice(i));
    if (!m) throw new SpfConfigError(where, `${what}: expected NAME=VALUE at "${args.slice(i, i + 20)}"`);
    i += m[0].length;
    let value: string;
    const open = args[i];
    if (open === '/' || open === '"') {
      const j = closingDelimiter(args, i);
      if (j < 0) throw new SpfConfigError(where, `${what}: ${m[1]}= has an unterminated ${open === '/' ? 'regex' : 'string'}`);
      value = args.slice(i, j + 1);
      i = j + 1;
    } else {
      const j = args.indexOf(',', i);
      value = args.slice(i, j < 0 ? args.length : j).trim();
      i = j < 0 ? args.length : j;
    }
    out.push([m[1]!, value]);
    i = /^\s*,?/.exec(args.slice(i))![0].length + i;
  }
  return out;
}

function matches(args: string, where: string, what: string, allowed?: ReadonlySet<string>): Match[] {
  return pairs(args, where, what).map(([name, value]) => {
    if (allowed && !allowed.has(name)) throw new SpfConfigError(where, `${what}: unknown name ${name} (one of ${[...allowed].join(', ')})`);
    if (!value.startsWith('/')) throw new SpfConfigError(where, `${what}: ${name}= wants a /regex/`);
    try {
      return { name, re: new RegExp(value.slice(1, -1)) };
    } catch (err) {
      throw new SpfConfigError(where, `${what}: ${name}=${value}: ${(err as Error).message}`);
    }
  });
}

function integer(args: string, where: string, what: string): bigint {
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(args)) throw new SpfConfigError(where, `${what}() wants an integer, not "${args}"`);
  return args.startsWith('-') ? -BigInt(args.slice(1)) : BigInt(args);
}

function identifier(args: string, where: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(args)) throw new SpfConfigError(where, `${what}() wants a filter id, not "${args}"`);
  return args;
}

/** One filter from its text after `ProbeFilter` (or a command-line argument). A filter with no action prints. */
export function parseFilter(text: string, where: string): ProbeFilterSpec {
  const m = /^\s*(\S+)\s*(.*)$/s.exec(text);
  if (!m || m[1]!.includes('(')) throw new SpfConfigError(where, 'a filter starts with the symbol to probe');
  const spec: { -readonly [K in keyof ProbeFilterSpec]: ProbeFilterSpec[K] } = { symbol: m[1]!, when: 'pre', disabled: false, vfilter: [], tfilter: [], actions: [], where };
  const actions: SpfAction[] = [];
  const once = new Set<string>();
  for (const { name, args } of terms(m[2]!, where)) {
    if (['id', 'when', 'vfilter', 'tfilter', 'print', 'bt', 'report', 'abort', 'exit'].includes(name) || (name === 'disable' && !args)) {
      const key = name === 'disable' ? 'disable()' : name;
      if (once.has(key)) throw new SpfConfigError(where, `${key} may be given once`);
      once.add(key);
    }
    switch (name) {
      case 'id':
        spec.id = identifier(args, where, 'id');
        break;
      case 'when':
        if (args !== 'pre' && args !== 'post') throw new SpfConfigError(where, `when() is pre or post, not "${args}"`);
        spec.when = args;
        break;
      case 'vfilter':
        spec.vfilter = matches(args, where, 'vfilter');
        break;
      case 'tfilter':
        spec.tfilter = matches(args, where, 'tfilter', TFILTER_NAMES);
        break;
      case 'print':
      case 'bt':
        actions.push({ kind: name });
        break;
      case 'report': {
        const fields: Record<string, string> = {};
        for (const [k, v] of pairs(args, where, 'report')) {
          if (!REPORT_FIELDS.has(k)) throw new SpfConfigError(where, `report: unknown field ${k} (one of ${[...REPORT_FIELDS].join(', ')})`);
          fields[k] = v.startsWith('"') ? v.slice(1, -1) : v;
        }
        actions.push({ kind: 'report', fields });
        break;
      }
      case 'disable':
        if (!args) spec.disabled = true;
        else actions.push({ kind: 'disable', id: identifier(args, where, 'disable') });
        break;
      case 'enable':
      case 'remove':
        actions.push({ kind: name, id: identifier(args, where, name) });
        break;
      case 'abort':
        actions.push({ kind: 'abort', code: integer(args, where, 'abort') });
        break;
      case 'exit':
        actions.push({ kind: 'exit', code: Number(integer(args, where, 'exit')) });
        break;
      default:
        throw new SpfConfigError(where, `unknown option ${name}()`);
    }
  }
  spec.actions = actions.length ? actions : [{ kind: 'print' }];
  return spec;
}

/** Every ProbeFilter of a configuration file's text; ids must be unique. */
export function parseConfig(text: string, file: string): ProbeFilterSpec[] {
  const out: ProbeFilterSpec[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++i]!;
    const body = line.trim();
    if (!body || body.startsWith('#')) continue;
    const m = /^ProbeFilter\s+(.*)$/s.exec(body);
    if (!m) throw new SpfConfigError(`${file}:${first}`, `unknown directive "${body.split(/\s/)[0]}" (only ProbeFilter is)`);
    out.push(parseFilter(m[1]!, `${file}:${first}`));
  }
  checkIds(out);
  return out;
}

/** Ids are unique, and enable/disable/remove name one. */
export function checkIds(filters: readonly ProbeFilterSpec[]): void {
  const ids = new Set<string>();
  for (const f of filters) {
    if (f.id === undefined) continue;
    if (ids.has(f.id)) throw new SpfConfigError(f.where, `id ${f.id} is given twice`);
    ids.add(f.id);
  }
  for (const f of filters) {
    for (const a of f.actions) {
      if ((a.kind === 'enable' || a.kind === 'disable' || a.kind === 'remove') && !ids.has(a.id)) throw new SpfConfigError(f.where, `${a.kind}(${a.id}): no filter has that id`);
    }
  }
}
