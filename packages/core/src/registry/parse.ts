import shellQuote from 'shell-quote';
import { UsageError } from '../errors.js';
import { isLogFlag } from '../log/flags.js';
import { ACTIVE_PROBING_FLAGS, COMMON_OPTIONS, STACK_OPTIONS } from './common-options.js';
import { optionKey, optionType, type DiscoveredPlugin, type OptionDecl } from './declarations.js';
import type { CommonOptions, OptionValue, TargetSpec } from './spec.js';

/*
 * Command-line parsing after the seed's argp model.
 *
 * Options come from four owners: the tool, core's common options, the stack
 * options (--base/--overlay), and the installed drivers (with their helpers).
 * Drivers' options are unique by design, so without -t the first option that
 * belongs to exactly one driver selects it. After that, an option of another
 * driver is an error naming both; an option several drivers share is resolved by
 * the selected driver, or is an error when none is selected yet. -t may appear
 * anywhere before the first ambiguous option: a pre-pass finds it.
 *
 * --base and --overlay carry whole target specs in one (shell-quoted) argument
 * and are parsed by the same machinery, recursively, producing a tree of specs.
 */

/** Where a parsed option came from. */
type Owner = { kind: 'tool' } | { kind: 'common' } | { kind: 'stack' } | { kind: 'driver'; drivers: Map<string, OptionDecl> };

/** What a tool gives the parser. */
export interface ParseOptions {
  /** Installed base and overlay drivers. */
  readonly drivers: readonly DiscoveredPlugin[];
  /** The tool's own options. */
  readonly toolOptions?: readonly OptionDecl[];
  /** Whether the tool takes target options at all (dumpdebuginfo does not). */
  readonly targets?: boolean;
}

/** The result of parsing a tool's command line. */
export interface ParsedCommandLine {
  readonly help: boolean;
  /** The tool's options, by key. */
  readonly tool: Readonly<Record<string, OptionValue>>;
  /** Non-option arguments for the tool (symbols to probe, files to dump). */
  readonly positionals: readonly string[];
  /** Base targets (the primary one first), each with its overlays. */
  readonly targets: readonly TargetSpec[];
  /** Logging settings (-d, -w, -l) of the command line. */
  readonly logging: { debug?: number; warn?: number; flags?: string[] };
}

interface Segment {
  driver?: string;
  selectedBy?: string;
  options: Record<string, OptionValue>;
  common: Record<string, OptionValue>;
  program?: string[];
  bases: string[];
  overlays: string[];
  tool: Record<string, OptionValue>;
  positionals: string[];
  help: boolean;
}

const HELP: OptionDecl = { long: 'help', short: 'h', help: 'Show this help' };

