/**
 * The model hub: turns DIE ids into cached type, symbol and unit objects,
 * and answers the questions types and symbols ask (what does DW_AT_type
 * point at, where is the definition of this declared struct, which file is
 * decl_file 3).
 */
import { DwarfError } from '../../errors.js';
import type { DwarfContext } from '../context.js';
import { DW_AT, DW_TAG, isCxxLanguage } from '../constants.js';
import type { AttrValue } from '../die.js';
import { EntryFlag, isTypeTag } from '../index/scan.js';
import type { MatchWant } from '../index/match.js';
import type { IndexEntry } from '../index/name-index.js';
import { fileAt } from '../line.js';
import type { DieId } from '../unit.js';
import { dieAt, locationOf, numAttr, refAttr, type Contexts, type DieRef } from './dies.js';
import { buildScope, makeEnumerator, makeSymbol, type DwarfSymbol, type Scope, type SymbolHost } from './symbols.js';
import { makeType, VoidType, type DwarfType, type EnumType, type FunctionType, type StructType } from './types.js';
import { CompileUnit, type UnitHost } from './unit.js';

/** Name lookups: a name index, or whatever answers the same way without one. */
export interface NameLookup {
  /** Entries of a name; `want` may restrict them to types or to globals (an index returns every kind). */
  lookup(name: string, want?: MatchWant): IndexEntry[];
  /** The first entry of a name `accept` takes, in file order, reading as little as it can. */
  lookupFirst(name: string, want: MatchWant, accept: (e: IndexEntry) => boolean): IndexEntry | undefined;
}

/** The name lookups of a file and its supplementary file. */
export interface Indexes {
  readonly main?: NameLookup;
  readonly sup?: NameLookup;
}

const TYPES: MatchWant = { types: true, globals: false };

const TAG_OF_KIND: Record<string, number> = { struct: DW_TAG.structure_type, union: DW_TAG.union_type, class: DW_TAG.class_type, enum: DW_TAG.enumeration_type };

/** @internal */
export class Model implements SymbolHost, UnitHost {
  private readonly types = new Map<DieId, DwarfType>();
  private readonly symbols = new Map<DieId, DwarfSymbol>();
  private readonly unitObjects = new Map<DwarfContext, CompileUnit[]>();

  constructor(readonly contexts: Contexts, public indexes: Indexes) {}

  /** The unit object for a unit of a context. */
  unit(ctx: DwarfContext, index: number): CompileUnit {
    let arr = this.unitObjects.get(ctx);
    if (!arr) this.unitObjects.set(ctx, (arr = []));
    return (arr[index] ??= new CompileUnit(this, ctx, index));
  }

  unitOf(r: DieRef): CompileUnit {
    return this.unit(r.ctx, r.unit);
  }

  /** The DIE for an id (throws DwarfError). */
  die(id: DieId): DieRef {
    return dieAt(this.contexts, id);
  }

  typeAt(r: DieRef): DwarfType {
    const id = r.die.id;
    let t = this.types.get(id);
    if (!t) {
      t = makeType(this, r);
      this.types.set(id, t);
    }
    return t;
  }

  typeById(id: DieId): DwarfType {
    return this.types.get(id) ?? this.typeAt(this.die(id));
  }

  typeOf(from: DieRef, v: AttrValue | undefined): DwarfType {
    if (!v) return VoidType.instance;
    const id = refAttr(from, v);
    if (id === undefined) return VoidType.instance;
    return this.typeById(id);
  }

  functionTypeOf(r: DieRef): FunctionType {
    return this.typeAt(r) as FunctionType;
  }

  symbolFor(r: DieRef): DwarfSymbol | undefined {
    const id = r.die.id;
    let s = this.symbols.get(id);
    if (!s) {
      s = makeSymbol(this, r);
      if (s) this.symbols.set(id, s);
    }
    return s;
  }

  symbolById(id: DieId): DwarfSymbol | undefined {
    return this.symbols.get(id) ?? this.symbolFor(this.die(id));
  }

  str(r: DieRef, at: number): string | undefined {
    return r.ctx.string(r.die.attr(at), r.unit);
  }

  declFile(r: DieRef): string | undefined {
    const n = numAttr(r.die.attr(DW_AT.decl_file));
    return n === undefined ? undefined : this.fileName(r, n);
  }

  fileName(r: DieRef, fileNumber: number): string | undefined {
    const h = r.ctx.lineHeader(r.unit);
    return h ? fileAt(h, fileNumber)?.path : undefined;
  }

  displayFileName(r: DieRef, fileNumber: number): string | undefined {
    const h = r.ctx.lineHeader(r.unit);
    return h ? fileAt(h, fileNumber)?.displayName : undefined;
  }

  cxxName(r: DieRef): string | undefined {
    return qualifiedName(this, r);
  }

