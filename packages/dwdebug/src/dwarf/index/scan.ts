/**
 * The name-index DIE scanner.
 *
 * After drgn's DWARF index: instead of decoding every attribute of every DIE,
 * each abbreviation is compiled once into a tiny program of "skip N bytes /
 * skip a LEB128 / capture the name / capture the sibling" operations, and the
 * scanner runs those programs over the unit's bytes. Only DIEs that can carry
 * a global name are looked at: the unit's top level, C++ namespaces and
 * classes, and enumerators. Every other subtree (function bodies, struct
 * members) is jumped over through DW_AT_sibling, or skipped DIE by DIE when
 * the producer (clang) emits no siblings.
 *
 * Reads past the end of the unit cannot throw (typed arrays yield undefined,
 * which the bit operations treat as 0); the position is checked against the
 * unit end after every DIE, so corrupt input ends the unit's scan with an
 * error and never loops.
 *
 * Deduplication happens here, per worker: a struct defined by a header in 500
 * units is kept once per (name, tag, declaring file, line), a declaration once
 * per (name, tag). Definitions of functions and variables are all kept: static
 * functions of the same name in several units are distinct.
 */
import type { AbbrevTable } from '../abbrev.js';
import { DW_AT, DW_FORM, DW_TAG, isCxxLanguage } from '../constants.js';
import { DieReader, fixedFormSize, newScratch, type AttrValue, type UnitBytes } from '../die.js';
import { decodeUtf8, type Reader } from '../reader.js';
import { readRootInfo, type RootInfo } from '../root.js';
import type { SectionData } from '../source.js';
import { dieId, type DieId, type UnitHeader } from '../unit.js';
import { parseAt } from '../window.js';

/** Entry flags of the name index. */
export const EntryFlag = {
  declaration: 1,
  external: 2,
  /** A function with code, a variable with a location or value, a complete type. */
  defined: 4,
  /** An abstract instance root (DW_AT_inline): the function is inlined somewhere. */
  abstract: 8,
  /** The name came from the DIE's DW_AT_specification or DW_AT_abstract_origin. */
  namedByReference: 16,
} as const;

// Scanner operations. Each op is followed by one argument in the ops array. The
// common shapes of gcc and clang output (4-byte strp names and sibling refs,
// 1- and 2-byte decl_file/decl_line) have ops of their own.
const OP_END = 0;
const OP_SKIP = 1; // arg: byte count
const OP_LEB = 2;
const OP_CSTR = 3;
const OP_BLOCK1 = 4;
const OP_BLOCK2 = 5;
const OP_BLOCK4 = 6;
const OP_BLOCKLEB = 7;
const OP_NAME_STRP4 = 8;
const OP_NAME_STRP = 9; // arg: offset size
const OP_NAME_STRING = 10;
const OP_NAME_STRX = 11; // arg: 0 = LEB, else byte count
const OP_NAME_LINESTRP = 12; // arg: offset size
const OP_NAME_SUPSTRP = 13; // arg: offset size
const OP_SIB4 = 14;
const OP_SIB = 15; // arg: 0 = LEB, else byte count (unit-relative)
const OP_SIB_ADDR = 16; // arg: size (section-relative)
const OP_DECL_FLAG = 17;
const OP_EXT_FLAG = 18;
const OP_REF = 19; // spec/origin; arg: 0 = LEB, else byte count (unit-relative)
const OP_REF_ADDR = 20; // arg: size (section-relative, same section)
const OP_REF_ALT = 21; // arg: size (supplementary)
const OP_FILE1 = 22;
const OP_FILE = 23; // arg: 0 = LEB, else byte count
const OP_LINE1 = 24;
const OP_LINE2 = 25;
const OP_LINE = 26; // arg: 0 = LEB, else byte count
const OP_SLOW = 27; // DW_FORM_indirect: decode generically
const OP_FILE_IMPLICIT = 28; // arg: the DW_FORM_implicit_const value
const OP_LINE_IMPLICIT = 29; // arg: the DW_FORM_implicit_const value
// Code ranges of subprograms, kept for the address → function map.
const OP_LOW_ADDR = 30; // arg: address size
const OP_LOW_X = 31; // arg: 0 = LEB, else byte count (an addrx index)
const OP_HIGH_CONST = 32; // arg: 0 = LEB, else byte count (a length)
const OP_HIGH_ADDR = 33; // arg: address size
const OP_HIGH_X = 34; // arg: 0 = LEB, else byte count
const OP_RANGES_OFF = 35; // arg: offset size (a section offset)
const OP_RANGES_X = 36; // arg: 0 (a rnglistx index, LEB)

/**
 * How a function entry's code range is encoded (bits of {@link ScanOutput.fnKind}):
 * low_pc as an address or an addrx index, high_pc as a length, an address or
 * an addrx index, or DW_AT_ranges as an offset or an rnglistx index.
 */
export const FnKind = {
  lowAddr: 1, lowX: 2, highLen: 4, highAddr: 8, highX: 16, rangesOff: 32, rangesX: 64,
} as const;

/** The op capturing a subprogram's code-range attribute, if it is one. */
function rangeOp(at: number, form: number, h: UnitHeader): [number, number] | undefined {
  const n = (f: number) => (f === DW_FORM.addrx1 || f === DW_FORM.strx1 ? 1 : f === DW_FORM.addrx2 ? 2 : f === DW_FORM.addrx3 ? 3 : f === DW_FORM.addrx4 ? 4 : 0);
  const isX = (f: number) => f === DW_FORM.addrx || f === DW_FORM.GNU_addr_index || (f >= DW_FORM.addrx1 && f <= DW_FORM.addrx4);
  if (at === DW_AT.low_pc) {
    if (form === DW_FORM.addr) return [OP_LOW_ADDR, h.addressSize];
    if (isX(form)) return [OP_LOW_X, n(form)];
  } else if (at === DW_AT.high_pc) {
    if (form === DW_FORM.addr) return [OP_HIGH_ADDR, h.addressSize];
    if (isX(form)) return [OP_HIGH_X, n(form)];
    const c = constOp(form);
    if (c !== undefined) return [OP_HIGH_CONST, c];
  } else if (at === DW_AT.ranges) {
    if (form === DW_FORM.sec_offset) return [OP_RANGES_OFF, h.offsetSize];
    if (form === DW_FORM.rnglistx) return [OP_RANGES_X, 0];
    if (h.version < 4 && (form === DW_FORM.data4 || form === DW_FORM.data8)) return [OP_RANGES_OFF, form === DW_FORM.data4 ? 4 : 8];
  }
  return undefined;
}

