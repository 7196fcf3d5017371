import {
  evaluate,
  isFunctionSymbol,
  rowAddress,
  rowFor,
  LineFlag,
  sizeOf,
  strip,
  type CompileUnit,
  type DebugFile,
  type DwarfType,
  type FunctionSymbol,
  type InlinedInstance,
  type LineTable,
  type Scope,
  type VariableSymbol,
} from '@stackdb/dwdebug';
import { LookupError } from '../errors.js';
import type { ModuleSymbol, ProgramSymbols } from '../symbols/program.js';
import type { Target } from '../target/target.js';
import type { Addr, LoadedModule } from '../target/types.js';

/*
 * Probe points by name, resolved against a target's loaded modules:
 *
 *   0xADDR                an address (a function's entry when it is one)
 *   FILE:LINE             every run of code of a source line
 *   NAME                  a function (after its prologue, as `break NAME` in
 *                         gdb, so arguments are where DWARF says), or a
 *                         global variable (a watchpoint)
 *   FILE.c:NAME           a function (static ones too) defined in that file
 *   OBJECT:NAME           a function or variable of one loaded object
 *                         (`libc.so.6:open`, a kernel module)
 *   a.b.c                 a variable reached through members, following
 *                         pointers (a watchpoint on the last one)
 *
 * Names are looked up in ELF symbol tables first (cheap, and they tell which
 * object defines the name), then in that object's DWARF; the main program
 * comes first and wins. A function that exists only inlined (or with
 * `inlined: true`, also its inlined copies) gives one address per copy.
 */

/** What a probe point is. */
export type ProbePointKind = 'function' | 'inlined' | 'line' | 'address' | 'variable';

/** A watched variable. */
export interface WatchTarget {
  readonly address: Addr;
  /** Bytes, from its type (or the ELF symbol's size). */
  readonly size: number;
  readonly type?: DwarfType;
  readonly symbol?: VariableSymbol;
}

/** A resolved probe point. */
export interface ProbePoint {
  /** What the user wrote. */
  readonly spec: string;
  readonly kind: ProbePointKind;
  /** How hits name it: the function, `file:line`, the variable, or the address. */
  readonly name: string;
  /** Runtime addresses where the code probe goes (none for variables). */
  readonly addresses: readonly Addr[];
  /** For functions: the runtime address of the first instruction. */
  readonly entry?: Addr;
  /** For functions and inlined copies, their code; for lines, the innermost block holding them (runtime [start, end)). */
  readonly ranges?: readonly (readonly [Addr, Addr])[];
  readonly module?: LoadedModule;
  readonly debugFile?: DebugFile;
  /** The DWARF function (for inlined copies, the inlined function's abstract instance). */
  readonly function?: FunctionSymbol;
  /** For `inlined` points: the copies, one per address. */
  readonly inlined?: readonly InlinedInstance[];
  /** The ELF symbol, when there is one. */
  readonly symbol?: ModuleSymbol;
  /** For variables. */
  readonly watch?: WatchTarget;
  /** For lines. */
  readonly file?: string;
  readonly line?: number;
}

/** Options of {@link resolveProbePoints}. */
export interface ResolveOptions {
  /** Probe functions after their prologue (default true), as a debugger's `break NAME`. */
  readonly afterPrologue?: boolean;
  /** Also probe every inlined copy of a function (default false; a function that only exists inlined is probed in its copies anyway). */
  readonly inlined?: boolean;
  /** Accept variables (watchpoints); default true. */
  readonly variables?: boolean;
}

const SOURCE_FILE = /(\.(c|h|cc|cpp|cxx|hpp|hh|s|S|C|m|mm|go|rs|f90|adb|ads)$|\/)/;

/**
 * Resolves a probe point spec (see the comment above); throws LookupError when
 * nothing matches, after reading the module list again (a library may have
 * been loaded since it was read).
 */
export async function resolveProbePoints(program: ProgramSymbols, spec: string, opts: ResolveOptions = {}): Promise<ProbePoint[]> {
  try {
    return await resolveOnce(program, spec, opts);
  } catch (err) {
    if (!(err instanceof LookupError)) throw err;
    program.invalidate();
    return resolveOnce(program, spec, opts);
  }
}