/** Parses a tool's argv into tool options, positionals and a tree of target specs. */
export function parseCommandLine(argv: readonly string[], opts: ParseOptions): ParsedCommandLine {
  const wantTargets = opts.targets ?? true;
  const top = parseSegment(argv, opts, { tool: true, stack: wantTargets, targets: wantTargets, where: '' });
  const logging: ParsedCommandLine['logging'] = {};
  if (top.common.debug !== undefined) logging.debug = top.common.debug as number;
  if (top.common.warn !== undefined) logging.warn = top.common.warn as number;
  if (top.common.logFlags !== undefined) logging.flags = top.common.logFlags as string[];
  if (top.help) return { help: true, tool: top.tool, positionals: top.positionals, targets: [], logging };

  const drafts: Draft[] = [];
  if (top.driver) drafts.push(toDraft(top, 'base', opts));
  else requireNoTargetOptions(top, top.bases.length ? 'the top-level options' : undefined);
  for (const b of top.bases) {
    const seg = parseSegment(splitSpec(b, '--base'), opts, { tool: false, stack: false, targets: true, where: `--base '${b}'` });
    if (!seg.driver) throw new UsageError(`--base '${b}': no driver selected: pass -t or an option of one driver`);
    drafts.push(toDraft(seg, 'base', opts));
  }
  const overlayDrafts: { draft: Draft; baseId?: number; thread: string; text: string }[] = [];
  for (const o of top.overlays) {
    const { baseId, thread, rest } = splitOverlayPrefix(o);
    const seg = parseSegment(splitSpec(rest, '--overlay'), opts, { tool: false, stack: false, targets: true, where: `--overlay '${o}'` });
    if (!seg.driver) throw new UsageError(`--overlay '${o}': no driver selected: pass -t with an overlay driver`);
    overlayDrafts.push(baseId === undefined ? { draft: toDraft(seg, 'overlay', opts), thread, text: o } : { draft: toDraft(seg, 'overlay', opts), baseId, thread, text: o });
  }
  if (overlayDrafts.length && !drafts.length) throw new UsageError('--overlay needs a base target: give target options or --base');

  // Ids: explicit -i first, then the smallest free ones in order of appearance.
  const used = new Set<number>();
  for (const d of [...drafts, ...overlayDrafts.map((o) => o.draft)]) {
    if (d.explicitId === undefined) continue;
    if (used.has(d.explicitId)) throw new UsageError(`-i ${d.explicitId}: two targets have this id`);
    used.add(d.explicitId);
  }
  let next = 1;
  const takeId = (d: Draft) => {
    if (d.explicitId !== undefined) return d.explicitId;
    while (used.has(next)) next++;
    used.add(next);
    return next;
  };
  const bases: TargetSpec[] = drafts.map((d) => ({ ...d.spec, id: takeId(d), overlays: [] }));
  // An overlay may sit on a base or on an overlay named before it (php on an os-process).
  const byId = new Map(bases.map((b) => [b.id, b]));
  for (const o of overlayDrafts) {
    const baseId = o.baseId ?? bases[0]!.id;
    const base = byId.get(baseId);
    if (!base) throw new UsageError(`--overlay '${o.text}': no target has id ${baseId} (a target an overlay sits on is named before it)`);
    const spec: TargetSpec = { ...o.draft.spec, id: takeId(o.draft), on: { baseId, thread: o.thread }, overlays: [] };
    base.overlays.push(spec);
    byId.set(spec.id, spec);
  }
  return { help: false, tool: top.tool, positionals: top.positionals, targets: bases, logging };
}

interface Draft {
  explicitId?: number;
  spec: Omit<TargetSpec, 'id' | 'overlays'>;
}

function toDraft(seg: Segment, kind: 'base' | 'overlay', opts: ParseOptions): Draft {
  const plugin = opts.drivers.find((d) => d.name === seg.driver)!;
  const wantKind = kind === 'base' ? 'base-driver' : 'overlay-driver';
  if (plugin.kind !== wantKind) {
    throw new UsageError(kind === 'base'
      ? `the ${plugin.name} driver is an overlay driver: use it with --overlay '[BASEID:]THREAD:-t ${plugin.name} ...'`
      : `the ${plugin.name} driver is a base driver, not an overlay driver`);
  }
  const c = seg.common;
  const common: CommonOptions = {
    activeProbing: (c.activeProbing as string[] | undefined) ?? [],
    debugfileLoadOpts: (c.debugfileLoadOpts as string[] | undefined) ?? [],
    softBreakpoints: c.softBreakpoints === true,
  };
  for (const k of ['errFile', 'inFile', 'outFile', 'debugfileRootPrefix', 'personality', 'personalityLib'] as const) {
    if (typeof c[k] === 'string') common[k] = c[k] as string;
  }
  for (const k of ['debug', 'warn'] as const) if (typeof c[k] === 'number') common[k] = c[k] as number;
  if (c.logFlags) common.logFlags = c.logFlags as string[];
  const spec: Omit<TargetSpec, 'id' | 'overlays'> = {
    driver: plugin.name,
    kind,
    options: seg.options,
    common,
    selectedBy: seg.selectedBy!,
    ...(seg.program ? { program: seg.program } : {}),
  };
  return typeof c.targetId === 'number' ? { explicitId: c.targetId, spec } : { spec };
}

function requireNoTargetOptions(seg: Segment, why?: string): void {
  const targetOnly = Object.keys(seg.common).filter((k) => !['debug', 'warn', 'logFlags'].includes(k));
  if (targetOnly.length === 0 && !seg.program) return;
  const example = targetOnly.length ? `--${COMMON_OPTIONS.find((o) => optionKey(o) === targetOnly[0])!.long}` : '--';
  throw new UsageError(`${example} needs a target, but no driver was selected${why ? ` in ${why}` : ''}: pass -t or an option of one driver`);
}

