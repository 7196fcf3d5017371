import { DwarfError } from '../../errors.js';
import { DW_AT } from '../constants.js';
import type { DwarfContext } from '../context.js';
import type { AttrValue, Die } from '../die.js';
import type { AddressRange, LocationListEntry } from '../lists.js';
import { dieIdOffset, dieIdSection, DieSection, type DieId } from '../unit.js';

/** A DIE with the context and unit it lives in. */
export interface DieRef {
  readonly ctx: DwarfContext;
  readonly unit: number;
  readonly die: Die;
}

/**
 * Where a variable or parameter lives: one DWARF expression valid everywhere
 * it is in scope, or a location list whose entries say where each expression
 * holds. Expressions are raw bytes for the location evaluator
 * (`src/loc`), with the unit's {@link UnitEnv}.
 */
export type Location =
  | { readonly kind: 'expr'; readonly expr: Uint8Array }
  | { readonly kind: 'list'; readonly entries: readonly LocationListEntry[] };

/** The contexts of a file: the main one and its supplementary (dwz) file. */
export interface Contexts {
  readonly main: DwarfContext;
  readonly sup?: DwarfContext;
}

/** The context a DIE id belongs to. */
export function contextOf(c: Contexts, id: DieId): DwarfContext | undefined {
  return dieIdSection(id) === DieSection.supInfo ? c.sup : c.main;
}

/** Reads the DIE with an id. Throws DwarfError when the id points nowhere or at corrupt data. */
export function dieAt(c: Contexts, id: DieId): DieRef {
  const ctx = contextOf(c, id);
  const ui = ctx ? ctx.unitIndexOf(id) : -1;
  if (!ctx || ui < 0) throw new DwarfError('ERR_DWARF_REF', `reference to DIE 0x${dieIdOffset(id).toString(16)} outside every unit`, { file: c.main.path, section: dieIdSection(id) === DieSection.types ? '.debug_types' : '.debug_info', offset: dieIdOffset(id) });
  const dr = ctx.dies(ui);
  const die = dr.at(dieIdOffset(id));
  if (!die) throw dr.error ?? new DwarfError('ERR_DWARF_REF', `no DIE at 0x${dieIdOffset(id).toString(16)}`, { file: ctx.path, section: ctx.unit(ui).sectionName, offset: dieIdOffset(id) });
  return { ctx, unit: ui, die };
}

/** The children of a DIE, as refs. Stops at malformed data (recording nothing: the parent was readable). */
export function* childrenOf(r: DieRef): Generator<DieRef> {
  const dr = r.ctx.dies(r.unit);
  for (const die of dr.children(r.die)) yield { ctx: r.ctx, unit: r.unit, die };
  if (dr.error) throw dr.error;
}

/** A constant attribute as a number (undefined when absent, not a constant, or too large). */
export function numAttr(v: AttrValue | undefined): number | undefined {
  if (v?.kind !== 'const') return undefined;
  return typeof v.value === 'number' ? v.value : undefined;
}

/**
 * A constant attribute as a bigint, sign-extended from its form's size when
 * `signed` and the form carries raw bits (data1-8).
 */
export function bigAttr(v: AttrValue | undefined, signed: boolean): bigint | undefined {
  if (v?.kind !== 'const') return undefined;
  let x = BigInt(v.value);
  if (signed && !v.signed && v.size > 0) x = BigInt.asIntN(v.size * 8, x);
  return x;
}

/** A flag attribute. */
export function flagAttr(v: AttrValue | undefined): boolean {
  return v?.kind === 'flag' && v.value;
}

/** A reference attribute as a DIE id, through the type-unit signatures for DW_FORM_ref_sig8. */
export function refAttr(r: DieRef, v: AttrValue | undefined): DieId | undefined {
  if (!v) return undefined;
  if (v.kind === 'ref') return v.id;
  if (v.kind === 'ref_sig8') return r.ctx.typeSignatures.get(v.signature) ?? r.ctx.sup?.typeSignatures.get(v.signature);
  return undefined;
}

/** Attributes inherited through DW_AT_abstract_origin and DW_AT_specification (name, type, declaration coordinates...). */
export function inheritedAttr(c: Contexts, r: DieRef, at: number): { ref: DieRef; value: AttrValue } | undefined {
  let cur = r;
  for (let depth = 0; depth < 8; depth++) {
    const v = cur.die.attr(at);
    if (v) return { ref: cur, value: v };
    const next = refAttr(cur, cur.die.attr(DW_AT.abstract_origin) ?? cur.die.attr(DW_AT.specification));
    if (next === undefined) return undefined;
    cur = dieAt(c, next);
  }
  return undefined;
}

/** The DIE an abstract_origin/specification chain ends at (the DIE itself when it has none). */
export function originOf(c: Contexts, r: DieRef): DieRef {
  let cur = r;
  for (let depth = 0; depth < 8; depth++) {
    const next = refAttr(cur, cur.die.attr(DW_AT.abstract_origin) ?? cur.die.attr(DW_AT.specification));
    if (next === undefined) return cur;
    cur = dieAt(c, next);
  }
  return cur;
}

/** The name of a DIE, following origins. */
export function nameOf(c: Contexts, r: DieRef): string | undefined {
  const a = inheritedAttr(c, r, DW_AT.name);
  return a ? a.ref.ctx.string(a.value, a.ref.unit) : undefined;
}

/** The address ranges of a DIE (low_pc/high_pc or DW_AT_ranges). */
export function rangesOf(r: DieRef): AddressRange[] {
  const d = r.die;
  const rv = d.attr(DW_AT.ranges);
  if (rv) return r.ctx.ranges(r.unit, rv);
  const lo = r.ctx.address(d.attr(DW_AT.low_pc), r.unit);
  if (lo === undefined) return [];
  const hv = d.attr(DW_AT.high_pc);
  if (!hv) return [{ start: lo, end: lo + 1n }];
  const hi = hv.kind === 'const' ? lo + BigInt(hv.value) : r.ctx.address(hv, r.unit);
  return hi !== undefined && hi > lo ? [{ start: lo, end: hi }] : [];
}

/** A location-class attribute: an expression, or a location list. */
export function locationOf(r: DieRef, at: number): Location | undefined {
  const v = r.die.attr(at);
  if (!v) return undefined;
  if (v.kind === 'exprloc' || v.kind === 'block') return { kind: 'expr', expr: v.bytes };
  if (v.kind === 'sec_offset' || v.kind === 'loclistx' || (v.kind === 'const' && r.ctx.units[r.unit]!.version < 4 && (v.size === 4 || v.size === 8))) {
    return { kind: 'list', entries: r.ctx.locationList(r.unit, v) };
  }
  return undefined;
}
