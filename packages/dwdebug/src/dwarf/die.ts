import type { Abbrev, AbbrevTable } from './abbrev.js';
import { DW_AT, DW_FORM } from './constants.js';
import { Reader } from './reader.js';
import { DieSection, dieId, type DieId, type UnitHeader } from './unit.js';

/** Which string section a string offset points into. */
export type StringSection = 'str' | 'line_str' | 'sup_str';

/**
 * An attribute value as encoded, before unit-level indirections are resolved
 * (`strx`, `addrx`, `loclistx`, `rnglistx` need the unit's bases; strings need
 * the string sections). Constants keep their raw bits: `signed` says whether
 * the form carried a sign (sdata, implicit_const); data1-8 are raw and take
 * their signedness from the type they describe.
 */
export type AttrValue =
  | { readonly kind: 'address'; readonly value: bigint }
  | { readonly kind: 'addrx'; readonly index: number }
  | { readonly kind: 'const'; readonly value: number | bigint; readonly signed: boolean; readonly size: number }
  | { readonly kind: 'data16'; readonly bytes: Uint8Array }
  | { readonly kind: 'block'; readonly bytes: Uint8Array }
  | { readonly kind: 'exprloc'; readonly bytes: Uint8Array }
  | { readonly kind: 'flag'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'strp'; readonly section: StringSection; readonly offset: number }
  | { readonly kind: 'strx'; readonly index: number }
  | { readonly kind: 'ref'; readonly id: DieId }
  | { readonly kind: 'ref_sig8'; readonly signature: bigint }
  | { readonly kind: 'sec_offset'; readonly offset: number }
  | { readonly kind: 'loclistx'; readonly index: number }
  | { readonly kind: 'rnglistx'; readonly index: number };

/** Per-unit scratch state of the DIE reader: a reusable cursor, and attribute layouts by abbreviation code. */
export interface UnitScratch {
  reader?: Reader;
  dies?: DieReader;
  /** Per code: byte offset of each attribute from the DIE's first attribute while all before it have fixed sizes (-1 after), then the total (-1 when variable). */
  layouts: (Int32Array | undefined)[];
}

/** Fresh scratch state for a unit. */
export function newScratch(): UnitScratch {
  return { layouts: [] };
}

/** The bytes of one unit and what decoding its DIEs needs. */
export interface UnitBytes {
  readonly header: UnitHeader;
  /** The unit's bytes (a view or a positioned read); `bytes[0]` is at section offset `base`. */
  readonly bytes: Uint8Array;
  readonly base: number;
  readonly abbrevs: AbbrevTable;
  readonly littleEndian: boolean;
  readonly file: string;
  readonly sectionName: string;
  readonly scratch: UnitScratch;
}

/** Fixed size of a form in a unit, or -1 when the size depends on the data. */
export function fixedFormSize(form: number, h: UnitHeader): number {
  switch (form) {
    case DW_FORM.flag_present: case DW_FORM.implicit_const: return 0;
    case DW_FORM.data1: case DW_FORM.ref1: case DW_FORM.flag: case DW_FORM.strx1: case DW_FORM.addrx1: return 1;
    case DW_FORM.data2: case DW_FORM.ref2: case DW_FORM.strx2: case DW_FORM.addrx2: return 2;
    case DW_FORM.strx3: case DW_FORM.addrx3: return 3;
    case DW_FORM.data4: case DW_FORM.ref4: case DW_FORM.strx4: case DW_FORM.addrx4: case DW_FORM.ref_sup4: return 4;
    case DW_FORM.data8: case DW_FORM.ref8: case DW_FORM.ref_sig8: case DW_FORM.ref_sup8: return 8;
    case DW_FORM.data16: return 16;
    case DW_FORM.addr: return h.addressSize;
    case DW_FORM.strp: case DW_FORM.line_strp: case DW_FORM.strp_sup: case DW_FORM.GNU_strp_alt:
    case DW_FORM.sec_offset: case DW_FORM.GNU_ref_alt:
      return h.offsetSize;
    case DW_FORM.ref_addr: return h.version <= 2 ? h.addressSize : h.offsetSize;
    default: return -1;
  }
}

