import { DwarfError } from '../errors.js';
import type { DwarfSections } from '../sections.js';
import { parseAranges } from './aranges.js';
import { DW_TAG } from './constants.js';
import { DwarfContext } from './context.js';
import { buildIndex } from './index/build.js';
import { defaultCacheDir } from './index/cache.js';
import type { MatchWant } from './index/match.js';
import type { NameIndex } from './index/name-index.js';
import { ContextNames } from './index/names.js';
import { EntryFlag, FnKind, isTypeTag, rangeValue, Scanner, type FunctionRanges } from './index/scan.js';
import type { AddressRange } from './lists.js';
import { fileAt, LineFlag, rowAddress, rowFor, sameAddress, type LineTable } from './line.js';
import { parseLoadOptions, type LoadFlags } from './load-options.js';
import { IntervalMap } from './model/address-map.js';
import { dieAt, type DieRef } from './model/dies.js';
import { Model } from './model/model.js';
import { FunctionSymbol, InlinedInstance, type DwarfSymbol, type Scope } from './model/symbols.js';
import { strip, StructType, type DwarfType, type Member } from './model/types.js';
import type { CompileUnit } from './model/unit.js';
import { Reader } from './reader.js';
import { dieId, DieSection, type DieId } from './unit.js';

/** Options of {@link DebugFile.load}. */
export interface DebugFileOptions {
  /**
   * Expand every unit at load (scope trees of every function, line tables),
   * as the original Stackdb did without PARTIALSYM. Default: lazy (only the
   * name index is built; units are expanded on first use).
   */
  readonly eager?: boolean;
  /**
   * The original Stackdb's load flags (`-F`): `PARTIALSYM`, `CUHEADERS`,
   * `PUBNAMES`, `NODWARF`, `ALLRANGES`, `KEEPDECLS`, `REDUCETYPES`,
   * `REDUCETYPES_FULL_EQUIV`, `NONE`, `*`, plus `FULLSYM` for
   * {@link DebugFileOptions.eager}. An rfilter string (`FLAGS||...`) is
   * accepted; its file filters are ignored.
   */
  readonly loadOptions?: readonly string[] | string;
  /**
   * Build the name index during `load` (as `eager`, `strict` and `indexCache` do). By
   * default it is built when first needed: the first lookups of a name scan
   * the units for that name alone (a fraction of the index's work), and the
   * index is built in the calling thread once a few different names were
   * asked for, or for anything that lists every name ({@link DebugFile.globalNames},
   * {@link DebugFile.variableAt}, {@link DebugFile.indexStats}).
   * {@link DebugFile.indexNames} builds it at any time, in worker threads.
   */
  readonly indexAtLoad?: boolean;
  /** Worker threads for index builds at load or by `indexNames()`, besides the calling thread; 0 indexes in the calling thread alone. Default: one per idle CPU for large files, on machines with four CPUs or more. */
  readonly workers?: number;
  /** Throw the first decode error at load instead of keeping what could be read. */
  readonly strict?: boolean;
  /** Bytes of unit data kept in memory between uses (default 64 MiB; eager loads keep everything). */
  readonly unitCacheBytes?: number;
  /**
   * Keep built indexes on disk and reuse them when the same file (same path,
   * size, modification time and inode) is loaded again, as gdb's index-cache
   * does: `true` for `$XDG_CACHE_HOME/stackdb/dwarf-index`, or a directory.
   * Off by default.
   */
  readonly indexCache?: boolean | string;
}

/** A source position. */
export interface SourceLine {
  /** Full path of the source file. */
  readonly file: string;
  /** The file as gdb shows it (see {@link LineFile.displayName}). */
  readonly displayFile: string;
  readonly line: number;
  readonly column: number;
  /** Address of the line-table row (the start of the run containing the queried address). */
  readonly address: bigint;
  /** True when the row is a recommended breakpoint location. */
  readonly isStmt: boolean;
  readonly unit: CompileUnit;
}

/** An address found for a source line. */
export interface LineAddress {
  readonly address: bigint;
  readonly file: string;
  /** The line the address belongs to: the requested one, or the next line with code when it has none. */
  readonly line: number;
  readonly unit: CompileUnit;
}

