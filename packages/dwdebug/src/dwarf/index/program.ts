/**
 * Scanner programs: a unit's abbreviation table compiled, straight from the
 * bytes of `.debug_abbrev`, into what the name-index scanner runs.
 *
 * Each abbreviation becomes a short list of operations over a DIE's
 * attribute bytes: "skip N bytes" for every run of fixed-size attributes
 * (summed when the table is compiled), "skip a LEB128", "skip a block",
 * and captures for the few attributes the index needs (the name, the
 * sibling, declaration and external flags, specification/abstract origin,
 * declaring file and line, and a subprogram's code range). An abbreviation
 * whose attributes the scanner does not need and whose size is fixed gets
 * that size alone and no program at all: the scanner adds it and moves on.
 *
 * The table is read once, in one pass, without an object per abbreviation
 * (a kernel has 340,000 of them in 2,352 tables). Only the root DIE's
 * abbreviation is also kept as declared, for the generic decoder that reads
 * the root's attributes.
 */
import { DW_AT, DW_FORM, DW_TAG } from '../constants.js';
import type { UnitHeader } from '../unit.js';
import { grown } from './typed-arrays.js';

// Operations. Each is followed by one argument in the ops array. The ones gcc
// and clang emit for nearly every DIE (4-byte strp names and sibling refs,
// 1- and 2-byte decl_file/decl_line, code ranges) come first and are run by
// the scanner's main loop; the rest (16 and up) by a separate function, so
// the hot loop stays small and is never deoptimized by a rare form.
export const OP_END = 0;
export const OP_SKIP = 1; // arg: byte count
export const OP_LEB = 2;
export const OP_BLOCKLEB = 3;
export const OP_NAME_STRP4 = 4;
export const OP_NAME_STRING = 5;
export const OP_SIB4 = 6;
export const OP_REF = 7; // spec/origin; arg: 0 = LEB, else byte count (unit-relative)
export const OP_FILE1 = 8;
export const OP_LINE1 = 9;
export const OP_LINE2 = 10;
export const OP_FILE_IMPLICIT = 11; // arg: the DW_FORM_implicit_const value
export const OP_LINE_IMPLICIT = 12; // arg: the DW_FORM_implicit_const value
// Code ranges of subprograms, kept for the address → function map.
export const OP_LOW_ADDR = 13; // arg: address size
export const OP_HIGH_CONST = 14; // arg: 0 = LEB, else byte count (a length)
export const OP_RANGES_OFF = 15; // arg: offset size (a section offset)
/** Operations from here on are rare. */
export const OP_RARE = 16;
export const OP_CSTR = 16;
export const OP_BLOCK1 = 17;
export const OP_BLOCK2 = 18;
export const OP_BLOCK4 = 19;
export const OP_NAME_STRP = 20; // arg: offset size
export const OP_NAME_STRX = 21; // arg: 0 = LEB, else byte count
export const OP_NAME_LINESTRP = 22; // arg: offset size
export const OP_NAME_SUPSTRP = 23; // arg: offset size
export const OP_SIB = 24; // arg: 0 = LEB, else byte count (unit-relative)
export const OP_SIB_ADDR = 25; // arg: size (section-relative)
export const OP_DECL_FLAG = 26;
export const OP_EXT_FLAG = 27;
export const OP_REF_ADDR = 28; // arg: size (section-relative, same section)
export const OP_REF_ALT = 29; // arg: size (supplementary)
export const OP_FILE = 30; // arg: 0 = LEB, else byte count
export const OP_LINE = 31; // arg: 0 = LEB, else byte count
export const OP_SLOW = 32; // DW_FORM_indirect: the generic decoder reads the DIE
export const OP_LOW_X = 33; // arg: 0 = LEB, else byte count (an addrx index)
export const OP_HIGH_ADDR = 34; // arg: address size
export const OP_HIGH_X = 35; // arg: 0 = LEB, else byte count
export const OP_RANGES_X = 36; // arg: 0 (a rnglistx index, LEB)