/** The attribute layout of an abbreviation in a unit (see {@link UnitScratch.layouts}), computed once. */
function layoutOf(u: UnitBytes, a: Abbrev): Int32Array {
  let l = u.scratch.layouts[a.code];
  if (l) return l;
  const n = a.forms.length;
  l = new Int32Array(n + 1);
  let off = 0;
  for (let i = 0; i < n; i++) {
    l[i] = off;
    const sz = off < 0 ? -1 : fixedFormSize(a.forms[i]!, u.header);
    off = sz < 0 ? -1 : off + sz;
  }
  l[n] = off;
  if (a.code < 1_000_000) u.scratch.layouts[a.code] = l;
  return l;
}

/** The unit's reusable cursor over [start, end), its sticky error cleared. */
function cursor(u: UnitBytes, start: number, end: number): Reader {
  let r = u.scratch.reader;
  if (!r) u.scratch.reader = r = new Reader(u.bytes, { file: u.file, section: u.sectionName }, u.littleEndian, u.base);
  r.error = undefined;
  r.pos = start;
  r.end = end;
  return r;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function numOrBig(v: bigint): number | bigint {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
}

/**
 * Decodes one attribute value of `form` at the reader's cursor. Unit-relative
 * references become section-tagged {@link DieId}s; `DW_FORM_GNU_ref_alt` and
 * `DW_FORM_ref_sup*` point into the supplementary file.
 */
export function readAttrValue(r: Reader, form: number, u: UnitHeader, implicit: bigint | undefined): AttrValue {
  const h = u;
  switch (form) {
    case DW_FORM.addr: return { kind: 'address', value: r.address(h.addressSize) };
    case DW_FORM.addrx: case DW_FORM.GNU_addr_index: return { kind: 'addrx', index: r.uleb() };
    case DW_FORM.addrx1: return { kind: 'addrx', index: r.u8() };
    case DW_FORM.addrx2: return { kind: 'addrx', index: r.u16() };
    case DW_FORM.addrx3: return { kind: 'addrx', index: r.u24() };
    case DW_FORM.addrx4: return { kind: 'addrx', index: r.u32() };
    case DW_FORM.data1: return { kind: 'const', value: r.u8(), signed: false, size: 1 };
    case DW_FORM.data2: return { kind: 'const', value: r.u16(), signed: false, size: 2 };
    case DW_FORM.data4: return { kind: 'const', value: r.u32(), signed: false, size: 4 };
    case DW_FORM.data8: return { kind: 'const', value: numOrBig(r.u64()), signed: false, size: 8 };
    case DW_FORM.udata: return { kind: 'const', value: numOrBig(r.ulebBig()), signed: false, size: 0 };
    case DW_FORM.sdata: return { kind: 'const', value: numOrBig(r.slebBig()), signed: true, size: 0 };
    case DW_FORM.implicit_const: return { kind: 'const', value: numOrBig(implicit ?? 0n), signed: true, size: 0 };
    case DW_FORM.data16: return { kind: 'data16', bytes: r.bytesN(16) };
    case DW_FORM.block1: return { kind: 'block', bytes: r.bytesN(r.u8()) };
    case DW_FORM.block2: return { kind: 'block', bytes: r.bytesN(r.u16()) };
    case DW_FORM.block4: return { kind: 'block', bytes: r.bytesN(r.u32()) };
    case DW_FORM.block: return { kind: 'block', bytes: r.bytesN(r.uleb()) };
    case DW_FORM.exprloc: return { kind: 'exprloc', bytes: r.bytesN(r.uleb()) };
    case DW_FORM.flag: return { kind: 'flag', value: r.u8() !== 0 };
    case DW_FORM.flag_present: return { kind: 'flag', value: true };
    case DW_FORM.string: return { kind: 'string', value: r.cstring() };
    case DW_FORM.strp: return { kind: 'strp', section: 'str', offset: r.offsetOf(h.offsetSize) };
    case DW_FORM.line_strp: return { kind: 'strp', section: 'line_str', offset: r.offsetOf(h.offsetSize) };
    case DW_FORM.strp_sup: case DW_FORM.GNU_strp_alt: return { kind: 'strp', section: 'sup_str', offset: r.offsetOf(h.offsetSize) };
    case DW_FORM.strx: case DW_FORM.GNU_str_index: return { kind: 'strx', index: r.uleb() };
    case DW_FORM.strx1: return { kind: 'strx', index: r.u8() };
    case DW_FORM.strx2: return { kind: 'strx', index: r.u16() };
    case DW_FORM.strx3: return { kind: 'strx', index: r.u24() };
    case DW_FORM.strx4: return { kind: 'strx', index: r.u32() };
    case DW_FORM.ref1: return { kind: 'ref', id: dieId(h.section, h.offset + r.u8()) };
    case DW_FORM.ref2: return { kind: 'ref', id: dieId(h.section, h.offset + r.u16()) };
    case DW_FORM.ref4: return { kind: 'ref', id: dieId(h.section, h.offset + r.u32()) };
    case DW_FORM.ref8: return { kind: 'ref', id: dieId(h.section, h.offset + r.u64n()) };
    case DW_FORM.ref_udata: return { kind: 'ref', id: dieId(h.section, h.offset + r.uleb()) };
    case DW_FORM.ref_addr: {
      // DWARF 2 encoded ref_addr with the address size; later versions use the offset size.
      const off = h.version <= 2 ? r.uN(h.addressSize) : r.offsetOf(h.offsetSize);
      // A ref_addr from a supplementary unit stays in the supplementary file.
      const sec = h.section === DieSection.supInfo ? DieSection.supInfo : DieSection.info;
      return { kind: 'ref', id: dieId(sec, off) };
    }
    case DW_FORM.ref_sup4: return { kind: 'ref', id: dieId(DieSection.supInfo, r.u32()) };
    case DW_FORM.ref_sup8: return { kind: 'ref', id: dieId(DieSection.supInfo, r.u64n()) };
    case DW_FORM.GNU_ref_alt: return { kind: 'ref', id: dieId(DieSection.supInfo, r.offsetOf(h.offsetSize)) };
    case DW_FORM.ref_sig8: return { kind: 'ref_sig8', signature: r.u64() };
    case DW_FORM.sec_offset: return { kind: 'sec_offset', offset: r.offsetOf(h.offsetSize) };
    case DW_FORM.loclistx: return { kind: 'loclistx', index: r.uleb() };
    case DW_FORM.rnglistx: return { kind: 'rnglistx', index: r.uleb() };
    case DW_FORM.indirect: {
      const f = r.uleb();
      if (f === DW_FORM.indirect || f === DW_FORM.implicit_const) {
        r.fail(`DW_FORM_indirect to form 0x${f.toString(16)}`);
        return { kind: 'flag', value: false };
      }
      return readAttrValue(r, f, u, undefined);
    }
    default:
      r.fail(`unknown attribute form 0x${form.toString(16)}`, r.offset, 'ERR_DWARF_FORM');
      return { kind: 'flag', value: false };
  }
}

/** Advances the reader past one attribute value of `form` without decoding it. */
export function skipAttrValue(r: Reader, form: number, h: UnitHeader): void {
  switch (form) {
    case DW_FORM.flag_present: case DW_FORM.implicit_const: return;
    case DW_FORM.data1: case DW_FORM.ref1: case DW_FORM.flag: case DW_FORM.strx1: case DW_FORM.addrx1: r.skip(1); return;
    case DW_FORM.data2: case DW_FORM.ref2: case DW_FORM.strx2: case DW_FORM.addrx2: r.skip(2); return;
    case DW_FORM.strx3: case DW_FORM.addrx3: r.skip(3); return;
    case DW_FORM.data4: case DW_FORM.ref4: case DW_FORM.strx4: case DW_FORM.addrx4: case DW_FORM.ref_sup4: r.skip(4); return;
    case DW_FORM.data8: case DW_FORM.ref8: case DW_FORM.ref_sig8: case DW_FORM.ref_sup8: r.skip(8); return;
    case DW_FORM.data16: r.skip(16); return;
    case DW_FORM.addr: r.skip(h.addressSize); return;
    case DW_FORM.strp: case DW_FORM.line_strp: case DW_FORM.strp_sup: case DW_FORM.GNU_strp_alt:
    case DW_FORM.sec_offset: case DW_FORM.GNU_ref_alt:
      r.skip(h.offsetSize);
      return;
    case DW_FORM.ref_addr: r.skip(h.version <= 2 ? h.addressSize : h.offsetSize); return;
    case DW_FORM.udata: case DW_FORM.sdata: case DW_FORM.ref_udata: case DW_FORM.strx: case DW_FORM.addrx:
    case DW_FORM.loclistx: case DW_FORM.rnglistx: case DW_FORM.GNU_addr_index: case DW_FORM.GNU_str_index:
      r.skipLeb();
      return;
    case DW_FORM.string: {
      const nul = r.bytes.indexOf(0, r.pos);
      if (nul < 0 || nul >= r.end) r.fail('unterminated string');
      else r.pos = nul + 1;
      return;
    }
    case DW_FORM.block1: r.skip(r.u8()); return;
    case DW_FORM.block2: r.skip(r.u16()); return;
    case DW_FORM.block4: r.skip(r.u32()); return;
    case DW_FORM.block: case DW_FORM.exprloc: r.skip(r.uleb()); return;
    case DW_FORM.indirect: {
      const f = r.uleb();
      if (f === DW_FORM.indirect || f === DW_FORM.implicit_const) r.fail(`DW_FORM_indirect to form 0x${f.toString(16)}`);
      else skipAttrValue(r, f, h);
      return;
    }
    default:
      r.fail(`unknown attribute form 0x${form.toString(16)}`, r.offset, 'ERR_DWARF_FORM');
  }
}

/**
 * One debugging information entry, located and measured but with its
 * attributes decoded only when asked for (gimli's lazy style): a DIE costs a
 * few numbers until someone reads it.
 */
export class Die {
  constructor(
    readonly unit: UnitBytes,
    /** Section offset of the DIE. */
    readonly offset: number,
    readonly abbrev: Abbrev,
    /** Index into `unit.bytes` of the first attribute value. */
    private readonly attrPos: number,
    /** Index into `unit.bytes` just past the attributes (where children or the next sibling start). */
    readonly endPos: number,
  ) {}

  get tag(): number {
    return this.abbrev.tag;
  }
  get hasChildren(): boolean {
    return this.abbrev.hasChildren;
  }
  /** The DIE's section-tagged identity. */
  get id(): DieId {
    return dieId(this.unit.header.section, this.offset);
  }

  has(at: number): boolean {
    return this.abbrev.attrs.indexOf(at) >= 0;
  }

  /** Decodes one attribute, or undefined when the DIE lacks it (or its data is corrupt). */
  attr(at: number): AttrValue | undefined {
    const { attrs, forms } = this.abbrev;
    const i = attrs.indexOf(at);
    if (i < 0) return undefined;
    const u = this.unit;
    const lay = layoutOf(u, this.abbrev);
    const r = cursor(u, this.attrPos, this.endPos);
    // Jump straight to the attribute when everything before it has a fixed size.
    let k = 0;
    if (lay[i]! >= 0) {
      k = i;
      r.pos += lay[i]!;
    } else {
      while (k + 1 < i && lay[k + 1]! >= 0) k++;
      r.pos += lay[k]!;
    }
    for (; k < i; k++) skipAttrValue(r, forms[k]!, u.header);
    const v = readAttrValue(r, forms[i]!, u.header, this.abbrev.implicit?.get(i));
    return r.error ? undefined : v;
  }

  /** Every attribute, in order (for dumps). */
  attrs(): { at: number; form: number; value: AttrValue }[] {
    const { attrs, forms } = this.abbrev;
    const u = this.unit;
    const r = cursor(u, this.attrPos, this.endPos);
    const out: { at: number; form: number; value: AttrValue }[] = [];
    for (let k = 0; k < attrs.length; k++) {
      const value = readAttrValue(r, forms[k]!, u.header, this.abbrev.implicit?.get(k));
      if (r.error) break;
      out.push({ at: attrs[k]!, form: forms[k]!, value });
    }
    return out;
  }

  /** Section offset of the next sibling when DW_AT_sibling says so. */
  siblingOffset(): number | undefined {
    const v = this.attr(DW_AT.sibling);
    if (v?.kind !== 'ref') return undefined;
    const off = v.id % 2 ** 44;
    return off > this.offset ? off : undefined;
  }
}

/**
 * Reads DIEs of one unit. Malformed data leaves `error` set and makes reads
 * return undefined, so every walk terminates.
 */
export class DieReader {
  readonly r: Reader;

  constructor(readonly unit: UnitBytes) {
    this.r = new Reader(unit.bytes, { file: unit.file, section: unit.sectionName }, unit.littleEndian, unit.base);
  }

  get error() {
    return this.r.error;
  }

  /**
   * The DIE at a section offset, or null for a null entry (end of siblings),
   * or undefined past the unit's end or on malformed data.
   */
  at(offset: number): Die | null | undefined {
    const r = this.r;
    if (r.error) return undefined;
    const h = this.unit.header;
    if (offset < h.dieOffset || offset >= h.end) return undefined;
    r.seek(offset);
    const code = r.uleb();
    if (r.error) return undefined;
    if (code === 0) return null;
    const ab = this.unit.abbrevs.get(code);
    if (!ab) {
      r.fail(`unknown abbreviation code ${code}`, offset, 'ERR_DWARF_ABBREV');
      return undefined;
    }
    const attrPos = r.pos;
    const total = layoutOf(this.unit, ab)[ab.forms.length]!;
    if (total >= 0) r.pos += total;
    else for (let k = 0; k < ab.forms.length; k++) skipAttrValue(r, ab.forms[k]!, h);
    if (r.error) return undefined;
    if (r.offset > h.end) {
      r.fail('DIE runs past the end of its unit', offset);
      return undefined;
    }
    return new Die(this.unit, offset, ab, attrPos, r.pos);
  }

  /** The root DIE of the unit. */
  root(): Die | undefined {
    return this.at(this.unit.header.dieOffset) ?? undefined;
  }

  /**
   * Section offset just past `die` and all its descendants: through
   * DW_AT_sibling when present, otherwise by walking the subtree.
   */
  skipSubtree(die: Die): number | undefined {
    const after = this.unit.base + die.endPos;
    if (!die.hasChildren) return after;
    const sib = die.siblingOffset();
    if (sib !== undefined && sib <= this.unit.header.end) return sib;
    let off = after;
    for (let guard = 0; ; guard++) {
      const d = this.at(off);
      if (d === undefined) return undefined;
      if (d === null) return this.r.offset;
      const next = this.skipSubtree(d);
      if (next === undefined || next <= off) return undefined;
      off = next;
      if (guard > 1e8) return undefined;
    }
  }

  /** The direct children of `die`, in order. Stops quietly on malformed data (see `error`). */
  *children(die: Die): Generator<Die> {
    if (!die.hasChildren) return;
    let off = this.unit.base + die.endPos;
    for (;;) {
      const d = this.at(off);
      if (!d) return;
      yield d;
      const next = this.skipSubtree(d);
      if (next === undefined || next <= off) return;
      off = next;
    }
  }
}