async function resolveOnce(program: ProgramSymbols, spec: string, opts: ResolveOptions): Promise<ProbePoint[]> {
  const s = spec.trim();
  if (/^0x[0-9a-f]+$/i.test(s)) return [await addressPoint(program, s, BigInt(s))];
  const fileLine = /^(.+):(\d+)$/.exec(s);
  if (fileLine) return linePoints(program, s, fileLine[1]!, Number(fileLine[2]));
  const colon = s.lastIndexOf(':');
  const scope = colon > 0 ? s.slice(0, colon) : undefined;
  const name = colon > 0 ? s.slice(colon + 1) : s;
  if (!name) throw new LookupError(`bad probe point '${spec}'`);
  const modules = await program.modules();
  let restrictModule: LoadedModule[] | undefined;
  let restrictFile: string | undefined;
  if (scope !== undefined) {
    const byName = modules.filter((m) => m.name === scope || m.path === scope || m.path.endsWith('/' + scope));
    if (byName.length) restrictModule = byName;
    else if (SOURCE_FILE.test(scope)) restrictFile = scope;
    else throw new LookupError(`no loaded object or source file named ${scope} (in '${spec}')`);
  }
  const mods = [...(restrictModule ?? modules)].sort((a, b) => Number(b.main === true) - Number(a.main === true));
  if (name.includes('.') && !restrictFile) {
    const chained = await chainPoint(program, s, name, mods, opts);
    if (chained) return [chained];
  }
  const found = await namedPoints(program, s, name, mods, restrictFile, opts);
  if (found.length) return found;
  throw new LookupError(`no function${opts.variables === false ? '' : ' or variable'} named ${name}${restrictFile ? ` in ${restrictFile}` : restrictModule ? ` in ${scope}` : ''}`);
}

async function addressPoint(program: ProgramSymbols, spec: string, address: Addr): Promise<ProbePoint> {
  const loc = await program.describe(address);
  const fn = loc.function?.function;
  const bias = loc.module?.bias ?? 0n;
  const isEntry = fn !== undefined && fn.entryPc !== undefined && fn.entryPc + bias === address;
  const isSymbol = loc.symbol !== undefined && loc.symbol.start === address;
  return {
    spec,
    kind: isEntry || isSymbol ? 'function' : 'address',
    name: isEntry ? (fn!.name ?? spec) : isSymbol ? loc.symbol!.name : spec,
    addresses: [address],
    ...(isEntry || isSymbol ? { entry: address } : {}),
    ...(isEntry ? { function: fn!, ranges: fn!.ranges.map((r) => [r.start + bias, r.end + bias] as const) } : {}),
    ...(loc.module ? { module: loc.module } : {}),
    ...(loc.debugFile ? { debugFile: loc.debugFile } : {}),
    ...(loc.symbol ? { symbol: loc.symbol } : {}),
  };
}

async function linePoints(program: ProgramSymbols, spec: string, file: string, line: number): Promise<ProbePoint[]> {
  const out: ProbePoint[] = [];
  for (const m of await program.modules()) {
    const df = await program.debugFile(m);
    const hits = df?.addressesOf(file, line) ?? [];
    if (!hits.length || !df) continue;
    // A function's opening line is probed after its prologue, as a debugger does.
    const linkAddresses = await Promise.all(hits.map((h) => {
      const fn = df.functionAt(h.address)?.function;
      return fn && fn.entryPc === h.address ? afterPrologue(program.target, df, fn, h.address, m.bias) : Promise.resolve(h.address);
    }));
    const addresses = linkAddresses.map((a) => a + m.bias);
    const at = df.functionAt(hits[0]!.address);
    const fn = at?.function;
    const moved = addresses[0]! - m.bias !== hits[0]!.address ? df.lineAt(addresses[0]! - m.bias) : undefined;
    const ln = moved?.line ?? hits[0]!.line;
    // The innermost block (or inlined call, or function) holding the line: what an instruction probe steps through.
    const block = at?.scopes.find((sc) => sc.ranges.length > 0);
    const ranges = block?.ranges.map((r) => [r.start + m.bias, r.end + m.bias] as const);
    out.push({ spec, kind: 'line', name: `${file}:${ln}`, addresses, module: m, debugFile: df, ...(fn ? { function: fn } : {}), ...(ranges ? { ranges } : {}), file: hits[0]!.file, line: ln });
  }
  if (!out.length) throw new LookupError(`no code for ${file}:${line}`);
  return out;
}