// Flags of a compiled abbreviation.
export const AB_CHILDREN = 1;
/** DW_AT_declaration with flag_present. */
export const AB_DECL = 2;
export const AB_EXT = 4;
/** Has an attribute that gives it code or storage (low_pc, ranges, entry_pc, location, const_value). */
export const AB_DEFINED = 8;
export const AB_INLINE = 16;
/** The tag can carry an indexed name (else only its size and sibling matter). */
export const AB_INTERESTING = 32;
export const AB_PRESENT = 64;
/** Indexed but not compiled yet: {@link ProgramCompiler.compileCode} makes its program. */
export const AB_LAZY = 128;

/** 1 for the tags whose names the scanner reads (indexed, or naming a scope it descends into). */
export const INDEXED_TAG = new Uint8Array(0x10000);
for (const t of [DW_TAG.base_type, DW_TAG.typedef, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.class_type, DW_TAG.enumeration_type,
  DW_TAG.unspecified_type, DW_TAG.enumerator, DW_TAG.subprogram, DW_TAG.variable, DW_TAG.namespace, DW_TAG.member]) INDEXED_TAG[t] = 1;

/**
 * How a function entry's code range is encoded (bits of `FunctionRanges.kind`):
 * low_pc as an address or an addrx index, high_pc as a length, an address or
 * an addrx index, or DW_AT_ranges as an offset or an rnglistx index.
 */
export const FnKind = {
  lowAddr: 1, lowX: 2, highLen: 4, highAddr: 8, highX: 16, rangesOff: 32, rangesX: 64,
} as const;

/**
 * An abbreviation table compiled for the scanner, in flat arrays indexed by
 * code. There is one per {@link ProgramCompiler}, recompiled for each unit:
 * the arrays only grow, so a unit's table costs no allocation.
 */
export class CompiledTable {
  tag = new Int32Array(256);
  flags = new Uint8Array(256);
  /** Start of each abbreviation's program in `ops`. */
  start = new Int32Array(256);
  /** Total attribute size when the scanner needs none of the attributes and all have a fixed size, else -1. */
  fixed = new Int32Array(256);
  /**
   * For scanning by name (match mode), where a DIE is mostly skipped unread:
   * the offset of a 4-byte strp name from the first attribute when every
   * attribute before it has a fixed size, likewise a ref4 sibling's, and
   * the attributes' total size when all are fixed (-1 when not so).
   */
  nameAt = new Int32Array(256);
  sibAt = new Int32Array(256);
  size = new Int32Array(256);
  ops = new Int32Array(4096);
  /** The root DIE's abbreviation, for reading its attributes with the generic decoder (absent when the table lacks its code). */
  root: RootAbbrev | undefined;
  /** Highest code with a flag set. */
  maxCode = 0;

  /** Makes room for codes up to `code`. */
  grow(code: number): void {
    const size = Math.max(code + 1, this.tag.length * 2);
    this.tag = grown(this.tag, size);
    this.flags = grown(this.flags, size);
    this.start = grown(this.start, size);
    this.fixed = grown(this.fixed, size);
    this.nameAt = grown(this.nameAt, size);
    this.sibAt = grown(this.sibAt, size);
    this.size = grown(this.size, size);
  }
}

/** The root DIE's abbreviation as declared. */
export interface RootAbbrev {
  readonly tag: number;
  readonly children: boolean;
  /** (attribute, form) pairs. */
  readonly spec: readonly number[];
  /** DW_FORM_implicit_const values by attribute index. */
  readonly implicit: ReadonlyMap<number, bigint>;
}

/** Why a table could not be compiled: a message, and whether more bytes of the section might help. */
export interface CompileFailure {
  /** The error code: ERR_DWARF_TRUNCATED, ERR_DWARF_FORM or ERR_DWARF_FORMAT. */
  readonly code: string;
  readonly message: string;
  readonly truncated: boolean;
  /** Offset into the bytes given where the problem lies. */
  readonly at: number;
}

/** Position after the value the last uleb()/sleb() read; -1 when it ran off the end or overflowed. */
let next = 0;