/** Splits `[BASEID:]THREAD:OPTS`. */
export function splitOverlayPrefix(text: string): { baseId?: number; thread: string; rest: string } {
  const parts = text.split(':');
  if (parts.length >= 3 && /^\d+$/.test(parts[0]!.trim()) && !parts[1]!.trimStart().startsWith('-')) {
    return { baseId: Number(parts[0]!.trim()), thread: parts[1]!.trim(), rest: parts.slice(2).join(':') };
  }
  if (parts.length >= 2 && parts[0]!.trim() !== '' && !parts[0]!.trimStart().startsWith('-')) {
    return { thread: parts[0]!.trim(), rest: parts.slice(1).join(':') };
  }
  throw new UsageError(`--overlay '${text}': expected [BASEID:]THREAD:TARGET_OPTIONS`);
}

/** Splits a nested spec with shell-style quoting. */
function splitSpec(text: string, opt: string): string[] {
  const words = shellQuote.parse(text);
  return words.map((w) => {
    if (typeof w !== 'string') throw new UsageError(`${opt} '${text}': shell operators are not allowed in a target spec`);
    return w;
  });
}

interface SegmentMode {
  tool: boolean;
  stack: boolean;
  targets: boolean;
  where: string;
}

function driverOptionTable(drivers: readonly DiscoveredPlugin[]): { long: Map<string, Map<string, OptionDecl>>; short: Map<string, Map<string, OptionDecl>> } {
  const long = new Map<string, Map<string, OptionDecl>>();
  const short = new Map<string, Map<string, OptionDecl>>();
  const add = (driver: string, o: OptionDecl) => {
    if (!long.has(o.long)) long.set(o.long, new Map());
    long.get(o.long)!.set(driver, o);
    if (o.short) {
      if (!short.has(o.short)) short.set(o.short, new Map());
      short.get(o.short)!.set(driver, o);
    }
  };
  for (const d of drivers) {
    if (d.kind === 'personality') continue;
    for (const o of d.options ?? []) add(d.name, o);
    for (const h of d.helpers ?? []) for (const o of h.options) add(d.name, o);
  }
  return { long, short };
}

function listNames(names: string[]): string {
  return names.length <= 2 ? names.join(' and ') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

type ArgInfo = { takesArg: boolean | 'ambiguous' } | undefined;

/**
 * Finds -t in argv. An option whose arity depends on the driver (xen's flag -M,
 * gdb's -M FILE) is read both ways; -t counts only when every reading finds the
 * same value.
 */
function prescanTargetType(argv: readonly string[], lookup: (tok: string, short: boolean) => ArgInfo, from = 0, depth = 0): string | undefined {
  const agree = (readings: (() => string | undefined)[]) => {
    if (depth > 8) return undefined;
    const found = readings.map((r) => r());
    return found.every((f) => f !== undefined && f === found[0]) ? found[0] : undefined;
  };
  const scan = (args: readonly string[], at: number) => () => prescanTargetType(args, lookup, at, depth + 1);
  for (let i = from; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    if (a === '-t' || a === '--target-type') return argv[i + 1];
    if (a.startsWith('--target-type=')) return a.slice('--target-type='.length);
    if (a.startsWith('--')) {
      const info = lookup(a.slice(2).split('=')[0]!, false);
      if (!info) return undefined;
      if (info.takesArg === 'ambiguous') return agree(a.includes('=') ? [scan(argv, i + 1)] : [scan(argv, i + 1), scan(argv, i + 2)]);
      if (info.takesArg && !a.includes('=')) i++;
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j]!;
        if (ch === 't') return j + 1 < a.length ? a.slice(j + 1) : argv[i + 1];
        const info = lookup(ch, true);
        if (!info) return undefined;
        const rest = a.slice(j + 1);
        if (info.takesArg === 'ambiguous') {
          // As a flag the cluster goes on; with an argument it ends here.
          const asFlag = rest ? scan([...argv.slice(0, i), `-${rest}`, ...argv.slice(i + 1)], i) : scan(argv, i + 1);
          return agree([asFlag, scan(argv, rest ? i + 1 : i + 2)]);
        }
        if (info.takesArg) {
          if (!rest) i++;
          break;
        }
      }
    }
  }
  return undefined;
}