async function namedPoints(program: ProgramSymbols, spec: string, name: string, mods: readonly LoadedModule[], file: string | undefined, opts: ResolveOptions): Promise<ProbePoint[]> {
  // ELF symbols say which object defines the name; without them (stripped, or a function that only exists inlined) DWARF is searched.
  const withElf: LoadedModule[] = [];
  const elf = new Map<LoadedModule, ModuleSymbol[]>();
  for (const m of mods) {
    const bf = await program.binfile(m);
    const syms = (bf?.symbolsNamed(name) ?? []).filter((x) => x.shndx !== 0 && x.type !== 'section' && x.type !== 'file');
    if (!syms.length) continue;
    withElf.push(m);
    elf.set(m, syms.map((x) => ({ name: x.name, start: x.value + m.bias, size: x.size, module: m, elf: x })));
  }
  const order = file ? mods : withElf.length ? withElf : mods.filter((m) => m.main).concat(mods.filter((m) => !m.main));
  for (const m of order) {
    const points = await pointsInModule(program, spec, name, m, elf.get(m) ?? [], file, opts);
    if (points.length) return points;
  }
  return [];
}

function declaredIn(fn: { declFile?: string | undefined; unit: { name: string | undefined } }, file: string): boolean {
  const ends = (p: string | undefined) => p !== undefined && (p === file || p.endsWith('/' + file));
  return ends(fn.declFile) || ends(fn.unit.name);
}

async function pointsInModule(program: ProgramSymbols, spec: string, name: string, m: LoadedModule, syms: readonly ModuleSymbol[], file: string | undefined, opts: ResolveOptions): Promise<ProbePoint[]> {
  const df = await program.debugFile(m);
  const dwarf = df ? df.lookupGlobals(name) : [];
  const fns = dwarf.filter((s): s is FunctionSymbol => s.kind === 'function' && (!file || declaredIn(s, file)));
  const out: ProbePoint[] = [];
  const withCode = fns.filter((f) => f.ranges.length > 0 && !f.declaration);
  for (const fn of withCode) out.push(await functionPoint(program, spec, m, df!, fn, syms, opts));
  if (df && (opts.inlined || !withCode.length)) {
    const abstract = fns.find((f) => f.ranges.length === 0) ?? withCode[0];
    if (abstract) {
      const copies = inlinedInstancesOf(df, abstract);
      if (copies.length) {
        const entries = copies.map((c) => c.entryPc).filter((a): a is bigint => a !== undefined);
        out.push({
          spec, kind: 'inlined', name, module: m, debugFile: df, function: abstract, inlined: copies,
          addresses: entries.map((a) => a + m.bias),
          ranges: copies.flatMap((c) => c.ranges.map((r) => [r.start + m.bias, r.end + m.bias] as const)),
        });
      }
    }
  }
  if (out.length || file) return out;
  const funcSyms = syms.filter((x) => isFunctionSymbol(x.elf));
  if (funcSyms.length) {
    // An ELF function without DWARF: its entry, no typed values.
    const sym = funcSyms.find((x) => x.elf.binding === 'global') ?? funcSyms[0]!;
    return [{ spec, kind: 'function', name, addresses: [sym.start], entry: sym.start, module: m, symbol: sym, ...(sym.size ? { ranges: [[sym.start, sym.start + sym.size] as const] } : {}) }];
  }
  if (opts.variables === false) return [];
  const v = dwarf.find((s): s is VariableSymbol => s.kind === 'variable' && !s.declaration) ?? dwarf.find((s): s is VariableSymbol => s.kind === 'variable');
  if (v && df) {
    const address = await variableAddress(program, m, df, v);
    if (address !== undefined) return [{ spec, kind: 'variable', name, addresses: [], module: m, debugFile: df, watch: { address, size: sizeOf(v.type) ?? 1, type: v.type, symbol: v } }];
  }
  const obj = syms.find((x) => x.elf.type === 'object');
  if (obj) return [{ spec, kind: 'variable', name, addresses: [], module: m, symbol: obj, watch: { address: obj.start, size: Number(obj.size) || 1 } }];
  return [];
}