/** ULEB128 at `b[p]` (bytes end at `end`); values past 2^53 fail. */
function uleb(b: Uint8Array, p: number, end: number): number {
  // Up to four bytes in int32 arithmetic (abbreviation codes, tags, attributes and forms always fit).
  let v = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (p >= end) {
      next = -1;
      return 0;
    }
    const c = b[p++]!;
    v |= (c & 0x7f) << shift;
    if (!(c & 0x80)) {
      next = p;
      return v;
    }
  }
  let big = v;
  let mul = 268435456;
  for (;;) {
    if (p >= end || mul > 2 ** 49) {
      next = -1;
      return 0;
    }
    const c = b[p++]!;
    big += (c & 0x7f) * mul;
    if (!(c & 0x80)) {
      next = p;
      return big;
    }
    mul *= 128;
  }
}

/**
 * SLEB128 at `b[p]`: exact within ±2^27 (the file and line numbers the
 * scanner uses), a value outside that range when larger (the root's exact
 * value is read by {@link slebBig}).
 */
function sleb(b: Uint8Array, p: number, end: number): number {
  let v = 0;
  let shift = 0;
  for (let n = 0; ; n++) {
    if (p >= end || n > 10) {
      next = -1;
      return 0;
    }
    const c = b[p++]!;
    if (shift < 28) v |= (c & 0x7f) << shift;
    shift += 7;
    if (!(c & 0x80)) {
      next = p;
      if (shift > 28) return 0x7fffffff + 1;
      return c & 0x40 ? v - (1 << shift) : v;
    }
  }
}

/** SLEB128 as an exact bigint (the bytes were checked by {@link sleb}). */
function slebBig(b: Uint8Array, p: number): bigint {
  let v = 0n;
  let shift = 0n;
  for (let q = p; ; q++) {
    const c = b[q]!;
    v |= BigInt(c & 0x7f) << shift;
    shift += 7n;
    if (!(c & 0x80)) return c & 0x40 ? v - (1n << shift) : v;
  }
}

/** A form the scanner does not know. */
const FS_UNKNOWN = -1000;

/**
 * What a form takes in a unit: its size when fixed (≥ 0), or minus the skip
 * operation that measures it. One table per unit shape (address size,
 * offset size, DWARF 2's ref_addr), made once.
 */
const formSizeTables = new Map<number, Int16Array>();

function formSizes(h: UnitHeader): Int16Array {
  const key = h.addressSize * 64 + h.offsetSize * 2 + (h.version <= 2 ? 1 : 0);
  let t = formSizeTables.get(key);
  if (t) return t;
  t = new Int16Array(0x2000).fill(FS_UNKNOWN);
  const F = DW_FORM;
  const set = (forms: number[], v: number) => forms.forEach((f) => (t![f] = v));
  set([F.flag_present, F.implicit_const], 0);
  set([F.data1, F.ref1, F.flag, F.strx1, F.addrx1], 1);
  set([F.data2, F.ref2, F.strx2, F.addrx2], 2);
  set([F.strx3, F.addrx3], 3);
  set([F.data4, F.ref4, F.strx4, F.addrx4, F.ref_sup4], 4);
  set([F.data8, F.ref8, F.ref_sig8, F.ref_sup8], 8);
  set([F.data16], 16);
  set([F.addr], h.addressSize);
  set([F.strp, F.line_strp, F.strp_sup, F.GNU_strp_alt, F.sec_offset, F.GNU_ref_alt], h.offsetSize);
  set([F.ref_addr], h.version <= 2 ? h.addressSize : h.offsetSize);
  set([F.udata, F.sdata, F.ref_udata, F.strx, F.addrx, F.loclistx, F.rnglistx, F.GNU_addr_index, F.GNU_str_index], -OP_LEB);
  set([F.string], -OP_CSTR);
  set([F.block1], -OP_BLOCK1);
  set([F.block2], -OP_BLOCK2);
  set([F.block4], -OP_BLOCK4);
  set([F.block, F.exprloc], -OP_BLOCKLEB);
  set([F.indirect], -OP_SLOW);
  formSizeTables.set(key, t);
  return t;
}