/** An unsigned value of `n` bytes (0 = ULEB128) at `pos`; zeros past the end of `b`. */
function readUnsigned(b: Uint8Array, pos: number, n: number, le: boolean): number {
  switch (n) {
    case 0: {
      let v = 0;
      let mul = 1;
      for (let i = 0; i < 10; i++) {
        const c = b[pos + i]!;
        v += (c & 0x7f) * mul;
        if (!(c & 0x80)) break;
        mul *= 128;
      }
      return v;
    }
    case 1: return b[pos]! | 0;
    case 2: return le ? b[pos]! | (b[pos + 1]! << 8) : (b[pos]! << 8) | b[pos + 1]!;
    case 3: return le ? b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) : (b[pos]! << 16) | (b[pos + 1]! << 8) | b[pos + 2]!;
    case 4: return (le ? b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24) : (b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
    default: {
      const lo = readUnsigned(b, le ? pos : pos + 4, 4, le);
      const hi = readUnsigned(b, le ? pos + 4 : pos, 4, le);
      return hi * 4294967296 + lo;
    }
  }
}

/** Bytes taken by a value read with {@link readUnsigned}. */
function unsignedLength(b: Uint8Array, pos: number, n: number): number {
  if (n !== 0) return n;
  let i = 0;
  while (b[pos + i++]! & 0x80 && i < 10);
  return i;
}

// Flags of a compiled abbreviation.
const AB_CHILDREN = 1;
/** DW_AT_declaration with flag_present. */
const AB_DECL = 2;
const AB_EXT = 4;
/** Has an attribute that gives it code or storage (low_pc, ranges, entry_pc, location, const_value). */
const AB_DEFINED = 8;
const AB_INLINE = 16;
/** The tag can carry an indexed name (else only its size and sibling matter). */
const AB_INTERESTING = 32;
const AB_PRESENT = 64;

/**
 * An abbreviation table compiled for the scanner, in flat arrays indexed by
 * code (no object per abbreviation: a kernel has 200,000 of them).
 */
interface CompiledTable {
  readonly tag: Int32Array;
  readonly flags: Uint8Array;
  /** Start of each abbreviation's program in `ops`. */
  readonly start: Int32Array;
  /** Total attribute size when the scanner needs none of the attributes and all have a fixed size, else -1. */
  readonly fixed: Int32Array;
  readonly ops: Int32Array;
}

/** [byte count (0 = LEB), 0 unit-relative | 1 section-relative | 2 supplementary] for a reference form. */
function refOp(form: number, h: UnitHeader): [number, number] | undefined {
  switch (form) {
    case DW_FORM.ref1: return [1, 0];
    case DW_FORM.ref2: return [2, 0];
    case DW_FORM.ref4: return [4, 0];
    case DW_FORM.ref8: return [8, 0];
    case DW_FORM.ref_udata: return [0, 0];
    case DW_FORM.ref_addr: return [h.version <= 2 ? h.addressSize : h.offsetSize, 1];
    case DW_FORM.GNU_ref_alt: return [h.offsetSize, 2];
    case DW_FORM.ref_sup4: return [4, 2];
    case DW_FORM.ref_sup8: return [8, 2];
    default: return undefined;
  }
}

function constOp(form: number): number | undefined {
  switch (form) {
    case DW_FORM.data1: return 1;
    case DW_FORM.data2: return 2;
    case DW_FORM.data4: return 4;
    case DW_FORM.data8: return 8;
    case DW_FORM.udata: return 0;
    default: return undefined;
  }
}

function nameOp(form: number, h: UnitHeader): [number, number] | undefined {
  switch (form) {
    case DW_FORM.strp: return h.offsetSize === 4 ? [OP_NAME_STRP4, 0] : [OP_NAME_STRP, h.offsetSize];
    case DW_FORM.string: return [OP_NAME_STRING, 0];
    case DW_FORM.strx: case DW_FORM.GNU_str_index: return [OP_NAME_STRX, 0];
    case DW_FORM.strx1: return [OP_NAME_STRX, 1];
    case DW_FORM.strx2: return [OP_NAME_STRX, 2];
    case DW_FORM.strx3: return [OP_NAME_STRX, 3];
    case DW_FORM.strx4: return [OP_NAME_STRX, 4];
    case DW_FORM.line_strp: return [OP_NAME_LINESTRP, h.offsetSize];
    case DW_FORM.strp_sup: case DW_FORM.GNU_strp_alt: return [OP_NAME_SUPSTRP, h.offsetSize];
    default: return undefined;
  }
}

/** The op capturing attribute `at` of `form`, if the scanner cares about it. */
function captureOp(at: number, form: number, h: UnitHeader): [number, number] | undefined {
  switch (at) {
    case DW_AT.name: return nameOp(form, h);
    case DW_AT.sibling: {
      const s = refOp(form, h);
      if (s && s[1] === 0) return s[0] === 4 ? [OP_SIB4, 0] : [OP_SIB, s[0]];
      return s && s[1] === 1 ? [OP_SIB_ADDR, s[0]] : undefined;
    }
    case DW_AT.declaration: return form === DW_FORM.flag ? [OP_DECL_FLAG, 0] : undefined;
    case DW_AT.external: return form === DW_FORM.flag ? [OP_EXT_FLAG, 0] : undefined;
    case DW_AT.specification: case DW_AT.abstract_origin: {
      const s = refOp(form, h);
      return s ? [s[1] === 0 ? OP_REF : s[1] === 1 ? OP_REF_ADDR : OP_REF_ALT, s[0]] : undefined;
    }
    case DW_AT.decl_file: {
      const c = constOp(form);
      return c === undefined ? undefined : c === 1 ? [OP_FILE1, 0] : [OP_FILE, c];
    }
    case DW_AT.decl_line: {
      const c = constOp(form);
      return c === undefined ? undefined : c === 1 ? [OP_LINE1, 0] : c === 2 ? [OP_LINE2, 0] : [OP_LINE, c];
    }
    default: return undefined;
  }
}