function parseSegment(argv: readonly string[], opts: ParseOptions, mode: SegmentMode): Segment {
  const seg: Segment = { options: {}, common: {}, bases: [], overlays: [], tool: {}, positionals: [], help: false };
  const where = mode.where ? `${mode.where}: ` : '';
  const tool = mode.tool ? (opts.toolOptions ?? []) : [];
  const table = driverOptionTable(mode.targets ? opts.drivers : []);
  const commons = mode.targets ? COMMON_OPTIONS : COMMON_OPTIONS.filter((o) => ['debug', 'warn', 'log-flags'].includes(o.long));
  const stack = mode.stack ? STACK_OPTIONS : [];
  const fixed: [Owner, readonly OptionDecl[]][] = [
    [{ kind: 'tool' }, [...tool, HELP]],
    [{ kind: 'common' }, commons],
    [{ kind: 'stack' }, stack],
  ];

  const resolve = (name: string, isShort: boolean): { owner: Owner; decl?: OptionDecl } | undefined => {
    for (const [owner, decls] of fixed) {
      const d = decls.find((o) => (isShort ? o.short === name : o.long === name));
      if (d) return { owner, decl: d };
    }
    const cands = (isShort ? table.short : table.long).get(name);
    return cands ? { owner: { kind: 'driver', drivers: cands } } : undefined;
  };
  const isFlag = (o: OptionDecl) => optionType(o) === 'flag' || optionType(o) === 'count';
  const takesArg = (o: OptionDecl) => !isFlag(o) && !o.optionalArg;

  const t = prescanTargetType(argv, (name, isShort): ArgInfo => {
    const r = resolve(name, isShort);
    if (!r) return undefined;
    if (r.decl) return { takesArg: takesArg(r.decl) };
    const arities = new Set([...(r.owner as { drivers: Map<string, OptionDecl> }).drivers.values()].map(takesArg));
    return { takesArg: arities.size > 1 ? 'ambiguous' : [...arities][0]! };
  });
  if (t !== undefined && mode.targets) {
    const d = opts.drivers.find((p) => p.name === t && p.kind !== 'personality');
    if (!d) {
      const names = opts.drivers.filter((p) => p.kind !== 'personality').map((p) => p.name);
      throw new UsageError(`${where}-t ${t}: no such driver is installed (installed: ${names.join(', ') || 'none'})`);
    }
    seg.driver = d.name;
    seg.selectedBy = '-t';
  }

  const store = (owner: Owner, decl: OptionDecl, written: string, raw: string | undefined) => {
    const value = convert(decl, written, raw, where);
    const bucket = owner.kind === 'tool' ? seg.tool : owner.kind === 'common' ? seg.common : owner.kind === 'driver' ? seg.options : undefined;
    if (owner.kind === 'stack') {
      (decl.long === 'base' ? seg.bases : seg.overlays).push(value as string);
      return;
    }
    if (decl === HELP) {
      seg.help = true;
      return;
    }
    const key = optionKey(decl);
    if (decl.long === 'target-type') {
      // Selected by the pre-pass; a second, different -t is a conflict.
      if (seg.driver !== undefined && value !== seg.driver) {
        throw new UsageError(`${where}-t ${String(value)} conflicts with the ${seg.driver} driver selected by ${seg.selectedBy}`);
      }
      return;
    }
    if (optionType(decl) === 'count' || (decl.optionalArg && raw === undefined)) {
      bucket![key] = ((bucket![key] as number | undefined) ?? 0) + 1;
    } else if (decl.repeatable) {
      const prev = (bucket![key] as string[] | undefined) ?? [];
      bucket![key] = [...prev, ...(Array.isArray(value) ? value : [String(value)])];
    } else {
      bucket![key] = value;
    }
  };

  const pickDriverDecl = (written: string, cands: Map<string, OptionDecl>): OptionDecl => {
    if (seg.driver) {
      const d = cands.get(seg.driver);
      if (d) return d;
      const owners = [...cands.keys()];
      throw new UsageError(`${where}${written} is an option of the ${listNames(owners)} driver${owners.length > 1 ? 's' : ''}, but the ${seg.driver} driver was selected by ${seg.selectedBy}`);
    }
    if (cands.size > 1) {
      throw new UsageError(`${where}${written} is an option of drivers ${listNames([...cands.keys()])}: pass -t or a unique option first`);
    }
    const [name, decl] = [...cands][0]!;
    seg.driver = name;
    seg.selectedBy = written;
    return decl;
  };

  const unknown = (written: string) => new UsageError(`${where}unknown option ${written}${mode.tool ? " (see 'stackdb <tool> --help')" : ''}`);

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      const rest = argv.slice(i + 1);
      if (!mode.targets) {
        seg.positionals.push(...rest);
        break;
      }
      if (!seg.driver && rest.length) {
        const launchers = opts.drivers.filter((d) => d.kind === 'base-driver' && d.program);
        if (launchers.length === 1) {
          seg.driver = launchers[0]!.name;
          seg.selectedBy = '--';
        }
      }
      const drv = opts.drivers.find((d) => d.name === seg.driver);
      if (drv?.program) {
        if (rest.length) seg.program = [...rest];
      } else if (mode.tool) {
        seg.positionals.push(...rest);
      } else if (rest.length) {
        throw new UsageError(`${where}the ${seg.driver ?? 'selected'} driver does not launch programs: unexpected '${rest.join(' ')}'`);
      }
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const written = `--${name}`;
      const r = resolve(name, false);
      if (!r) throw unknown(written);
      const decl = r.decl ?? pickDriverDecl(written, (r.owner as { drivers: Map<string, OptionDecl> }).drivers);
      let raw: string | undefined;
      if (eq >= 0) {
        if (isFlag(decl)) throw new UsageError(`${where}${written} takes no value`);
        raw = a.slice(eq + 1);
      } else if (takesArg(decl)) {
        if (i + 1 >= argv.length) throw new UsageError(`${where}${written} needs a value (${decl.arg ?? 'VALUE'})`);
        raw = argv[++i];
      }
      store(r.owner, decl, written, raw);
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j]!;
        const written = `-${ch}`;
        const r = resolve(ch, true);
        if (!r) throw unknown(written);
        const decl = r.decl ?? pickDriverDecl(written, (r.owner as { drivers: Map<string, OptionDecl> }).drivers);
        if (isFlag(decl)) {
          store(r.owner, decl, written, undefined);
          continue;
        }
        let raw: string | undefined;
        if (j + 1 < a.length) raw = a.slice(j + 1);
        else if (!decl.optionalArg) {
          if (i + 1 >= argv.length) throw new UsageError(`${where}${written} needs a value (${decl.arg ?? 'VALUE'})`);
          raw = argv[++i];
        }
        store(r.owner, decl, written, raw);
        break;
      }
      continue;
    }
    if (!mode.tool) throw new UsageError(`${where}unexpected argument '${a}'`);
    seg.positionals.push(a);
  }
  return seg;
}