// What an attribute means to the compiler (bits of AT_INFO).
const AT_CAPTURE = 1;
const AT_DEFINED = 2;
const AT_INLINE = 4;
const AT_INFO = new Uint8Array(0x100);
for (const at of [DW_AT.sibling, DW_AT.name, DW_AT.low_pc, DW_AT.high_pc, DW_AT.ranges, DW_AT.abstract_origin, DW_AT.specification,
  DW_AT.decl_file, DW_AT.decl_line, DW_AT.declaration, DW_AT.external]) AT_INFO[at]! |= AT_CAPTURE;
for (const at of [DW_AT.low_pc, DW_AT.ranges, DW_AT.entry_pc, DW_AT.location, DW_AT.const_value]) AT_INFO[at]! |= AT_DEFINED;
AT_INFO[DW_AT.inline]! |= AT_INLINE;

/** Byte count of an index or constant form for the ops' "0 = LEB" arguments, or -1. */
function countOf(form: number): number {
  switch (form) {
    case DW_FORM.data1: case DW_FORM.strx1: case DW_FORM.addrx1: case DW_FORM.ref1: return 1;
    case DW_FORM.data2: case DW_FORM.strx2: case DW_FORM.addrx2: case DW_FORM.ref2: return 2;
    case DW_FORM.strx3: case DW_FORM.addrx3: return 3;
    case DW_FORM.data4: case DW_FORM.strx4: case DW_FORM.addrx4: case DW_FORM.ref4: return 4;
    case DW_FORM.data8: case DW_FORM.ref8: return 8;
    case DW_FORM.udata: case DW_FORM.strx: case DW_FORM.GNU_str_index: case DW_FORM.addrx: case DW_FORM.GNU_addr_index:
    case DW_FORM.ref_udata:
      return 0;
    default: return -1;
  }
}

const isConst = (f: number) => f === DW_FORM.data1 || f === DW_FORM.data2 || f === DW_FORM.data4 || f === DW_FORM.data8 || f === DW_FORM.udata;
const isAddrx = (f: number) => f === DW_FORM.addrx || f === DW_FORM.GNU_addr_index || (f >= DW_FORM.addrx1 && f <= DW_FORM.addrx4);
const isStrx = (f: number) => f === DW_FORM.strx || f === DW_FORM.GNU_str_index || (f >= DW_FORM.strx1 && f <= DW_FORM.strx4);
const isUnitRef = (f: number) => f === DW_FORM.ref1 || f === DW_FORM.ref2 || f === DW_FORM.ref4 || f === DW_FORM.ref8 || f === DW_FORM.ref_udata;

/**
 * The capture operation for attribute `at` of `form` (the sibling on any
 * DIE, code ranges on subprograms, the rest on DIEs of indexed tags),
 * written into `out` as (op, arg); false when the scanner only skips it.
 */