function compile(table: AbbrevTable, h: UnitHeader): CompiledTable | string {
  const ops: number[] = [];
  const spec = table.spec;
  let maxCode = 0;
  for (const c of table.codes) if (c > maxCode) maxCode = c;
  if (maxCode > 1_000_000) return `abbreviation code ${maxCode} too large`;
  const tagOf = new Int32Array(maxCode + 1);
  const flagsOf = new Uint8Array(maxCode + 1);
  const startOf = new Int32Array(maxCode + 1);
  const fixedOf = new Int32Array(maxCode + 1);
  for (let ai = 0; ai < table.codes.length; ai++) {
    const code = table.codes[ai]!;
    const tag = table.tags[ai]!;
    const start = ops.length;
    let skip = 0;
    const flush = () => {
      if (skip) ops.push(OP_SKIP, skip);
      skip = 0;
    };
    let declPresent = false, extPresent = false, defined = false, inline = false;
    const interesting = INDEXED_TAG[tag] === 1;
    const s0 = table.specStart[ai]!;
    const count = table.specCount[ai]!;
    for (let i = 0; i < count; i++) {
      const at = spec[2 * (s0 + i)]!;
      const form = spec[2 * (s0 + i) + 1]!;
      if (at === DW_AT.low_pc || at === DW_AT.ranges || at === DW_AT.entry_pc || at === DW_AT.location || at === DW_AT.const_value) defined = true;
      if (at === DW_AT.inline) inline = true;
      if (form === DW_FORM.flag_present && at === DW_AT.declaration) declPresent = true;
      if (form === DW_FORM.flag_present && at === DW_AT.external) extPresent = true;
      let cap = interesting || at === DW_AT.sibling ? captureOp(at, form, h) : undefined;
      if (!cap && tag === DW_TAG.subprogram) cap = rangeOp(at, form, h);
      if (interesting && form === DW_FORM.implicit_const && (at === DW_AT.decl_file || at === DW_AT.decl_line)) {
        // gcc's DWARF 5 puts a file or line shared by many DIEs in the abbreviation itself.
        const v = Number(table.implicitConst.get(s0 + i) ?? 0n);
        if (v >= 0 && v <= 0x7fffffff) cap = [at === DW_AT.decl_file ? OP_FILE_IMPLICIT : OP_LINE_IMPLICIT, v];
      }
      if (cap) {
        flush();
        ops.push(cap[0], cap[1]);
        continue;
      }
      const fs = fixedFormSize(form, h);
      if (fs >= 0) {
        skip += fs;
        continue;
      }
      flush();
      switch (form) {
        case DW_FORM.udata: case DW_FORM.sdata: case DW_FORM.ref_udata: case DW_FORM.strx: case DW_FORM.addrx:
        case DW_FORM.loclistx: case DW_FORM.rnglistx: case DW_FORM.GNU_addr_index: case DW_FORM.GNU_str_index:
          ops.push(OP_LEB, 0);
          break;
        case DW_FORM.string: ops.push(OP_CSTR, 0); break;
        case DW_FORM.block1: ops.push(OP_BLOCK1, 0); break;
        case DW_FORM.block2: ops.push(OP_BLOCK2, 0); break;
        case DW_FORM.block4: ops.push(OP_BLOCK4, 0); break;
        case DW_FORM.block: case DW_FORM.exprloc: ops.push(OP_BLOCKLEB, 0); break;
        case DW_FORM.indirect: ops.push(OP_SLOW, i); break;
        default: return `unknown attribute form 0x${form.toString(16)} in abbreviation ${code}`;
      }
    }
    flush();
    ops.push(OP_END, 0);
    const n = ops.length - start;
    tagOf[code] = tag;
    startOf[code] = start;
    fixedOf[code] = n === 2 ? 0 : n === 4 && ops[start] === OP_SKIP ? ops[start + 1]! : -1;
    flagsOf[code] = AB_PRESENT | (table.children[ai] ? AB_CHILDREN : 0) | (declPresent ? AB_DECL : 0) | (extPresent ? AB_EXT : 0)
      | (defined ? AB_DEFINED : 0) | (inline ? AB_INLINE : 0) | (interesting ? AB_INTERESTING : 0);
  }
  return { tag: tagOf, flags: flagsOf, start: startOf, fixed: fixedOf, ops: Int32Array.from(ops) };
}

/** The string sections names may point into. */
export interface ScanStrings {
  readonly str?: Uint8Array;
  readonly lineStr?: Uint8Array;
  readonly strOffsets?: Uint8Array;
  readonly supStr?: Uint8Array;
}

/** A unit's scan failed part way; what was indexed before the failure is kept. */
export interface ScanError {
  readonly unit: number;
  readonly code: string;
  readonly message: string;
  readonly section?: string;
  readonly offset?: number;
}

/**
 * A DIE without DW_AT_name whose name lives in the DIE it refers to
 * (DW_AT_specification, DW_AT_abstract_origin) outside its unit, or behind a
 * chain of references: resolved by the caller once every unit is known.
 */
export interface PendingRef {
  readonly die: DieId;
  readonly target: DieId;
  readonly tag: number;
  readonly flags: number;
}

/** The output of scanning some units: names and entries, ready to send between threads. */
export interface ScanOutput {
  readonly names: string[];
  readonly nameOf: Uint32Array;
  readonly die: Float64Array;
  readonly tag: Uint16Array;
  readonly flags: Uint8Array;
  /** Hash of the declaring file and line, for types, enumerators and abstract functions; 0 otherwise. */
  readonly declKey: Uint32Array;
  readonly count: number;
  readonly roots: { unit: number; root: RootInfo }[];
  readonly pending: PendingRef[];
  readonly errors: ScanError[];
  /** Function definitions with code, and how their code range is encoded (see {@link FnKind}). */
  readonly functions: FunctionRanges;
}

/**
 * Encoded code ranges of function definitions: `a` is low_pc or the ranges
 * offset/index, `b` high_pc. A unit's functions are contiguous; `units` holds
 * (unit index, first, end) triples.
 */
export interface FunctionRanges {
  readonly die: Float64Array;
  readonly kind: Uint8Array;
  readonly a: BigUint64Array;
  readonly b: BigUint64Array;
  readonly units: Int32Array;
}

// Tags as local constants: the scan loop is hot, and module-namespace lookups are not free everywhere.
const TAG_enumerator = DW_TAG.enumerator;
const TAG_subprogram = DW_TAG.subprogram;
const TAG_variable = DW_TAG.variable;
const TAG_namespace = DW_TAG.namespace;
const TAG_member = DW_TAG.member;
const TAG_enumeration_type = DW_TAG.enumeration_type;
const TAG_structure_type = DW_TAG.structure_type;
const TAG_class_type = DW_TAG.class_type;
const TAG_union_type = DW_TAG.union_type;

/** 1 for the tags the index files under type names. */
const TYPE_TAG = new Uint8Array(0x10000);
for (const t of [DW_TAG.base_type, DW_TAG.typedef, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.class_type, DW_TAG.enumeration_type, DW_TAG.unspecified_type]) TYPE_TAG[t] = 1;

/** 1 for the tags whose names the scanner reads (indexed, or naming a scope it descends into). */
const INDEXED_TAG = new Uint8Array(0x10000);
for (const t of [DW_TAG.base_type, DW_TAG.typedef, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.class_type, DW_TAG.enumeration_type,
  DW_TAG.unspecified_type, DW_TAG.enumerator, DW_TAG.subprogram, DW_TAG.variable, DW_TAG.namespace, DW_TAG.member]) INDEXED_TAG[t] = 1;

/** Small numbers for the indexed tags, for dedup bitmaps. */
const TAG_SLOT = new Uint8Array(0x10000).fill(15);
[DW_TAG.base_type, DW_TAG.typedef, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.class_type, DW_TAG.enumeration_type,
  DW_TAG.unspecified_type, DW_TAG.enumerator, DW_TAG.subprogram, DW_TAG.variable].forEach((t, i) => (TAG_SLOT[t] = i));