/** What is at an address in the code. */
export interface FunctionAt {
  /** The function whose code holds the address (the out-of-line function, not an inlined callee). */
  readonly function: FunctionSymbol;
  /** Inlined calls active at the address, innermost first. */
  readonly inlined: readonly InlinedInstance[];
  /** Scopes containing the address, innermost first, ending with the function's scope. */
  readonly scopes: readonly Scope[];
  readonly unit: CompileUnit;
}

/** One step of a symbol chain. */
export interface ChainStep {
  readonly member: Member;
  /** True when the step went through a pointer (`a.b` where `a` is a pointer to a struct). */
  readonly throughPointer: boolean;
  /** Bit offset of the member from the start of the object it is found in (after any pointer). */
  readonly bitOffset: number | undefined;
}

/** A resolved `a.b.c` chain (the original Stackdb's lsymbol). */
export interface SymbolChain {
  /** The symbol the chain starts from. */
  readonly symbol: DwarfSymbol;
  /** The members followed, in order. */
  readonly steps: readonly ChainStep[];
  /** The type of the last element. */
  readonly type: DwarfType;
}

/** A variable or parameter visible at an address, and the scope it belongs to. */
export interface ScopedVariable {
  readonly symbol: DwarfSymbol;
  readonly scope: Scope;
}

const GLOBAL_TAGS = new Set<number>([DW_TAG.subprogram, DW_TAG.variable, DW_TAG.enumerator]);
const GLOBALS: MatchWant = { types: false, globals: true };
const TYPES: MatchWant = { types: true, globals: false };
const TAG_BY_KEYWORD: Record<string, number> = { struct: DW_TAG.structure_type, union: DW_TAG.union_type, enum: DW_TAG.enumeration_type, class: DW_TAG.class_type };

/**
 * The DWARF of one binary (and its dwz supplementary file): a lazy name index
 * built at load, units expanded on first use, lookups by name, by address and
 * by source line. Addresses are link-time; callers add the load bias.
 *
 * Every method throws only {@link DwarfError} (with file, section and offset)
 * on corrupt data.
 */
export class DebugFile {
  /** Decode errors met at load and since (what could be read was kept). */
  get errors(): readonly DwarfError[] {
    return [...this.loadErrors, ...this.main.errors, ...(this.sup?.errors ?? [])];
  }

  private readonly model: Model;
  private readonly funcTables = new Map<number, IntervalMap>();
  private globalVars: IntervalMap | undefined;
  private globalVarIds: DieId[] = [];
  private readonly names: ContextNames;
  private readonly supNames: ContextNames | undefined;
  /** Scans single units for their function code ranges when no index recorded them. */
  private functionScanner: Scanner | undefined;
  private readonly reported = new Set<string>();

  private constructor(
    /** @internal */
    readonly main: DwarfContext,
    /** @internal */
    readonly sup: DwarfContext | undefined,
    private readonly loadErrors: DwarfError[],
    /** The load flags in effect. */
    readonly flags: LoadFlags,
    private readonly workers: number | undefined,
    private readonly cacheDir: string | undefined,
  ) {
    const report = (errors: readonly DwarfError[]) => {
      for (const e of errors) {
        // A scan for a name and the index build meet the same errors: keep one of each.
        const key = `${e.code}|${e.section}|${e.offset}|${e.message}`;
        if (!this.reported.has(key)) {
          this.reported.add(key);
          this.loadErrors.push(e);
        }
      }
    };
    this.names = new ContextNames(main, report, cacheDir);
    this.supNames = sup ? new ContextNames(sup, report, cacheDir) : undefined;
    this.model = new Model({ main, ...(sup ? { sup } : {}) }, { main: this.names, ...(this.supNames ? { sup: this.supNames } : {}) });
  }

  /** The file the DWARF was read from. */
  get path(): string {
    return this.main.path;
  }