function capture(at: number, form: number, h: UnitHeader, interesting: boolean, subprogram: boolean, out: Int32Array): boolean {
  if (at === DW_AT.sibling) {
    if (form === DW_FORM.ref4) return set(out, OP_SIB4, 0);
    if (isUnitRef(form)) return set(out, OP_SIB, countOf(form));
    if (form === DW_FORM.ref_addr) return set(out, OP_SIB_ADDR, h.version <= 2 ? h.addressSize : h.offsetSize);
    return false;
  }
  if (subprogram) {
    if (at === DW_AT.low_pc) {
      if (form === DW_FORM.addr) return set(out, OP_LOW_ADDR, h.addressSize);
      if (isAddrx(form)) return set(out, OP_LOW_X, countOf(form));
    } else if (at === DW_AT.high_pc) {
      if (form === DW_FORM.addr) return set(out, OP_HIGH_ADDR, h.addressSize);
      if (isAddrx(form)) return set(out, OP_HIGH_X, countOf(form));
      if (isConst(form)) return set(out, OP_HIGH_CONST, countOf(form));
    } else if (at === DW_AT.ranges) {
      if (form === DW_FORM.sec_offset) return set(out, OP_RANGES_OFF, h.offsetSize);
      if (form === DW_FORM.rnglistx) return set(out, OP_RANGES_X, 0);
      if (h.version < 4 && (form === DW_FORM.data4 || form === DW_FORM.data8)) return set(out, OP_RANGES_OFF, form === DW_FORM.data4 ? 4 : 8);
    }
  }
  if (!interesting) return false;
  switch (at) {
    case DW_AT.name:
      if (form === DW_FORM.strp) return h.offsetSize === 4 ? set(out, OP_NAME_STRP4, 0) : set(out, OP_NAME_STRP, h.offsetSize);
      if (form === DW_FORM.string) return set(out, OP_NAME_STRING, 0);
      if (isStrx(form)) return set(out, OP_NAME_STRX, countOf(form));
      if (form === DW_FORM.line_strp) return set(out, OP_NAME_LINESTRP, h.offsetSize);
      if (form === DW_FORM.strp_sup || form === DW_FORM.GNU_strp_alt) return set(out, OP_NAME_SUPSTRP, h.offsetSize);
      return false;
    case DW_AT.declaration: return form === DW_FORM.flag && set(out, OP_DECL_FLAG, 0);
    case DW_AT.external: return form === DW_FORM.flag && set(out, OP_EXT_FLAG, 0);
    case DW_AT.specification: case DW_AT.abstract_origin:
      if (isUnitRef(form)) return set(out, OP_REF, countOf(form));
      if (form === DW_FORM.ref_addr) return set(out, OP_REF_ADDR, h.version <= 2 ? h.addressSize : h.offsetSize);
      if (form === DW_FORM.GNU_ref_alt) return set(out, OP_REF_ALT, h.offsetSize);
      if (form === DW_FORM.ref_sup4 || form === DW_FORM.ref_sup8) return set(out, OP_REF_ALT, form === DW_FORM.ref_sup4 ? 4 : 8);
      return false;
    case DW_AT.decl_file:
      if (form === DW_FORM.data1) return set(out, OP_FILE1, 0);
      return isConst(form) && set(out, OP_FILE, countOf(form));
    case DW_AT.decl_line:
      if (form === DW_FORM.data1) return set(out, OP_LINE1, 0);
      if (form === DW_FORM.data2) return set(out, OP_LINE2, 0);
      return isConst(form) && set(out, OP_LINE, countOf(form));
    default: return false;
  }
}

function set(out: Int32Array, op: number, arg: number): true {
  out[0] = op;
  out[1] = arg;
  return true;
}

/**
 * Compiles abbreviation tables for the scanner. A table is first indexed
 * (each declaration's code, tag, children flag and where its attributes
 * start: one quick pass over the bytes, which also checks their structure);
 * a declaration's program is compiled when a DIE first uses it. A scan that
 * reads only the start of a unit (a type looked up by name) compiles only
 * the declarations used there.
 */
export class ProgramCompiler {
  /** The table the last successful {@link compile} made (only valid until the next compile). */
  readonly table = new CompiledTable();
  private readonly pair = new Int32Array(2);
  private nops = 0;
  private src: Uint8Array = new Uint8Array(0);
  private srcEnd = 0;
  private h!: UnitHeader;
  /** Position of each declaration's attributes in `src`. */
  private declAt = new Int32Array(256);

  /** Indexes a table into {@link table} (programs compiled on use, see {@link compileCode}); a failure leaves it empty. */
  compile(bytes: Uint8Array, pos: number, end: number, h: UnitHeader, rootCode: number): CompileFailure | undefined {
    const ct = this.table;
    ct.flags.fill(0, 0, ct.maxCode + 1);
    ct.maxCode = 0;
    ct.root = undefined;
    this.nops = 0;
    this.src = bytes;
    this.srcEnd = end;
    this.h = h;
    let r = this.index(bytes, pos, end);
    // The root's declaration is compiled now: its attributes are read before the walk.
    if (!r && rootCode > 0 && rootCode <= ct.maxCode && ct.flags[rootCode]) r = this.compileCode(rootCode, true);
    if (r) {
      ct.flags.fill(0, 0, ct.maxCode + 1);
      ct.root = undefined;
    }
    return r;
  }