function convert(decl: OptionDecl, written: string, raw: string | undefined, where: string): OptionValue {
  const type = optionType(decl);
  if (type === 'flag') return true;
  if (type === 'count') return 1;
  if (raw === undefined) return 1; // optional-argument option given alone
  const bad = (what: string) => new UsageError(`${where}${written}: expected ${what}, got '${raw}'`);
  switch (type) {
    case 'int':
    case 'uint':
    case 'level': {
      if (!/^(-?\d+|0x[0-9a-f]+)$/i.test(raw)) throw bad(type === 'level' ? 'a level number' : 'a number');
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || (type !== 'int' && n < 0)) throw bad('a non-negative number');
      return n;
    }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (decl.long === 'active-probing') {
        const badFlag = items.find((f) => !(ACTIVE_PROBING_FLAGS as readonly string[]).includes(f));
        if (badFlag) throw new UsageError(`${where}${written}: unknown active probing flag '${badFlag}' (expected ${ACTIVE_PROBING_FLAGS.join(', ')})`);
      }
      if (decl.long === 'log-flags') {
        const badFlag = items.find((f) => !isLogFlag(f.toUpperCase()));
        if (badFlag) throw new UsageError(`${where}${written}: unknown log flag '${badFlag}' (expected names like T_LUP, D_DWARF, P_ALL)`);
      }
      return items;
    }
    case 'path':
    case 'string':
      if (raw === '') throw bad('a value');
      return raw;
  }
}