/** True for tags the index files under type names. */
export function isTypeTag(tag: number): boolean {
  return TYPE_TAG[tag] === 1;
}

const DEDUP_NONE = 0;
/** Kept once per (name, tag): declarations. */
const DEDUP_NAME = 1;
/** Kept once per (name, tag, declaring file and line): types, enumerators, abstract functions. */
const DEDUP_DECL = 2;

/** How an index entry of this tag and these flags is deduplicated. */
export function dedupKind(tag: number, flags: number): number {
  const isType = TYPE_TAG[tag] === 1;
  const defined = (flags & EntryFlag.defined) !== 0;
  if (flags & EntryFlag.declaration || (!isType && tag !== TAG_enumerator && !defined && !(flags & EntryFlag.abstract))) return DEDUP_NAME;
  if (isType || tag === TAG_enumerator || !defined) return DEDUP_DECL;
  return DEDUP_NONE;
}

const MODE_TOP = 0;
const MODE_NS = 1;
const MODE_ENUM = 2;
const MODE_CLASS = 3;

/** FNV-1a of the bytes of a NUL-terminated string at the reader's cursor; advances past it. */
function fnvCstring(r: Reader, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  const b = r.bytes;
  let p = r.pos;
  while (p < r.end && b[p] !== 0) h = Math.imul(h ^ b[p++]!, 0x01000193);
  if (p >= r.end) r.fail('unterminated string');
  else r.pos = p + 1;
  return h >>> 0;
}

function mix(a: number, b: number): number {
  return (Math.imul(a ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35)) >>> 0;
}

/**
 * File keys of a line table header (see Scanner.fileKeys), indexed by file
 * number (DWARF 5 from 0, earlier versions from 1). Undefined on a header it
 * cannot read.
 */
function readFileKeys(r: Reader): Uint32Array | undefined {
  const { offsetSize } = r.initialLength();
  const version = r.u16();
  if (r.error || version < 2 || version > 5) return undefined;
  if (version >= 5) r.skip(2);
  r.skip(offsetSize); // header_length
  r.skip(version >= 4 ? 4 : 3); // min_inst_length, [max_ops], default_is_stmt, line_base
  r.u8(); // line_range
  const opcodeBase = r.u8();
  r.skip(Math.max(0, opcodeBase - 1));
  if (version < 5) {
    while (!r.atEnd && r.bytes[r.pos] !== 0) fnvCstring(r, 0);
    r.skip(1);
    const keys = [0];
    while (!r.atEnd && r.bytes[r.pos] !== 0) {
      keys.push(fnvCstring(r, 0));
      r.skipLeb();
      r.skipLeb();
      r.skipLeb();
    }
    return r.error ? undefined : Uint32Array.from(keys);
  }
  // DWARF 5: entry formats, then entries; a string is keyed by its section offset when it has one.
  const readTable = (): number[] | undefined => {
    const nfmt = r.u8();
    const fmt: number[] = [];
    for (let i = 0; i < nfmt; i++) fmt.push(r.uleb(), r.uleb());
    const count = r.uleb();
    if (r.error || count > 1_000_000) return undefined;
    const out: number[] = [];
    for (let e = 0; e < count && !r.error; e++) {
      let path = 0;
      for (let i = 0; i < fmt.length; i += 2) {
        const type = fmt[i]!;
        const form = fmt[i + 1]!;
        let v = 0;
        switch (form) {
          case DW_FORM.string: v = fnvCstring(r, 0); break;
          case DW_FORM.line_strp: v = mix(1, r.offsetOf(offsetSize as 4 | 8)); break;
          case DW_FORM.strp: v = mix(2, r.offsetOf(offsetSize as 4 | 8)); break;
          case DW_FORM.udata: v = r.uleb(); break;
          case DW_FORM.data1: v = r.u8(); break;
          case DW_FORM.data2: v = r.u16(); break;
          case DW_FORM.data4: v = r.u32(); break;
          case DW_FORM.data8: r.skip(8); break;
          case DW_FORM.data16: r.skip(16); break;
          case DW_FORM.block: r.skip(r.uleb()); break;
          case DW_FORM.strx: case DW_FORM.GNU_str_index: v = mix(3, r.uleb()); break;
          case DW_FORM.strx1: v = mix(3, r.u8()); break;
          case DW_FORM.strx2: v = mix(3, r.u16()); break;
          case DW_FORM.strx3: v = mix(3, r.u24()); break;
          case DW_FORM.strx4: v = mix(3, r.u32()); break;
          default:
            r.fail(`unsupported form 0x${form.toString(16)} in line table header`);
        }
        if (type === 1) path = v;
      }
      out.push(path);
    }
    return r.error ? undefined : out;
  };
  if (!readTable()) return undefined;
  const files = readTable();
  return files ? Uint32Array.from(files) : undefined;
}

/** Mixes a declaring-file hash with a line into one dedup key. */
function declKeyOf(fileHash: number, line: number): number {
  return (Math.imul(fileHash ^ 0x9e3779b9, 31) + line) >>> 0 || 1;
}

/**
 * A map from string-section offsets to name ids: open addressing over two
 * Int32Arrays (a few MB for a kernel's 140,000 names, where a flat table
 * indexed by offset would take 4 bytes per byte of `.debug_str`, and a Map
 * would allocate per entry).
 */
class OffsetTable {
  private keys = new Int32Array(1 << 12).fill(-1);
  private vals = new Int32Array(1 << 12);
  private size = 0;

  /** The id stored for an offset, or -1. */
  get(offset: number): number {
    const mask = this.keys.length - 1;
    for (let i = Math.imul(offset, 0x9e3779b1) >>> 0 & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i]!;
      if (k === offset) return this.vals[i]!;
      if (k === -1) return -1;
    }
  }

  set(offset: number, id: number): void {
    if (offset > 0x7fffffff) return;
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    for (let i = Math.imul(offset, 0x9e3779b1) >>> 0 & mask; ; i = (i + 1) & mask) {
      if (this.keys[i] === -1 || this.keys[i] === offset) {
        if (this.keys[i] === -1) this.size++;
        this.keys[i] = offset;
        this.vals[i] = id;
        return;
      }
    }
  }

  private grow(): void {
    const oldK = this.keys;
    const oldV = this.vals;
    this.keys = new Int32Array(oldK.length * 2).fill(-1);
    this.vals = new Int32Array(oldK.length * 2);
    this.size = 0;
    for (let i = 0; i < oldK.length; i++) if (oldK[i] !== -1) this.set(oldK[i]!, oldV[i]!);
  }
}