  private index(b: Uint8Array, pos: number, end: number): CompileFailure | undefined {
    const ct = this.table;
    let p = pos;
    const truncated = (at: number): CompileFailure => ({ code: 'ERR_DWARF_TRUNCATED', message: 'truncated abbreviation table', truncated: true, at });
    for (;;) {
      const declAt = p;
      const code = uleb(b, p, end);
      if (next < 0) return truncated(declAt);
      p = next;
      if (code === 0) return undefined;
      const t = uleb(b, p, end);
      if (next < 0 || next >= end) return truncated(declAt);
      p = next;
      const children = b[p++] !== 0;
      if (code > 1_000_000) return { code: 'ERR_DWARF_FORM', message: `abbreviation code ${code} too large`, truncated: false, at: declAt };
      if (code >= ct.tag.length) ct.grow(code);
      if (code >= this.declAt.length) this.declAt = grown(this.declAt, ct.tag.length);
      if (code > ct.maxCode) ct.maxCode = code;
      if (ct.flags[code]) return { code: 'ERR_DWARF_FORMAT', message: `duplicate abbreviation code ${code}`, truncated: false, at: declAt };
      ct.tag[code] = t;
      ct.flags[code] = AB_PRESENT | AB_LAZY | (children ? AB_CHILDREN : 0) | (t < 0x10000 && INDEXED_TAG[t] === 1 ? AB_INTERESTING : 0);
      this.declAt[code] = p;
      for (let count = 0; ; count++) {
        // Attribute and form are one byte each nearly always: read those inline.
        let at = b[p]!;
        let form = b[p + 1]!;
        if ((at | form) & 0x80 || p + 2 > end) {
          at = uleb(b, p, end);
          if (next < 0) return truncated(declAt);
          form = uleb(b, next, end);
          if (next < 0) return truncated(declAt);
          p = next;
        } else p += 2;
        if (at === 0 && form === 0) break;
        if (count > 100_000) return { code: 'ERR_DWARF_FORMAT', message: 'abbreviation with too many attributes', truncated: false, at: declAt };
        if (form === DW_FORM.implicit_const) {
          sleb(b, p, end);
          if (next < 0) return truncated(declAt);
          p = next;
        }
      }
    }
  }