  /** Index entries for a name in the file and its supplementary file (`want`: see {@link NameLookup}). */
  lookup(name: string, want?: MatchWant): { entry: IndexEntry; index: 'main' | 'sup' }[] {
    const out: { entry: IndexEntry; index: 'main' | 'sup' }[] = [];
    for (const e of this.indexes.main?.lookup(name, want) ?? []) out.push({ entry: e, index: 'main' });
    for (const e of this.indexes.sup?.lookup(name, want) ?? []) out.push({ entry: e, index: 'sup' });
    return out;
  }

  /** The first entry of a name `accept` takes, in the file, then in its supplementary file. */
  lookupFirst(name: string, want: MatchWant, accept: (e: IndexEntry) => boolean): IndexEntry | undefined {
    return this.indexes.main?.lookupFirst(name, want, accept) ?? this.indexes.sup?.lookupFirst(name, want, accept);
  }

  definitionOf(t: StructType | EnumType): StructType | EnumType | undefined {
    if (!t.name || t.id === undefined) return undefined;
    const tag = TAG_OF_KIND[t.kind];
    const r = this.die(t.id);
    // Prefer a definition in the same unit, then anywhere.
    let best: DieId | undefined;
    for (const { entry } of this.lookup(t.name, TYPES)) {
      if (entry.tag !== tag || !(entry.flags & EntryFlag.defined)) continue;
      if (best === undefined || this.contexts.main.unitIndexOf(entry.die) === r.unit) best = entry.die;
    }
    if (best === undefined) return undefined;
    const d = this.typeById(best);
    return d.kind === t.kind ? (d as StructType | EnumType) : undefined;
  }

  /** Builds (once) the scope tree of a unit, with every function's scope. */
  unitScope(unit: CompileUnit): Scope {
    if (!unit.expandedScope) {
      const dr = unit.ctx.dies(unit.index);
      const die = dr.root();
      if (!die) throw dr.error ?? new DwarfError('ERR_DWARF_FORMAT', 'unit without a root DIE', { file: unit.ctx.path, section: unit.ctx.unit(unit.index).sectionName, offset: unit.header.dieOffset });
      unit.expandedScope = buildScope(this, { ctx: unit.ctx, unit: unit.index, die }, 'unit', undefined, undefined);
    }
    return unit.expandedScope;
  }

  callTarget(ctx: DwarfContext, sectionOffset: number): Uint8Array | undefined {
    const ui = ctx.units.findIndex((h) => sectionOffset >= h.dieOffset && sectionOffset < h.end && h.section !== 1);
    if (ui < 0) return undefined;
    const d = ctx.dies(ui).at(sectionOffset);
    if (!d) return undefined;
    const loc = locationOf({ ctx, unit: ui, die: d }, DW_AT.location);
    return loc?.kind === 'expr' ? loc.expr : undefined;
  }

  /** The symbol or type an index entry stands for. */
  fromEntry(e: IndexEntry): DwarfSymbol | DwarfType | undefined {
    const r = this.die(e.die);
    if (e.tag === DW_TAG.enumerator) {
      const parent = parentOf(r);
      return parent ? makeEnumerator(this, r, parent) : undefined;
    }
    if (isTypeTag(e.tag)) return this.typeAt(r);
    return this.symbolFor(r);
  }
}

/**
 * The parent of a DIE, found by descending from the unit root through the
 * child whose extent holds the DIE (DIEs do not record their parent).
 */
export function parentOf(r: DieRef): DieRef | undefined {
  const dr = r.ctx.dies(r.unit);
  let cur = dr.root();
  const target = r.die.offset;
  for (let depth = 0; cur && depth < 256; depth++) {
    let next: DieRef['die'] | undefined;
    for (const c of dr.children(cur)) {
      if (c.offset === target) return { ctx: r.ctx, unit: r.unit, die: cur };
      if (c.offset > target) break;
      next = c;
    }
    if (!next || !next.hasChildren) return undefined;
    cur = next;
  }
  return undefined;
}

/** The `::`-qualified name of a C++ type (its enclosing namespaces and classes), or undefined for C. */
function qualifiedName(m: Model, r: DieRef): string | undefined {
  if (!isCxxLanguage(r.ctx.root(r.unit).language)) return undefined;
  const parts: string[] = [];
  let cur: DieRef | undefined = r;
  for (let depth = 0; cur && depth < 64; depth++) {
    const p = parentOf(cur);
    if (!p || p.die.tag === DW_TAG.compile_unit || p.die.tag === DW_TAG.partial_unit || p.die.tag === DW_TAG.type_unit) break;
    if (p.die.tag === DW_TAG.namespace || p.die.tag === DW_TAG.structure_type || p.die.tag === DW_TAG.class_type || p.die.tag === DW_TAG.union_type) {
      parts.unshift(m.str(p, DW_AT.name) ?? '(anonymous namespace)');
    }
    cur = p;
  }
  const own = m.str(r, DW_AT.name);
  if (parts.length === 0 || own === undefined) return own;
  return [...parts, own].join('::');
}