async function functionPoint(program: ProgramSymbols, spec: string, m: LoadedModule, df: DebugFile, fn: FunctionSymbol, syms: readonly ModuleSymbol[], opts: ResolveOptions): Promise<ProbePoint> {
  const entryLink = fn.entryPc!;
  const at = opts.afterPrologue === false ? entryLink : await afterPrologue(program.target, df, fn, entryLink, m.bias);
  const entry = entryLink + m.bias;
  const sym = syms.find((x) => x.start === entry);
  return {
    spec, kind: 'function', name: fn.name ?? spec, addresses: [at + m.bias], entry, module: m, debugFile: df, function: fn,
    ranges: fn.ranges.map((r) => [r.start + m.bias, r.end + m.bias] as const),
    ...(sym ? { symbol: sym } : {}),
  };
}

/**
 * Where a debugger's `break FUNC` goes (gdb's amd64 rules): for clang code,
 * the line table's prologue_end row (or the second row); for other
 * compilers, after a frame-pointer prologue (`[endbr64] push %rbp; mov
 * %rsp,%rbp`), moved on to the start of the next line-table row when that
 * lands inside a line, which at -O0 is where the arguments have been stored;
 * code without that prologue (optimized) is probed at its entry.
 */
export async function afterPrologue(target: Target, df: DebugFile, fn: FunctionSymbol, entry: Addr, bias: Addr): Promise<Addr> {
  const range = fn.ranges.find((r) => r.start <= entry && entry < r.end);
  const unit = df.functionAt(entry)?.unit;
  const t = unit?.lineTable();
  if (!range || !t || !t.length) return entry;
  if (/clang/i.test(unit?.producer ?? '')) return prologueEndRow(t, entry, range.end) ?? entry;
  const code = await target.read(entry + bias, 16).catch(() => undefined);
  const pc = code ? entry + BigInt(framePointerPrologue(code)) : entry;
  if (pc === entry) return entry;
  // Inside a line: on to the next row (the body's first line at -O0).
  const i = rowFor(t, pc);
  if (i < 0 || rowAddress(t, i) === pc) return pc;
  for (let j = i + 1; j < t.length; j++) {
    const a = rowAddress(t, j);
    if (a <= pc) continue;
    if (t.flags[j - 1]! & LineFlag.endSequence || a >= range.end) break;
    return a;
  }
  return pc;
}

/** Bytes of a frame-pointer prologue at the start of `code` (0 when there is none). */
function framePointerPrologue(code: Uint8Array): number {
  let i = 0;
  if (code[0] === 0xf3 && code[1] === 0x0f && code[2] === 0x1e && code[3] === 0xfa) i = 4; // endbr64
  if (code[i] !== 0x55) return 0; // push %rbp
  i++;
  const mov = [code[i], code[i + 1], code[i + 2]];
  if ((mov[0] === 0x48 && mov[1] === 0x89 && mov[2] === 0xe5) || (mov[0] === 0x48 && mov[1] === 0x8b && mov[2] === 0xec)) return i + 3; // mov %rsp,%rbp
  return 0;
}

/** The row flagged prologue_end in a function (clang), else its second statement row. */
function prologueEndRow(t: LineTable, entry: Addr, end: Addr): Addr | undefined {
  let i = rowFor(t, entry);
  if (i < 0) return undefined;
  while (i > 0 && rowAddress(t, i - 1) === entry && !(t.flags[i - 1]! & LineFlag.endSequence)) i--;
  let second: Addr | undefined;
  for (let j = i; j < t.length; j++) {
    const a = rowAddress(t, j);
    if (a >= end || t.flags[j]! & LineFlag.endSequence) break;
    if (t.flags[j]! & LineFlag.prologueEnd) return a;
    if (second === undefined && a > entry && t.flags[j]! & LineFlag.isStmt && t.line[j]) second = a;
  }
  return second;
}