  /**
   * Loads a file's DWARF: reads unit headers and, with `indexAtLoad`,
   * `eager` or `strict`, builds the name index (in worker threads for large
   * files). Otherwise the index is built when first needed (see
   * {@link DebugFileOptions.indexAtLoad}). Rejects with {@link DwarfError}
   * for an unknown load option, or (with `strict`) for corrupt data.
   */
  static async load(sections: DwarfSections, opts: DebugFileOptions = {}): Promise<DebugFile> {
    const flags = parseLoadOptions(opts.loadOptions, opts.eager);
    const cacheDir = opts.indexCache === true ? defaultCacheDir() : opts.indexCache || undefined;
    const noDwarf: DwarfSections = { path: sections.path, littleEndian: sections.littleEndian, is64: sections.is64, section: () => undefined };
    const src = flags.noDwarf ? noDwarf : sections;
    const cacheBytes = flags.eager ? Number.MAX_SAFE_INTEGER : opts.unitCacheBytes;
    const ctxOpts = cacheBytes === undefined ? {} : { unitCacheBytes: cacheBytes };
    const sup = src.supplementary ? new DwarfContext(src.supplementary, undefined, ctxOpts, true) : undefined;
    const main = new DwarfContext(src, sup, ctxOpts);
    const f = new DebugFile(main, sup, [], flags, opts.workers, cacheDir);
    if (!flags.headersOnly) {
      // Asking for the on-disk cache is asking for the index: read it, or build and store it.
      if (opts.indexAtLoad || flags.eager || opts.strict || flags.noDwarf || cacheDir) await f.ensureIndex();
    }
    if (opts.strict && f.errors.length) throw f.errors[0]!;
    if (flags.allRanges) f.unitIntervals();
    if (flags.eager) f.expandAll();
    if (opts.strict && f.errors.length) throw f.errors[0]!;
    return f;
  }

  private async ensureIndex(): Promise<void> {
    if (this.names.index && (!this.supNames || this.supNames.index)) return;
    const opts = { ...(this.workers !== undefined ? { workers: this.workers } : {}), ...(this.cacheDir ? { indexCache: this.cacheDir } : {}) };
    const [a, b] = await Promise.all([this.names.index ? undefined : buildIndex(this.main, opts), this.sup && !this.supNames!.index ? buildIndex(this.sup, opts) : undefined]);
    if (a) this.names.setIndex(a);
    if (b) this.supNames!.setIndex(b);
  }

  /**
   * Builds the name index now (in worker threads for large files), if it is
   * not built yet. Files loaded with `CUHEADERS` need this before name
   * lookups; otherwise lookups build it when they need it, in the calling
   * thread.
   */
  async indexNames(): Promise<void> {
    await this.ensureIndex();
  }

  private requireIndex(): void {
    if (this.flags.headersOnly && !this.names.index) throw new DwarfError('ERR_DWARF_NO_INDEX', 'names are not indexed yet (loaded with CUHEADERS): call indexNames() first', { file: this.path });
  }

  /** The name indexes, built now in the calling thread if needed. */
  private indexes(): NameIndex[] {
    this.requireIndex();
    return [this.names.ensureIndex(), ...(this.supNames ? [this.supNames.ensureIndex()] : [])];
  }

  /** Number of names and entries in the index (which this builds, unless loaded with `CUHEADERS`). */
  get indexStats(): { names: number; entries: number } {
    const idx = this.flags.headersOnly ? [this.names.index, this.supNames?.index].filter((x): x is NameIndex => !!x) : this.indexes();
    return { names: idx.reduce((n, i) => n + i.nameCount, 0), entries: idx.reduce((n, i) => n + i.size, 0) };
  }

  /** Every unit of the file (compile, partial and type units), then those of the supplementary file. */
  units(): CompileUnit[] {
    const out: CompileUnit[] = [];
    for (const ctx of [this.main, this.sup]) {
      if (!ctx) continue;
      for (let i = 0; i < ctx.units.length; i++) out.push(this.model.unit(ctx, i));
    }
    return out;
  }

  /** Expands every unit (scope trees and line tables); what `eager` does at load. */
  expandAll(): void {
    for (const u of this.units()) {
      try {
        const s = u.scope();
        const walk = (sc: Scope) => {
          for (const sym of sc.symbols) if (sym instanceof FunctionSymbol && sym.ranges.length) walk(sym.scope);
          for (const c of sc.scopes) walk(c);
        };
        walk(s);
        u.lineTable();
      } catch (err) {
        if (!(err instanceof DwarfError)) throw err;
        this.loadErrors.push(err);
      }
    }
  }