/**
 * Deduplication state over dense name ids. Keys are numbers (never strings),
 * so the millions of repeated header DIEs of a kernel cost no allocation:
 * declarations seen are a bit per tag slot; the first (tag slot, declaration
 * key) of a name is kept in flat arrays, further keys in a map.
 */
export class Dedup {
  private declMask = new Uint16Array(1024);
  private firstSlot = new Uint8Array(1024);
  private firstKey = new Uint32Array(1024);
  private readonly more = new Map<number, Set<number>>();

  /** True when an entry with these properties was not seen yet (and records it). */
  keep(nameId: number, tag: number, flags: number, declKey: number): boolean {
    const kind = dedupKind(tag, flags);
    if (kind === DEDUP_NONE) return true;
    if (nameId >= this.declMask.length) this.grow(nameId);
    const slot = TAG_SLOT[tag]!;
    if (kind === DEDUP_NAME) {
      const bit = 1 << slot;
      if (this.declMask[nameId]! & bit) return false;
      this.declMask[nameId]! |= bit;
      return true;
    }
    if (this.firstSlot[nameId] === 0) {
      this.firstSlot[nameId] = slot + 1;
      this.firstKey[nameId] = declKey;
      return true;
    }
    if (this.firstSlot[nameId] === slot + 1 && this.firstKey[nameId] === declKey) return false;
    const k = nameId * 16 + slot;
    let more = this.more.get(k);
    if (!more) this.more.set(k, (more = new Set()));
    if (more.has(declKey)) return false;
    more.add(declKey);
    return true;
  }

  private grow(nameId: number): void {
    const n = Math.max(nameId + 1, this.declMask.length * 2);
    const m = new Uint16Array(n); m.set(this.declMask); this.declMask = m;
    const s = new Uint8Array(n); s.set(this.firstSlot); this.firstSlot = s;
    const k = new Uint32Array(n); k.set(this.firstKey); this.firstKey = k;
  }
}

/**
 * Scans units into an index. One instance lives in each worker thread (or in
 * the main thread for small files); it owns the worker-local name table and
 * the dedup state, and produces one {@link ScanOutput} at the end.
 */
export class Scanner {
  private names: string[] = [];
  private byStrp = new Map<number, number>();
  private byString = new Map<string, number>();
  private byShort = new Map<number, number>();
  private nameOf = new Uint32Array(1024);
  private die = new Float64Array(1024);
  private tag = new Uint16Array(1024);
  private flags = new Uint8Array(1024);
  private declKey = new Uint32Array(1024);
  private count = 0;
  private readonly dedup = new Dedup();
  private fnDie = new Float64Array(256);
  private fnKind = new Uint8Array(256);
  private fnA = new BigUint64Array(256);
  private fnB = new BigUint64Array(256);
  private fnCount = 0;
  private fnUnits: number[] = [];
  private roots: { unit: number; root: RootInfo }[] = [];
  private pending: PendingRef[] = [];
  private errors: ScanError[] = [];
  private compiled = new Map<string, CompiledTable | string>();

  constructor(
    private readonly file: string,
    private readonly littleEndian: boolean,
    private readonly strings: ScanStrings,
    private readonly line: SectionData | undefined,
  ) {}

  /** Names by .debug_str offset (the common case), in an open-addressing table of typed arrays. */
  private readonly strIds = new OffsetTable();