  /**
   * Compiles the program of one declaration of the current table (its flags
   * lose {@link AB_LAZY}). Fails on a form the scanner does not know.
   */
  compileCode(code: number, isRoot = false): CompileFailure | undefined {
    const ct = this.table;
    const b = this.src;
    const end = this.srcEnd;
    const h = this.h;
    let p = this.declAt[code]!;
    let nops = this.nops;
    let ops = ct.ops;
    const pair = this.pair;
    const sizes = formSizes(h);
    const t = ct.tag[code]!;
    const children = (ct.flags[code]! & AB_CHILDREN) !== 0;
    const interesting = (ct.flags[code]! & AB_INTERESTING) !== 0;
    const subprogram = t === DW_TAG.subprogram;
    const first = nops;
    let skip = 0;
    let allFixed = true;
    let off = 0;
    let nameAt = -1;
    let sibAt = -1;
    let f = AB_PRESENT | (children ? AB_CHILDREN : 0) | (interesting ? AB_INTERESTING : 0);
    const rootSpec: number[] | undefined = isRoot ? [] : undefined;
    const rootImplicit = isRoot ? new Map<number, bigint>() : undefined;
    // The index pass checked these bytes: every read stays within the table.
    for (;;) {
      let at = b[p]!;
      let form = b[p + 1]!;
      if ((at | form) & 0x80) {
        at = uleb(b, p, end);
        form = uleb(b, next, end);
        p = next;
      } else p += 2;
      if (at === 0 && form === 0) break;
      let implicit = 0;
      if (form === DW_FORM.implicit_const) {
        implicit = sleb(b, p, end);
        if (rootSpec) rootImplicit!.set(rootSpec.length >> 1, slebBig(b, p));
        p = next;
      }
      rootSpec?.push(at, form);
      const fsz = form < sizes.length ? sizes[form]! : FS_UNKNOWN;
      if (fsz === FS_UNKNOWN) return { code: 'ERR_DWARF_FORM', message: `unknown attribute form 0x${form.toString(16)} in abbreviation ${code}`, truncated: false, at: p };
      if (off >= 0) {
        if (at === DW_AT.name && form === DW_FORM.strp && h.offsetSize === 4) nameAt = off;
        else if (at === DW_AT.sibling && form === DW_FORM.ref4) sibAt = off;
        off = fsz >= 0 ? off + fsz : -1;
      }
      if (nops + 8 > ops.length) {
        const grown = new Int32Array(ops.length * 2);
        grown.set(ops);
        ct.ops = ops = grown;
      }
      const info = at < 0x100 ? AT_INFO[at]! : 0;
      if (info) {
        if (info & AT_DEFINED) f |= AB_DEFINED;
        else if (info & AT_INLINE) f |= AB_INLINE;
        else if (form === DW_FORM.flag_present && at === DW_AT.declaration) f |= AB_DECL;
        else if (form === DW_FORM.flag_present && at === DW_AT.external) f |= AB_EXT;
        let captured = false;
        if (info & AT_CAPTURE) {
          // The commonest shapes first (gcc and clang: strp names, ref4 siblings, data1/data2 declaration coordinates).
          if (at === DW_AT.sibling && form === DW_FORM.ref4) captured = set(pair, OP_SIB4, 0);
          else if (!interesting && !subprogram) captured = false;
          else if (interesting && at === DW_AT.name && form === DW_FORM.strp && h.offsetSize === 4) captured = set(pair, OP_NAME_STRP4, 0);
          else if (interesting && at === DW_AT.decl_file && form === DW_FORM.data1) captured = set(pair, OP_FILE1, 0);
          else if (interesting && at === DW_AT.decl_line && form === DW_FORM.data1) captured = set(pair, OP_LINE1, 0);
          else if (interesting && at === DW_AT.decl_line && form === DW_FORM.data2) captured = set(pair, OP_LINE2, 0);
          else captured = capture(at, form, h, interesting, subprogram, pair);
        }
        if (!captured && interesting && form === DW_FORM.implicit_const && (at === DW_AT.decl_file || at === DW_AT.decl_line)) {
          // gcc's DWARF 5 puts a file or line shared by many DIEs in the abbreviation itself.
          if (implicit >= 0 && implicit <= 0x7fffffff) captured = set(pair, at === DW_AT.decl_file ? OP_FILE_IMPLICIT : OP_LINE_IMPLICIT, implicit);
        }
        if (captured) {
          if (skip) {
            ops[nops++] = OP_SKIP;
            ops[nops++] = skip;
            skip = 0;
          }
          ops[nops++] = pair[0]!;
          ops[nops++] = pair[1]!;
          allFixed = false;
          continue;
        }
      }
      if (fsz >= 0) {
        skip += fsz;
        continue;
      }
      allFixed = false;
      if (skip) {
        ops[nops++] = OP_SKIP;
        ops[nops++] = skip;
        skip = 0;
      }
      ops[nops++] = -fsz;
      ops[nops++] = 0;
    }
    if (nops + 8 > ops.length) {
      const grown = new Int32Array(ops.length * 2);
      grown.set(ops);
      ct.ops = ops = grown;
    }
    ct.flags[code] = f;
    ct.start[code] = first;
    ct.fixed[code] = allFixed ? skip : -1;
    ct.nameAt[code] = interesting ? nameAt : -1;
    ct.sibAt[code] = children ? sibAt : -1;
    ct.size[code] = off;
    if (skip) {
      ops[nops++] = OP_SKIP;
      ops[nops++] = skip;
    }
    ops[nops++] = OP_END;
    ops[nops++] = 0;
    this.nops = nops;
    if (rootSpec) ct.root = { tag: t, children, spec: rootSpec, implicit: rootImplicit! };
    return undefined;
  }
}