/** Every inlined copy of a function in the unit that defines it (where compilers put them, LTO aside). */
export function inlinedInstancesOf(df: DebugFile, fn: FunctionSymbol): InlinedInstance[] {
  const unit = df.units().find((u: CompileUnit) => u.index === fn.unit.index && u.name === fn.unit.name);
  if (!unit) return [];
  const same = (o: FunctionSymbol | undefined) => o !== undefined && (o.id === fn.id || (o.name === fn.name && o.declFile === fn.declFile && o.declLine === fn.declLine));
  const out: InlinedInstance[] = [];
  const walk = (s: Scope, depth: number) => {
    if (depth > 200) return;
    for (const c of s.scopes) {
      if (c.kind === 'inlined' && c.owner?.kind === 'inlined' && same(c.owner.origin) && c.owner.entryPc !== undefined) out.push(c.owner);
      walk(c, depth + 1);
    }
  };
  for (const sym of unit.scope().symbols) if (sym.kind === 'function' && sym.ranges.length) walk(sym.scope, 0);
  return out;
}

/** A global or static variable's runtime address (a static location), or undefined. */
async function variableAddress(program: ProgramSymbols, m: LoadedModule, df: DebugFile, v: VariableSymbol): Promise<Addr | undefined> {
  const defs = df.resolveDeclaration(v);
  const def = (defs.find((d) => d.kind === 'variable' && (d as VariableSymbol).location) ?? v) as VariableSymbol;
  const loc = def.location;
  if (loc?.kind !== 'expr') return undefined;
  const unit = df.units().find((u) => u.index === def.unit.index && u.name === def.unit.name);
  if (!unit) return undefined;
  const target = program.target;
  try {
    const r = await evaluate(loc.expr, unit.env(m.bias), { register: async () => undefined, memory: (a, n) => target.read(a, n) });
    return r.kind === 'memory' ? r.address : undefined;
  } catch {
    return undefined;
  }
}

/** `a.b.c`: the global `a`, then members, dereferencing pointers on the way. */
async function chainPoint(program: ProgramSymbols, spec: string, chain: string, mods: readonly LoadedModule[], opts: ResolveOptions): Promise<ProbePoint | undefined> {
  if (opts.variables === false) return undefined;
  for (const m of mods) {
    const df = await program.debugFile(m);
    const c = df?.lookupChain(chain);
    if (!c || !df || c.symbol.kind !== 'variable') continue;
    let address = await variableAddress(program, m, df, c.symbol);
    if (address === undefined) continue;
    let type: DwarfType = c.symbol.type;
    for (const step of c.steps) {
      let t = strip(type);
      for (let i = 0; i < 8 && t.kind === 'pointer'; i++) {
        address = await program.target.readPointer(address);
        if (address === 0n) throw new LookupError(`${chain}: a NULL pointer on the way to ${step.member.name ?? 'a member'}`);
        t = strip(t.target);
      }
      address += BigInt(Math.floor((step.bitOffset ?? 0) / 8));
      type = step.member.type;
    }
    return { spec, kind: 'variable', name: chain, addresses: [], module: m, debugFile: df, watch: { address, size: sizeOf(type) ?? 1, type } };
  }
  return undefined;
}

/**
 * Splits `size` bytes at `address` into naturally aligned pieces of 1, 2, 4
 * or 8 bytes (one hardware watchpoint slot each).
 */
export function watchPieces(address: Addr, size: number): { address: Addr; length: 1 | 2 | 4 | 8 }[] {
  const out: { address: Addr; length: 1 | 2 | 4 | 8 }[] = [];
  let a = address;
  let left = BigInt(Math.max(1, size));
  while (left > 0n) {
    let len = 8n;
    while (len > 1n && (a % len !== 0n || len > left)) len /= 2n;
    out.push({ address: a, length: Number(len) as 1 | 2 | 4 | 8 });
    a += len;
    left -= len;
  }
  return out;
}