  // ---- Name lookups ----

  /**
   * Global symbols with a name: functions, variables and enumerators. Every
   * definition is returned (static functions of one name in several units
   * are all there); declarations only when no definition exists (or always,
   * with the `KEEPDECLS` load flag). Definitions with external linkage come
   * first.
   */
  lookupGlobals(name: string): DwarfSymbol[] {
    this.requireIndex();
    const hits = this.model.lookup(name, GLOBALS).filter((h) => GLOBAL_TAGS.has(h.entry.tag));
    const defs = hits.filter((h) => h.entry.flags & EntryFlag.defined);
    const abstract = hits.filter((h) => !(h.entry.flags & EntryFlag.defined) && h.entry.flags & EntryFlag.abstract);
    const decls = hits.filter((h) => !(h.entry.flags & (EntryFlag.defined | EntryFlag.abstract)));
    let chosen = defs.length ? defs : abstract.length ? abstract : decls;
    if (this.flags.keepDecls) chosen = [...defs, ...abstract, ...decls];
    chosen = [...chosen].sort((a, b) => (b.entry.flags & EntryFlag.external) - (a.entry.flags & EntryFlag.external));
    const out: DwarfSymbol[] = [];
    for (const h of chosen) {
      const s = this.model.fromEntry(h.entry);
      if (s && 'kind' in s && isSymbol(s)) out.push(s);
    }
    return out;
  }

  /**
   * Types with a name. `struct task_struct`, `union u`, `enum e` and
   * `class C` restrict the kind; a bare name finds typedefs, base types and
   * struct/union/enum tags alike. Definitions come first; declarations are
   * returned only when no definition exists (or with `KEEPDECLS`).
   */
  /**
   * One type by name, as a debugger's `ptype` wants it: for `struct x`,
   * `union x`, `enum x`, `class x` the first definition in the file (found
   * without indexing every unit); for a bare name the best of
   * {@link lookupTypes}.
   */
  lookupType(name: string): DwarfType | undefined {
    const m = /^\s*(struct|union|enum|class)\s+(.+?)\s*$/.exec(name);
    if (!m || this.flags.keepDecls) return this.lookupTypes(name)[0];
    this.requireIndex();
    const tag = TAG_BY_KEYWORD[m[1]!]!;
    const entry = this.model.lookupFirst(m[2]!, TYPES, (e) => (e.tag === tag || (tag === DW_TAG.structure_type && e.tag === DW_TAG.class_type)) && !(e.flags & EntryFlag.declaration));
    if (!entry) return this.lookupTypes(name)[0];
    const t = this.model.fromEntry(entry);
    return t && !isSymbol(t) ? t : undefined;
  }

  lookupTypes(name: string): DwarfType[] {
    this.requireIndex();
    const m = /^\s*(struct|union|enum|class)\s+(.+?)\s*$/.exec(name);
    const tag = m ? TAG_BY_KEYWORD[m[1]!] : undefined;
    const bare = m ? m[2]! : name.trim();
    const hits = this.model.lookup(bare, TYPES).filter((h) => isTypeTag(h.entry.tag) && (tag === undefined || h.entry.tag === tag || (tag === DW_TAG.structure_type && h.entry.tag === DW_TAG.class_type)));
    const defs = hits.filter((h) => !(h.entry.flags & EntryFlag.declaration));
    const chosen = this.flags.keepDecls ? hits : defs.length ? defs : hits;
    // Typedefs and base types before tags, so a bare `size_t` answers with the typedef.
    const rank = (t: number) => (t === DW_TAG.typedef || t === DW_TAG.base_type ? 0 : 1);
    const sorted = [...chosen].sort((a, b) => rank(a.entry.tag) - rank(b.entry.tag));
    return sorted.map((h) => this.model.fromEntry(h.entry)).filter((t): t is DwarfType => !!t && !isSymbol(t));
  }