  private intern(s: string): number {
    let id = this.byString.get(s);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(s);
      this.byString.set(s, id);
    }
    return id;
  }

  /**
   * A name stored inline (DW_FORM_string). gcc inlines names shorter than a
   * string offset (`int`, `u8`, `i`), so the same few names recur in every
   * unit: those of up to 6 ASCII bytes are keyed by their packed bytes and
   * never decoded twice.
   */
  private internInline(b: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (n > 6) return this.intern(decodeUtf8(b, start, end));
    let key = n;
    for (let i = 0, mul = 8; i < n; i++, mul *= 256) {
      const c = b[start + i]!;
      if (c >= 0x80) return this.intern(decodeUtf8(b, start, end));
      key += c * mul;
    }
    let id = this.byShort.get(key);
    if (id === undefined) {
      id = this.intern(decodeUtf8(b, start, end));
      this.byShort.set(key, id);
    }
    return id;
  }

  /** A name at a string-section offset; `space` keeps .debug_str, .debug_line_str and the supplementary file apart. */
  private internAt(bytes: Uint8Array | undefined, offset: number, space: number): number {
    if (space === 0) {
      const cached = this.strIds.get(offset);
      if (cached >= 0) return cached;
    }
    const key = offset * 4 + space;
    let id = this.byStrp.get(key);
    if (id !== undefined) return id;
    if (!bytes || offset >= bytes.length) return -1;
    let end = bytes.indexOf(0, offset);
    if (end < 0) end = bytes.length;
    // A string section holds each string once (the linker merges them), so an offset names a
    // string uniquely; no need to hash it. The main thread's merge unifies the rare duplicate.
    id = this.names.length;
    this.names.push(decodeUtf8(bytes, offset, end));
    if (space === 0) this.strIds.set(offset, id);
    else this.byStrp.set(key, id);
    return id;
  }

  private push(nameId: number, id: DieId, tag: number, flags: number, declKey: number): void {
    if (this.count === this.nameOf.length) {
      const n = this.count * 2;
      const nameOf = new Uint32Array(n); nameOf.set(this.nameOf); this.nameOf = nameOf;
      const die = new Float64Array(n); die.set(this.die); this.die = die;
      const tag = new Uint16Array(n); tag.set(this.tag); this.tag = tag;
      const flags = new Uint8Array(n); flags.set(this.flags); this.flags = flags;
      const dk = new Uint32Array(n); dk.set(this.declKey); this.declKey = dk;
    }
    const i = this.count++;
    this.nameOf[i] = nameId;
    this.die[i] = id;
    this.tag[i] = tag;
    this.flags[i] = flags;
    this.declKey[i] = declKey;
  }

  /** Records the encoded code range of a function definition. */
  private pushFunction(id: DieId, kind: number, a: bigint, hv: bigint): void {
    if (this.fnCount === this.fnDie.length) {
      const n = this.fnCount * 2;
      const d = new Float64Array(n); d.set(this.fnDie); this.fnDie = d;
      const k = new Uint8Array(n); k.set(this.fnKind); this.fnKind = k;
      const x = new BigUint64Array(n); x.set(this.fnA); this.fnA = x;
      const y = new BigUint64Array(n); y.set(this.fnB); this.fnB = y;
    }
    const i = this.fnCount++;
    this.fnDie[i] = id;
    this.fnKind[i] = kind;
    this.fnA[i] = a;
    this.fnB[i] = hv;
  }

  /** Records an entry unless an equivalent one was kept already. */
  private add(nameId: number, id: DieId, tag: number, flags: number, declKey: number): void {
    if (nameId >= 0 && this.dedup.keep(nameId, tag, flags, declKey)) this.push(nameId, id, tag, flags, declKey);
  }

  private fail(unit: number, e: ScanError['code'] | { code: string; message: string; section?: string; offset?: number } | undefined, message: string, at: number, section: string): void {
    if (e && typeof e === 'object') this.errors.push({ unit, code: e.code, message: e.message, ...(e.section ? { section: e.section } : {}), ...(e.offset !== undefined ? { offset: e.offset } : {}) });
    else this.errors.push({ unit, code: e ?? 'ERR_DWARF_FORMAT', message, section, offset: at });
  }

  private stringOf(v: AttrValue, strOffsetsBase: number | undefined, h: UnitHeader): string | undefined {
    const s = this.strings;
    const at = (b: Uint8Array | undefined, off: number) => {
      if (!b || off >= b.length) return undefined;
      const z = b.indexOf(0, off);
      return decodeUtf8(b, off, z < 0 ? b.length : z);
    };
    switch (v.kind) {
      case 'string': return v.value;
      case 'strp': return at(v.section === 'str' ? s.str : v.section === 'line_str' ? s.lineStr : s.supStr, v.offset);
      case 'strx': {
        const off = this.strxOffset(v.index, strOffsetsBase, h);
        return off === undefined ? undefined : at(s.str, off);
      }
      default: return undefined;
    }
  }

  private strxOffset(index: number, strOffsetsBase: number | undefined, h: UnitHeader): number | undefined {
    const so = this.strings.strOffsets;
    if (!so) return undefined;
    const base = strOffsetsBase ?? (h.version >= 5 ? (h.offsetSize === 8 ? 16 : 8) : 0);
    const at = base + index * h.offsetSize;
    if (at + h.offsetSize > so.length) return undefined;
    const dv = new DataView(so.buffer, so.byteOffset + at, h.offsetSize);
    return h.offsetSize === 4 ? dv.getUint32(0, this.littleEndian) : Number(dv.getBigUint64(0, this.littleEndian));
  }

  /**
   * Keys of a unit's line-table files by file number, read on first use: a
   * hash of the file's name as the table writes it, without its directory.
   * Directories are spelled relative to each unit's compilation directory
   * (glibc's units each build in their own), so the same header has a
   * different full path in every unit; its name is the same, and with the
   * declaration line it tells struct definitions apart well. Names in string
   * sections are keyed by offset, so nothing is decoded.
   */
  private fileKeys(stmtList: number | undefined): (n: number) => number {
    let table: Uint32Array | undefined;
    return (n: number) => {
      if (!table) {
        table = new Uint32Array(0);
        if (this.line && stmtList !== undefined && stmtList < this.line.size) {
          const { value } = parseAt(this.line, stmtList, this.file, this.littleEndian, (r) => readFileKeys(r), 4096);
          if (value) table = value;
        }
      }
      return n < table.length ? table[n]! : n;
    };
  }

  /**
   * Scans one unit. `bytes` holds the whole unit with `bytes[0]` at section
   * offset `base`.
   */
  scanUnit(unitIndex: number, h: UnitHeader, bytes: Uint8Array, base: number, abbrevs: AbbrevTable, sectionName: string): void {
    const ub: UnitBytes = { header: h, bytes, base, abbrevs, littleEndian: this.littleEndian, file: this.file, sectionName, scratch: newScratch() };
    const dr = new DieReader(ub);
    const root = dr.root();
    if (!root) {
      this.fail(unitIndex, dr.error, 'unit without a root DIE', h.dieOffset, sectionName);
      return;
    }
    const info = readRootInfo(root, (v, sob) => this.stringOf(v, sob, h));
    this.roots.push({ unit: unitIndex, root: info });
    if (!root.hasChildren) return;

    const key = `${abbrevs.offset}:${h.addressSize}:${h.offsetSize}:${h.version}`;
    let ct = this.compiled.get(key);
    if (!ct) {
      // Units usually own their abbreviation table; keep only a few compiled tables for those that share.
      if (this.compiled.size >= 16) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, (ct = compile(abbrevs, h)));
    }
    if (typeof ct === 'string') {
      this.fail(unitIndex, 'ERR_DWARF_FORM', ct, h.abbrevOffset, '.debug_abbrev');
      return;
    }
    const first = this.fnCount;
    this.walk(unitIndex, h, ub, dr, ct, info, root.endPos);
    if (this.fnCount > first) this.fnUnits.push(unitIndex, first, this.fnCount);
  }

  private walk(unitIndex: number, h: UnitHeader, ub: UnitBytes, dr: DieReader, ct: CompiledTable, info: RootInfo, startPos: number): void {
    const b = ub.bytes;
    const le = this.littleEndian;
    const s = this.strings;
    const sec = h.section;
    const secBase = dieId(sec, 0);
    const unitOff = h.offset;
    const base = ub.base;
    const end = h.end - base;
    const { ops } = ct;
    const abTag = ct.tag;
    const abFlags = ct.flags;
    const abStart = ct.start;
    const abFixed = ct.fixed;
    const cxx = isCxxLanguage(info.language);
    const hashOf = this.fileKeys(info.stmtList);
    const strOffsetsBase = info.strOffsetsBase;
    const bad = (message: string, at: number) => this.fail(unitIndex, undefined, message, base + at, ub.sectionName);

    // Open parents we descend into: mode, qualified prefix, and an enum's decl key for its enumerators.
    const modes: number[] = [MODE_TOP];
    const prefixes: string[] = [''];
    const enumKeys: number[] = [0];
    // C++: qualified names of member declarations, for out-of-line definitions that refer to them.
    const memberNames = cxx ? new Map<number, number>() : undefined;
    const localRefs: { die: DieId; target: number; tag: number; flags: number }[] = [];

    let pos = startPos;
    let guard = 0;
    while (modes.length > 0) {
      if (pos >= end) {
        // A unit may end without its final null entries; running past the end is corruption.
        if (pos > end) bad('DIE runs past the end of its unit', end);
        break;
      }
      if (++guard > 100_000_000) {
        bad('too many DIEs in one unit', pos);
        break;
      }
      const dieStart = pos;
      let code = b[pos++]!;
      if (code & 0x80) {
        code = readUnsigned(b, dieStart, 0, le);
        pos = dieStart + unsignedLength(b, dieStart, 0);
      }
      if (code === 0) {
        modes.pop();
        prefixes.pop();
        enumKeys.pop();
        continue;
      }
      const abf = code < abFlags.length ? abFlags[code]! : 0;
      if (!(abf & AB_PRESENT)) {
        this.fail(unitIndex, 'ERR_DWARF_ABBREV', `unknown abbreviation code ${code}`, base + dieStart, ub.sectionName);
        return;
      }
      let nameId = -1;
      let sib = -1;
      let decl = (abf & AB_DECL) !== 0;
      let ext = (abf & AB_EXT) !== 0;
      const hasChildren = (abf & AB_CHILDREN) !== 0;
      const fixed = abFixed[code]!;
      let ref = -1;
      let refKind = 0;
      let fileNo = -1;
      let lineNo = 0;
      let slow = false;
      let fnKind = 0;
      let lowPos = -1;
      let lowVal = 0;
      let highPos = -1;
      let highVal = 0;
      let rangesVal = 0;
      if (fixed >= 0) {
        pos += fixed;
        if (!(abf & AB_INTERESTING)) {
          if (hasChildren) {
            // Fixed-size DIEs have no sibling attribute: skip the subtree below.
            const d = dr.at(base + dieStart);
            const next = d ? dr.skipSubtree(d) : undefined;
            if (next === undefined || next - base <= dieStart) {
              this.fail(unitIndex, dr.error, 'cannot skip the children of a DIE', base + dieStart, ub.sectionName);
              return;
            }
            pos = next - base;
          }
          continue;
        }
      } else for (let p = abStart[code]!; ; p += 2) {
        const op = ops[p]!;
        if (op === OP_END) break;
        const arg = ops[p + 1]!;
        switch (op) {
          case OP_SKIP: pos += arg; break;
          case OP_LEB: while (b[pos++]! & 0x80 && pos < end); break;
          case OP_NAME_STRP4:
            nameId = this.internAt(s.str, le ? (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0 : readUnsigned(b, pos, 4, le), 0);
            pos += 4;
            break;
          case OP_SIB4:
            sib = unitOff - base + (le ? (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0 : readUnsigned(b, pos, 4, le));
            pos += 4;
            break;
          case OP_FILE1: fileNo = b[pos++]!; break;
          case OP_LINE1: lineNo = b[pos++]!; break;
          case OP_LINE2: lineNo = le ? b[pos]! | (b[pos + 1]! << 8) : (b[pos]! << 8) | b[pos + 1]!; pos += 2; break;
          case OP_CSTR: {
            const z = b.indexOf(0, pos);
            pos = z < 0 || z >= end ? end + 1 : z + 1;
            break;
          }
          case OP_BLOCK1: pos += 1 + b[pos]!; break;
          case OP_BLOCK2: pos += 2 + readUnsigned(b, pos, 2, le); break;
          case OP_BLOCK4: pos += 4 + readUnsigned(b, pos, 4, le); break;
          case OP_BLOCKLEB: { const n = readUnsigned(b, pos, 0, le); pos += unsignedLength(b, pos, 0) + n; break; }
          case OP_NAME_STRP: nameId = this.internAt(s.str, readUnsigned(b, pos, arg, le), 0); pos += arg; break;
          case OP_NAME_LINESTRP: nameId = this.internAt(s.lineStr, readUnsigned(b, pos, arg, le), 1); pos += arg; break;
          case OP_NAME_SUPSTRP: nameId = this.internAt(s.supStr, readUnsigned(b, pos, arg, le), 2); pos += arg; break;
          case OP_NAME_STRX: {
            const off = this.strxOffset(readUnsigned(b, pos, arg, le), strOffsetsBase, h);
            pos += unsignedLength(b, pos, arg);
            if (off !== undefined) nameId = this.internAt(s.str, off, 0);
            break;
          }
          case OP_NAME_STRING: {
            const z = b.indexOf(0, pos);
            if (z < 0 || z >= end) pos = end + 1;
            else {
              nameId = this.internInline(b, pos, z);
              pos = z + 1;
            }
            break;
          }
          case OP_SIB: sib = unitOff - base + readUnsigned(b, pos, arg, le); pos += unsignedLength(b, pos, arg); break;
          case OP_SIB_ADDR: sib = readUnsigned(b, pos, arg, le) - base; pos += arg; break;
          case OP_DECL_FLAG: decl = b[pos++] !== 0; break;
          case OP_EXT_FLAG: ext = b[pos++] !== 0; break;
          case OP_REF: ref = unitOff + readUnsigned(b, pos, arg, le); refKind = 0; pos += unsignedLength(b, pos, arg); break;
          case OP_REF_ADDR: ref = readUnsigned(b, pos, arg, le); refKind = 1; pos += arg; break;
          case OP_REF_ALT: ref = readUnsigned(b, pos, arg, le); refKind = 2; pos += arg; break;
          case OP_FILE: fileNo = readUnsigned(b, pos, arg, le); pos += unsignedLength(b, pos, arg); break;
          case OP_LINE: lineNo = readUnsigned(b, pos, arg, le); pos += unsignedLength(b, pos, arg); break;
          case OP_LOW_ADDR: fnKind |= FnKind.lowAddr; lowPos = pos; pos += arg; break;
          case OP_LOW_X: fnKind |= FnKind.lowX; lowVal = readUnsigned(b, pos, arg, le); pos += unsignedLength(b, pos, arg); break;
          case OP_HIGH_CONST: fnKind |= FnKind.highLen; highVal = readUnsigned(b, pos, arg, le); pos += unsignedLength(b, pos, arg); break;
          case OP_HIGH_ADDR: fnKind |= FnKind.highAddr; highPos = pos; pos += arg; break;
          case OP_HIGH_X: fnKind |= FnKind.highX; highVal = readUnsigned(b, pos, arg, le); pos += unsignedLength(b, pos, arg); break;
          case OP_RANGES_OFF: fnKind |= FnKind.rangesOff; rangesVal = readUnsigned(b, pos, arg, le); pos += arg; break;
          case OP_RANGES_X: fnKind |= FnKind.rangesX; rangesVal = readUnsigned(b, pos, 0, le); pos += unsignedLength(b, pos, 0); break;
          case OP_FILE_IMPLICIT: fileNo = arg; break;
          case OP_LINE_IMPLICIT: lineNo = arg; break;
          case OP_SLOW: slow = true; break;
        }
        if (slow) break;
      }
      if (slow) {
        // DW_FORM_indirect somewhere in this DIE: measure and read it with the generic decoder.
        const d = dr.at(base + dieStart);
        if (!d) {
          this.fail(unitIndex, dr.error, 'malformed DIE', base + dieStart, ub.sectionName);
          return;
        }
        pos = d.endPos;
        const nv = d.attr(DW_AT.name);
        const str = nv ? this.stringOf(nv, strOffsetsBase, h) : undefined;
        if (str !== undefined) nameId = this.intern(str);
        const sv = d.siblingOffset();
        if (sv !== undefined) sib = sv - base;
      }
      if (pos > end) {
        bad('DIE runs past the end of its unit', dieStart);
        return;
      }
      if (!(abf & AB_INTERESTING)) {
        if (hasChildren) {
          if (sib > dieStart && sib <= end) pos = sib;
          else {
            const d = dr.at(base + dieStart);
            const next = d ? dr.skipSubtree(d) : undefined;
            if (next === undefined || next - base <= dieStart) {
              this.fail(unitIndex, dr.error, 'cannot skip the children of a DIE', base + dieStart, ub.sectionName);
              return;
            }
            pos = next - base;
          }
        }
        continue;
      }

      const mode = modes[modes.length - 1]!;
      const tag = abTag[code]!;
      const prefix = prefixes[prefixes.length - 1]!;
      let childMode = -1;
      let childPrefix = prefix;
      let childEnumKey = 0;
      const id = (secBase + base + dieStart) as DieId;
      if (fnKind && tag === TAG_subprogram && !decl && (fnKind & (FnKind.lowAddr | FnKind.lowX | FnKind.rangesOff | FnKind.rangesX))) {
        const addrAt = (p: number) => (p < 0 ? 0n : h.addressSize === 8 ? new DataView(b.buffer, b.byteOffset + p, 8).getBigUint64(0, le) : BigInt(readUnsigned(b, p, h.addressSize, le)));
        const a = fnKind & FnKind.lowAddr ? addrAt(lowPos) : fnKind & (FnKind.rangesOff | FnKind.rangesX) ? BigInt(rangesVal) : BigInt(lowVal);
        const hv = fnKind & FnKind.highAddr ? addrAt(highPos) : BigInt(highVal);
        this.pushFunction(id, fnKind, a, hv);
      }

      if (mode === MODE_ENUM) {
        if (tag === TAG_enumerator && nameId >= 0) {
          this.add(prefix ? this.intern(`${prefix}::${this.names[nameId]!}`) : nameId, id, tag, EntryFlag.defined, enumKeys[enumKeys.length - 1]!);
        }
      } else {
        const isType = TYPE_TAG[tag] === 1;
        const isFunc = tag === TAG_subprogram;
        const isVar = tag === TAG_variable;
        const isNs = tag === TAG_namespace;
        let qid = -1;
        if (nameId >= 0 && (isType || isFunc || isVar || isNs || (mode === MODE_CLASS && tag === TAG_member))) {
          qid = prefix ? this.intern(`${prefix}::${this.names[nameId]!}`) : nameId;
        }
        const dk = fileNo >= 0 || lineNo ? declKeyOf(fileNo >= 0 ? hashOf(fileNo) : 0, lineNo) : 0;
        if (mode === MODE_CLASS) {
          // Members of C++ classes are declarations; out-of-line definitions name them by reference.
          if (qid >= 0 && (isFunc || isVar || tag === TAG_member)) memberNames!.set(base + dieStart, qid);
          if (qid >= 0 && isType) this.add(qid, id, tag, decl ? EntryFlag.declaration : EntryFlag.defined, dk);
        } else if (isType || isFunc || isVar) {
          let flags = (decl ? EntryFlag.declaration : 0) | (ext ? EntryFlag.external : 0) | (abf & AB_INLINE ? EntryFlag.abstract : 0);
          if (!decl && (isType || abf & AB_DEFINED)) flags |= EntryFlag.defined;
          if (qid >= 0) {
            if (memberNames && decl) memberNames.set(base + dieStart, qid);
            this.add(qid, id, tag, flags, dk);
          } else if (ref >= 0 && (isFunc || isVar)) {
            if (refKind === 0) localRefs.push({ die: id, target: ref, tag, flags: flags | EntryFlag.namedByReference });
            else this.pending.push({ die: id, target: dieId(refKind === 2 ? 2 : sec, ref), tag, flags: flags | EntryFlag.namedByReference });
          }
        }
        if (hasChildren) {
          if (isNs) {
            childMode = MODE_NS;
            childPrefix = qid >= 0 ? this.names[qid]! : prefix ? `${prefix}::(anonymous namespace)` : '(anonymous namespace)';
          } else if (tag === TAG_enumeration_type) {
            // Enumerators are named in the enclosing scope (C, and C++ unscoped enums).
            childMode = MODE_ENUM;
            childEnumKey = dk;
          } else if (cxx && qid >= 0 && (tag === TAG_structure_type || tag === TAG_class_type || tag === TAG_union_type)) {
            childMode = MODE_CLASS;
            childPrefix = this.names[qid]!;
          }
        }
      }

      if (hasChildren) {
        if (childMode >= 0) {
          modes.push(childMode);
          prefixes.push(childPrefix);
          enumKeys.push(childEnumKey);
        } else if (sib > dieStart && sib <= end) {
          pos = sib;
        } else {
          // No usable DW_AT_sibling: skip the subtree DIE by DIE.
          const d = dr.at(base + dieStart);
          const next = d ? dr.skipSubtree(d) : undefined;
          if (next === undefined || next - base <= dieStart) {
            this.fail(unitIndex, dr.error, 'cannot skip the children of a DIE', base + dieStart, ub.sectionName);
            return;
          }
          pos = next - base;
        }
      }
    }

    // Names of same-unit references: the target was either seen (C++ members) or is read directly.
    for (const lr of localRefs) {
      let nid = memberNames?.get(lr.target);
      let flags = lr.flags;
      const t = dr.at(lr.target);
      if (!t) continue;
      if (nid === undefined) {
        const nv = t.attr(DW_AT.name);
        const str = nv ? this.stringOf(nv, strOffsetsBase, h) : undefined;
        if (str !== undefined) nid = this.intern(str);
      }
      const ev = t.attr(DW_AT.external);
      if (ev?.kind === 'flag' && ev.value) flags |= EntryFlag.external;
      if (nid !== undefined) {
        this.add(nid, lr.die, lr.tag, flags, 0);
        continue;
      }
      // A chain (the concrete instance of an out-of-line definition of a declaration): the caller follows it.
      const next = t.attr(DW_AT.specification) ?? t.attr(DW_AT.abstract_origin);
      if (next?.kind === 'ref') this.pending.push({ die: lr.die, target: next.id, tag: lr.tag, flags });
    }
  }

  /** Records a unit that could not be scanned at all. */
  recordError(unit: number, e: { code: string; message: string; section?: string; offset?: number }): void {
    this.fail(unit, e, e.message, e.offset ?? 0, e.section ?? '');
  }

  /** Everything scanned so far. */
  output(): ScanOutput {
    const n = this.count;
    return {
      names: this.names,
      nameOf: this.nameOf.slice(0, n),
      die: this.die.slice(0, n),
      tag: this.tag.slice(0, n),
      flags: this.flags.slice(0, n),
      declKey: this.declKey.slice(0, n),
      count: n,
      roots: this.roots,
      pending: this.pending,
      errors: this.errors,
      functions: {
        die: this.fnDie.slice(0, this.fnCount), kind: this.fnKind.slice(0, this.fnCount),
        a: this.fnA.slice(0, this.fnCount), b: this.fnB.slice(0, this.fnCount), units: Int32Array.from(this.fnUnits),
      },
    };
  }
}