  /**
   * Resolves `a.b.c`: `a` is a global variable (or function), each further
   * name a member of the previous element's type, following pointers as the
   * original Stackdb did (`.` also dereferences). Anonymous struct and union
   * members are searched as C does. Returns undefined when some name does
   * not resolve.
   */
  lookupChain(chain: string, opts: { address?: bigint } = {}): SymbolChain | undefined {
    const parts = chain.split('.').map((p) => p.trim());
    if (parts.some((p) => !p)) return undefined;
    let root: DwarfSymbol | undefined;
    if (opts.address !== undefined) {
      root = this.variablesInScope(opts.address).find((v) => v.symbol.name === parts[0])?.symbol;
    }
    root ??= this.lookupGlobals(parts[0]!).find((s) => s.kind === 'variable') ?? this.lookupGlobals(parts[0]!)[0];
    if (!root) return undefined;
    let type: DwarfType | undefined = typeOfSymbol(root);
    if (!type) return undefined;
    const steps: ChainStep[] = [];
    for (const name of parts.slice(1)) {
      let t = strip(type);
      let throughPointer = false;
      for (let i = 0; i < 8 && t.kind === 'pointer'; i++) {
        t = strip(t.target);
        throughPointer = true;
      }
      if (!(t instanceof StructType)) return undefined;
      const hit = t.complete().member(name);
      if (!hit) return undefined;
      steps.push({ member: hit.member, throughPointer, bitOffset: hit.bitOffset });
      type = hit.member.type;
    }
    return { symbol: root, steps, type };
  }

  /** The definition of a declared struct/union/class/enum, found anywhere in the file (the type itself when it is defined or none exists). */
  resolveType(t: DwarfType): DwarfType {
    if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'class') return t.complete();
    if (t.kind === 'enum' && t.declaration) return this.model.definitionOf(t) ?? t;
    return t;
  }

  /** The definitions of a declared variable or function (`extern int x;`): definitions of the same name, external first. */
  resolveDeclaration(s: DwarfSymbol): DwarfSymbol[] {
    if (!s.declaration || !s.name) return [s];
    const defs = this.lookupGlobals(s.name).filter((d) => d.kind === s.kind && !d.declaration);
    return defs.length ? defs : [s];
  }

  // ---- Address lookups ----

  private unitIntervals(): IntervalMap {
    return this.main.unitMap(() => this.buildUnitIntervals());
  }

  private buildUnitIntervals(): IntervalMap {
    const items: { range: { start: bigint; end: bigint }; value: number }[] = [];
    const covered = new Set<number>();
    const ar = this.main.section('aranges');
    if (ar) {
      const r = new Reader(ar.all(), { file: this.path, section: ar.name }, this.main.littleEndian);
      const byOffset = new Map<number, number>();
      this.main.units.forEach((h, i) => h.section === DieSection.info && byOffset.set(h.offset, i));
      for (const set of parseAranges(r)) {
        const ui = byOffset.get(set.unitOffset);
        if (ui === undefined) continue;
        covered.add(ui);
        for (const range of set.ranges) items.push({ range, value: ui });
      }
      if (r.error) this.main.errors.push(r.error);
    }
    for (let i = 0; i < this.main.units.length; i++) {
      if (covered.has(i) || !this.main.isCompileUnit(i)) continue;
      try {
        for (const range of this.main.unitRanges(i)) items.push({ range, value: i });
      } catch (err) {
        if (!(err instanceof DwarfError)) throw err;
        this.main.errors.push(err);
      }
    }
    return IntervalMap.build(items);
  }

  /** The units whose code covers a link-time address (usually one). */
  unitsAt(addr: bigint): CompileUnit[] {
    return this.unitIntervals().find(addr).map((i) => this.model.unit(this.main, i));
  }

  /**
   * The functions with code in a unit, as an interval map from address to
   * DIE offset. The index scan recorded each function definition's encoded
   * code range; only the unit's own functions are decoded, once. Without an
   * index (`CUHEADERS`), the unit's DIEs are walked instead.
   */
  private functionTable(ui: number): IntervalMap {
    let t = this.funcTables.get(ui);
    if (t) return t;
    const items: { range: { start: bigint; end: bigint }; value: number }[] = [];
    const fi = this.names.functions;
    let f: FunctionRanges | undefined;
    let first = 0;
    let end = 0;
    if (fi) {
      const k = fi.byUnit[3 * ui]!;
      if (k >= 0) {
        f = fi.outputs[k]!;
        first = fi.byUnit[3 * ui + 1]!;
        end = fi.byUnit[3 * ui + 2]!;
      }
    } else {
      f = this.scanFunctions(ui);
      end = f?.die.length ?? 0;
    }
    const secBase = dieId(this.main.units[ui]!.section, 0);
    for (let i = first; f && i < end; i++) {
      try {
        for (const range of this.decodeRanges(ui, f.kind[i]!, rangeValue(f.a, i), rangeValue(f.b, i))) items.push({ range, value: f.die[i]! - secBase });
      } catch (err) {
        if (!(err instanceof DwarfError)) throw err;
        this.main.errors.push(err);
      }
    }
    t = IntervalMap.build(items);
    this.funcTables.set(ui, t);
    return t;
  }

  /** One unit's function code ranges, scanned from its bytes (no index recorded them). */
  private scanFunctions(ui: number): FunctionRanges | undefined {
    const ctx = this.main;
    const dr = ctx.dies(ui);
    const u = dr.unit;
    this.functionScanner ??= new Scanner(ctx.path, ctx.littleEndian, {
      str: ctx.section('str')?.all(), lineStr: ctx.section('line_str')?.all(), strOffsets: ctx.section('str_offsets')?.all(),
    }, undefined, ctx.section('abbrev'), { functionsOnly: true });
    const { functions, errors } = this.functionScanner.functionsOf(ui, u.header, u.bytes, u.base, u.sectionName);
    for (const e of errors) this.main.errors.push(new DwarfError(e.code, e.message, { file: ctx.path, ...(e.section ? { section: e.section } : {}), ...(e.offset !== undefined ? { offset: e.offset } : {}) }));
    return functions;
  }

  /** A function's code ranges from the encoding the index scan recorded (see FnKind). */
  private decodeRanges(ui: number, kind: number, a: bigint, b: bigint): AddressRange[] {
    if (kind & FnKind.rangesOff) return this.main.ranges(ui, { kind: 'sec_offset', offset: Number(a) });
    if (kind & FnKind.rangesX) return this.main.ranges(ui, { kind: 'rnglistx', index: Number(a) });
    const lo = kind & FnKind.lowAddr ? a : this.main.addrx(ui, Number(a));
    if (lo === undefined) return [];
    const hi = kind & FnKind.highLen ? lo + b : kind & FnKind.highAddr ? b : kind & FnKind.highX ? this.main.addrx(ui, Number(b)) : lo + 1n;
    return hi !== undefined && hi > lo ? [{ start: lo, end: hi }] : [];
  }

  /**
   * The function at a link-time address, the inlined calls active there
   * (innermost first) and the scopes that contain it.
   */
  functionAt(addr: bigint): FunctionAt | undefined {
    for (const unit of this.unitsAt(addr)) {
      const offs = this.functionTable(unit.index).find(addr);
      if (!offs.length) continue;
      const fn = this.model.symbolById(dieId(unit.header.section, offs[0]!));
      if (!(fn instanceof FunctionSymbol)) continue;
      const scopes = fn.scope.chainAt(addr);
      const inlined = scopes.filter((s) => s.kind === 'inlined').map((s) => s.owner as InlinedInstance);
      return { function: fn, inlined, scopes, unit };
    }
    return undefined;
  }

  /** The source line of a link-time address. */
  lineAt(addr: bigint): SourceLine | undefined {
    for (const unit of this.unitsAt(addr)) {
      const t = unit.lineTable();
      if (!t) continue;
      let i = rowFor(t, addr);
      // Line 0 means "no source line" (compiler-generated code); gdb lets the previous line cover it.
      while (i > 0 && t.line[i] === 0 && !(t.flags[i - 1]! & LineFlag.endSequence)) i--;
      if (i < 0 || t.line[i] === 0) continue;
      // As gdb: a row that is not a statement defers to a statement row at the same address.
      if (!(t.flags[i]! & LineFlag.isStmt)) {
        let k = i;
        while (k > 0 && sameAddress(t, k - 1, k) && !(t.flags[k - 1]! & LineFlag.endSequence) && !(t.flags[k]! & LineFlag.isStmt)) k--;
        if (t.flags[k]! & LineFlag.isStmt) i = k;
      }
      const f = fileAt(t.header, t.file[i]!);
      // The run of rows for this line may have started earlier. gdb keeps a row repeating the
      // previous row's line as a run of its own, unless the line carries discriminators (then the
      // rows are one run split into basic blocks); so do we.
      let s = i;
      while (s > 0 && !(t.flags[s - 1]! & LineFlag.endSequence) && t.line[s - 1] === t.line[i] && t.file[s - 1] === t.file[i] && (t.discriminator[s] !== 0 || t.discriminator[s - 1] !== 0)) s--;
      const unknown = `<file ${t.file[i]}>`;
      return { file: f?.path ?? unknown, displayFile: f?.displayName ?? unknown, line: t.line[i]!, column: t.column[i]!, address: rowAddress(t, s), isStmt: (t.flags[i]! & LineFlag.isStmt) !== 0, unit };
    }
    return undefined;
  }

  /**
   * The addresses where code for a source line starts: for every unit whose
   * line table names a matching file (the full path, or any path ending in
   * `/file`), each run of statement rows for that line. When the line has
   * no code, the next line that does is used (as a debugger moves a
   * breakpoint). Sorted by address.
   */
  addressesOf(file: string, line: number): LineAddress[] {
    type Hit = { address: bigint; file: string; line: number; unit: CompileUnit };
    const exact: Hit[] = [];
    let nextLine = Infinity;
    const matches = (p: string) => p === file || p.endsWith('/' + file) || (file.startsWith('./') && p.endsWith(file.slice(1)));
    for (const unit of this.units()) {
      if (unit.ctx !== this.main || !this.main.isCompileUnit(unit.index)) continue;
      const h = unit.lineHeader;
      if (!h || !h.files.some((f) => matches(f.path))) continue;
      const t = unit.lineTable();
      if (!t) continue;
      const fileOk = new Map<number, string | undefined>();
      const fileMatch = (n: number) => {
        if (!fileOk.has(n)) {
          const f = fileAt(t.header, n);
          fileOk.set(n, f && matches(f.path) ? f.path : undefined);
        }
        return fileOk.get(n);
      };
      for (let i = 0; i < t.length; i++) {
        if (t.flags[i]! & LineFlag.endSequence) continue;
        const path = fileMatch(t.file[i]!);
        if (path === undefined) continue;
        const l = t.line[i]!;
        if (l > line && l < nextLine) nextLine = l;
        if (l !== line || !(t.flags[i]! & LineFlag.isStmt)) continue;
        if (i > 0 && !(t.flags[i - 1]! & LineFlag.endSequence) && t.line[i - 1] === l && t.file[i - 1] === t.file[i]) continue;
        exact.push({ address: rowAddress(t, i), file: path, line: l, unit });
      }
    }
    if (exact.length === 0 && nextLine !== Infinity) return this.addressesOf(file, nextLine);
    const seen = new Set<bigint>();
    return exact.filter((h) => !seen.has(h.address) && seen.add(h.address)).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  /**
   * Variables and parameters visible at an address, innermost scope first,
   * up to the innermost function or inlined call (an inlined call is a frame
   * of its own, as in gdb's `info scope`).
   */
  variablesInScope(addr: bigint): ScopedVariable[] {
    const at = this.functionAt(addr);
    if (!at) return [];
    const out: ScopedVariable[] = [];
    for (const scope of at.scopes) {
      for (const s of scope.symbols) if (s.kind === 'variable' || s.kind === 'parameter') out.push({ symbol: s, scope });
      if (scope.kind === 'function' || scope.kind === 'inlined') break;
    }
    return out;
  }

  /**
   * The global or static variable whose storage holds a link-time address
   * (a variable with a static DW_OP_addr location). Builds an address map of
   * every variable definition on first use.
   */
  variableAt(addr: bigint): { symbol: DwarfSymbol; offset: bigint } | undefined {
    if (!this.globalVars) {
      const items: { range: { start: bigint; end: bigint }; value: number }[] = [];
      for (const idx of this.indexes().slice(0, 1)) {
        for (const [, e] of idx.entries()) {
          if (e.tag !== DW_TAG.variable || !(e.flags & EntryFlag.defined)) continue;
          try {
            const s = this.model.symbolById(e.die);
            if (!s || s.kind !== 'variable') continue;
            const loc = s.location;
            const a = loc?.kind === 'expr' ? staticAddress(loc.expr, s.ref) : undefined;
            if (a === undefined) continue;
            const size = BigInt(sizeOfSafe(s.type) ?? 1);
            items.push({ range: { start: a, end: a + (size > 0n ? size : 1n) }, value: this.globalVarIds.length });
            this.globalVarIds.push(e.die);
          } catch (err) {
            if (!(err instanceof DwarfError)) throw err;
          }
        }
      }
      this.globalVars = IntervalMap.build(items);
    }
    const hit = this.globalVars.find(addr)[0];
    if (hit === undefined) return undefined;
    const s = this.model.symbolById(this.globalVarIds[hit]!)!;
    const loc = (s as { location?: { kind: string; expr?: Uint8Array } }).location;
    const start = loc?.kind === 'expr' ? staticAddress(loc.expr!, s.ref) : undefined;
    return { symbol: s, offset: start === undefined ? 0n : addr - start };
  }

  /** The symbol (function, variable, type) made from a DIE id. */
  symbolById(id: DieId): DwarfSymbol | undefined {
    return this.model.symbolById(id);
  }

  /** The type made from a DIE id. */
  typeById(id: DieId): DwarfType {
    return this.model.typeById(id);
  }

  /** @internal DIE access for dumps. */
  dieRef(id: DieId): DieRef {
    return dieAt(this.model.contexts, id);
  }

  /** Every global name in the index with what it names (for dumps): name, tag, flags, DIE. */
  *globalNames(): Generator<{ name: string; tag: number; flags: number; die: DieId }> {
    for (const idx of this.indexes()) {
      for (const [name, e] of idx.entries()) yield { name, tag: e.tag, flags: e.flags, die: e.die };
    }
  }

  /** Releases file descriptors and caches; the object stays usable. */
  close(): void {
    this.main.close();
    this.sup?.close();
  }
}

function isSymbol(x: DwarfSymbol | DwarfType): x is DwarfSymbol {
  return x.kind === 'function' || x.kind === 'variable' || x.kind === 'parameter' || x.kind === 'label' || x.kind === 'inlined' || x.kind === 'call-site' || x.kind === 'enumerator';
}

/** The type of a symbol that has one (functions, variables, parameters, enumerators). */
export function typeOfSymbol(s: DwarfSymbol): DwarfType | undefined {
  switch (s.kind) {
    case 'function': case 'variable': case 'parameter': case 'enumerator': return s.type;
    case 'inlined': return s.origin?.type;
    default: return undefined;
  }
}

function sizeOfSafe(t: DwarfType): number | undefined {
  const s = strip(t);
  return 'size' in s ? (s.size as number | undefined) : undefined;
}

/** The address of a location expression that is exactly DW_OP_addr A (or DW_OP_addrx i). */
function staticAddress(expr: Uint8Array, r: DieRef): bigint | undefined {
  const h = r.ctx.units[r.unit]!;
  if (expr.length === 1 + h.addressSize && expr[0] === 0x03) {
    const rd = new Reader(expr, { file: r.ctx.path, section: 'expression' }, r.ctx.littleEndian, 0, 1);
    return rd.address(h.addressSize);
  }
  if (expr[0] === 0xa1 || expr[0] === 0xfb) {
    const rd = new Reader(expr, { file: r.ctx.path, section: 'expression' }, r.ctx.littleEndian, 0, 1);
    const i = rd.uleb();
    if (rd.atEnd && !rd.error) return r.ctx.addrx(r.unit, i);
  }
  return undefined;
}

export type { LineTable };
