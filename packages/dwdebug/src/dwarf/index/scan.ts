/**
 * The name-index DIE scanner.
 *
 * After drgn's DWARF index: instead of decoding every attribute of every DIE,
 * each unit's abbreviation table is compiled once into tiny programs (see
 * program.ts) and the scanner runs those programs over the unit's bytes.
 * Only DIEs that can carry a global name are looked at: the unit's top
 * level, C++ namespaces and classes, and enumerators. Every other subtree
 * (function bodies, struct members) is jumped over through DW_AT_sibling,
 * or skipped DIE by DIE with the same programs when the producer (clang)
 * emits no siblings.
 *
 * Nothing is allocated per DIE: names are interned by string-section offset
 * into typed tables (see strings.ts), entries go to growable typed arrays,
 * deduplication uses numeric keys (see entries.ts).
 *
 * Reads past the end of the unit cannot throw (typed arrays yield undefined,
 * which the bit operations treat as 0); the position is checked against the
 * unit end after every DIE, so corrupt input ends the unit's scan with an
 * error and never loops.
 */
import { AbbrevTable, parseAbbrevTable } from '../abbrev.js';
import { DW_AT, DW_TAG, isCxxLanguage } from '../constants.js';
import { DieReader, newScratch, readAttrValue, type AttrValue, type UnitBytes } from '../die.js';
import { decodeUtf8, Reader } from '../reader.js';
import { readRootInfo, type RootInfo } from '../root.js';
import type { SectionData } from '../source.js';
import { dieId, DieSection, type DieId, type UnitHeader } from '../unit.js';
import { parseAt } from '../window.js';
import { Dedup, DEDUP_DECL, DEDUP_NONE, dedupKind, EntryFlag, TYPE_TAG, declKeyOf } from './entries.js';
import { readFileKeys } from './file-keys.js';
import {
  AB_CHILDREN, AB_DECL, AB_DEFINED, AB_EXT, AB_INLINE, AB_INTERESTING, AB_LAZY, AB_PRESENT, FnKind, ProgramCompiler, type CompiledTable,
  OP_BLOCK1, OP_BLOCK2, OP_BLOCK4, OP_BLOCKLEB, OP_CSTR, OP_DECL_FLAG, OP_END, OP_EXT_FLAG, OP_FILE, OP_FILE1, OP_FILE_IMPLICIT,
  OP_HIGH_ADDR, OP_HIGH_CONST, OP_HIGH_X, OP_LEB, OP_LINE, OP_LINE1, OP_LINE2, OP_LINE_IMPLICIT, OP_LOW_ADDR, OP_LOW_X,
  OP_NAME_LINESTRP, OP_NAME_STRING, OP_NAME_STRP, OP_NAME_STRP4, OP_NAME_STRX, OP_NAME_SUPSTRP, OP_RANGES_OFF, OP_RANGES_X,
  OP_REF, OP_REF_ADDR, OP_REF_ALT, OP_SIB, OP_SIB4, OP_SIB_ADDR, OP_SKIP,
} from './program.js';
import { NameMatcher, type Leaf } from './match.js';
import { cstringEnd, fnvCstring, LINE_STR_KEY, OffsetTable, SUP_STR_KEY, textHash } from './strings.js';
import { grown } from './typed-arrays.js';

export { EntryFlag, isTypeTag, dedupKind, Dedup } from './entries.js';
export { FnKind } from './program.js';

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

/**
 * The output of scanning some units: entries over local name ids, each name
 * given by its key (see strings.ts), ready to send between threads.
 */
export interface ScanOutput {
  /** Key of each local name id. */
  readonly keys: Float64Array;
  /** Hash of each local name's bytes (see strings.ts). */
  readonly hashes: Uint32Array;
  /** Names carried as text, for keys -1, -2, … */
  readonly texts: string[];
  readonly nameOf: Uint32Array;
  readonly die: Float64Array;
  readonly tag: Uint16Array;
  readonly flags: Uint8Array;
  /** Hash of the declaring file and line, for entries deduplicated by declaration; 0 otherwise. */
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
 * offset/index, `b` high_pc, each as two 32-bit halves (low, high) so that
 * no bigint is made while scanning. A unit's functions are contiguous;
 * `units` holds (unit index, first, end) triples.
 */
export interface FunctionRanges {
  readonly die: Float64Array;
  readonly kind: Uint8Array;
  readonly a: Uint32Array;
  readonly b: Uint32Array;
  readonly units: Int32Array;
}

/** Value `i` of a {@link FunctionRanges} half-pair array. */
export function rangeValue(halves: Uint32Array, i: number): bigint {
  return (BigInt(halves[2 * i + 1]!) << 32n) | BigInt(halves[2 * i]!);
}

// Tags as local constants: the scan loop is hot.
const TAG_enumerator = DW_TAG.enumerator;
const TAG_subprogram = DW_TAG.subprogram;
const TAG_variable = DW_TAG.variable;
const TAG_namespace = DW_TAG.namespace;
const TAG_member = DW_TAG.member;
const TAG_enumeration_type = DW_TAG.enumeration_type;
const TAG_structure_type = DW_TAG.structure_type;
const TAG_class_type = DW_TAG.class_type;
const TAG_union_type = DW_TAG.union_type;

// Where the last readDie() found the DIE's name.
const NAME_STR = 1;
const NAME_LINE_STR = 2;
const NAME_SUP_STR = 3;
const NAME_INLINE = 4;
const NAME_TEXT = 5;

const MODE_TOP = 0;
const MODE_NS = 1;
const MODE_ENUM = 2;
const MODE_CLASS = 3;

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

/** A table with no abbreviations, for unit views whose generic reader is made only when needed. */
const EMPTY_TABLE = new AbbrevTable(0, []);

/** What the scanner needs of a root DIE when it keeps no roots: the language and the string offsets base. */
function rootBases(attrs: readonly { at: number; value: AttrValue }[]): RootInfo {
  let language: number | undefined;
  let strOffsetsBase: number | undefined;
  let stmtList: number | undefined;
  for (const a of attrs) {
    const v = a.value;
    if (a.at === DW_AT.language && v.kind === 'const') language = Number(v.value);
    else if (a.at === DW_AT.str_offsets_base && v.kind === 'sec_offset') strOffsetsBase = v.offset;
    else if (a.at === DW_AT.stmt_list && (v.kind === 'sec_offset' || (v.kind === 'const' && typeof v.value === 'number'))) stmtList = v.kind === 'sec_offset' ? v.offset : Number(v.value);
  }
  return { tag: 0, ...(language !== undefined ? { language } : {}), ...(strOffsetsBase !== undefined ? { strOffsetsBase } : {}), ...(stmtList !== undefined ? { stmtList } : {}) };
}

/** Abbreviation tables of a unit: the compiled one always, the generic one when a slow path needs it. */
interface UnitTables {
  readonly key: string;
  /** Section offset of the bytes the table was compiled from. */
  readonly abbrevBase: number;
  readonly ct: CompiledTable;
  full: AbbrevTable | undefined;
}

/**
 * Scans units into an index. One instance lives in each worker thread (or in
 * the main thread for small files); it owns the worker-local name table and
 * the dedup state, and produces one {@link ScanOutput} at the end.
 */
export class Scanner {
  // Local names: keys by id, text for names not in a string section.
  private keys = new Float64Array(1024);
  private hashes = new Uint32Array(1024);
  private nameCount = 0;
  private readonly texts: string[] = [];
  private readonly decoded: (string | undefined)[] = [];
  private readonly strIds: OffsetTable;
  private readonly byKey = new Map<number, number>();
  private readonly byText = new Map<string, number>();
  private readonly byShort = new Map<number, number>();
  // Entries.
  private nameOf = new Uint32Array(1024);
  private die = new Float64Array(1024);
  private tag = new Uint16Array(1024);
  private flags = new Uint8Array(1024);
  private declKey = new Uint32Array(1024);
  private count = 0;
  private readonly dedup = new Dedup();
  // Function code ranges.
  private fnDie = new Float64Array(256);
  private fnKind = new Uint8Array(256);
  private fnA = new Uint32Array(512);
  private fnB = new Uint32Array(512);
  private fnCount = 0;
  private readonly fnUnits: number[] = [];
  private readonly roots: { unit: number; root: RootInfo }[] = [];
  private readonly pending: PendingRef[] = [];
  private readonly errors: ScanError[] = [];
  private readonly compiler = new ProgramCompiler();
  private last: UnitTables | undefined;
  /** Set in match mode (see match.ts): only DIEs with this name are kept. */
  private readonly matcher: NameMatcher | undefined;
  /** Function code ranges are recorded (index mode, and the function-table mode). */
  private readonly collectFunctions: boolean;

  // What the last readDie() found (fields, not a result object: nothing is allocated per DIE).
  /** The name's form: 0 none, then NAME_* below. */
  private dNameKind = 0;
  /** A string-section offset, or the start of an inline name in the unit's bytes. */
  private dNameVal = 0;
  /** End of an inline name. */
  private dNameEnd = 0;
  /** A name the generic decoder read. */
  private dNameText = '';
  private dSib = -1;
  private dDecl = false;
  private dExt = false;
  private dRef = -1;
  private dRefKind = 0;
  private dFile = -1;
  private dLine = 0;
  private dFnKind = 0;
  private dLowPos = -1;
  private dLowVal = 0;
  private dHighPos = -1;
  private dHighVal = 0;
  private dRanges = 0;

  // The unit being scanned.
  private b: Uint8Array = new Uint8Array(0);
  private h!: UnitHeader;
  private base = 0;
  private end = 0;
  private ct!: CompiledTable;
  private strOffsetsBase: number | undefined;

  constructor(
    private readonly file: string,
    private readonly littleEndian: boolean,
    private readonly strings: ScanStrings,
    private readonly line: SectionData | undefined,
    private readonly abbrev: SectionData | undefined,
    opts: { matcher?: NameMatcher; functionsOnly?: boolean } = {},
  ) {
    // The function-table mode is match mode for no name at all, with code ranges kept.
    this.matcher = opts.functionsOnly ? new NameMatcher('', { types: false, globals: false }, {}) : opts.matcher;
    this.collectFunctions = !this.matcher || !!opts.functionsOnly;
    // Sized for the names the string section can hold (a kernel's 3.6 MB has 140,000), so it rarely grows;
    // the other modes intern almost nothing.
    this.strIds = new OffsetTable(this.matcher ? 16 : (strings.str?.length ?? 0) / 24);

  }

  /** The local id of a name at a `.debug_str` offset. */
  private internStr(offset: number): number {
    const id = this.strIds.get(offset);
    return id >= 0 ? id : this.internAt(offset, 0);
  }

  /** The local id of a name at a string-section offset; `space` 0 is .debug_str, 1 .debug_line_str, 2 the supplementary file's. */
  private internAt(offset: number, space: number): number {
    if (space === 0) {
      const id = this.strIds.get(offset);
      if (id >= 0) return id;
      const s = this.strings.str;
      if (!s || offset >= s.length) return -1;
      const nid = this.newName(offset, fnvCstring(s, offset));
      this.strIds.set(offset, nid);
      return nid;
    }
    const key = (space === 1 ? LINE_STR_KEY : SUP_STR_KEY) + offset;
    let id = this.byKey.get(key);
    if (id !== undefined) return id;
    const s = space === 1 ? this.strings.lineStr : this.strings.supStr;
    if (!s || offset >= s.length) return -1;
    id = this.newName(key, fnvCstring(s, offset));
    this.byKey.set(key, id);
    return id;
  }

  /** The local id of a name given as text. */
  private intern(text: string): number {
    let id = this.byText.get(text);
    if (id === undefined) {
      this.texts.push(text);
      id = this.newName(-this.texts.length, textHash(text));
      this.decoded[id] = text;
      this.byText.set(text, id);
    }
    return id;
  }

  private newName(key: number, hash: number): number {
    if (this.nameCount === this.keys.length) {
      this.keys = grown(this.keys, this.nameCount * 2);
      this.hashes = grown(this.hashes, this.nameCount * 2);
    }
    this.keys[this.nameCount] = key;
    this.hashes[this.nameCount] = hash;
    return this.nameCount++;
  }

  /** The text of a local name (for qualified C++ names). */
  private textOf(id: number): string {
    let t = this.decoded[id];
    if (t === undefined) {
      const key = this.keys[id]!;
      const [s, off] = key >= SUP_STR_KEY ? [this.strings.supStr!, key - SUP_STR_KEY] : key >= LINE_STR_KEY ? [this.strings.lineStr!, key - LINE_STR_KEY] : [this.strings.str!, key];
      const z = s.indexOf(0, off);
      t = decodeUtf8(s, off, z < 0 ? s.length : z);
      this.decoded[id] = t;
    }
    return t;
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

  private push(nameId: number, id: DieId, tag: number, flags: number, declKey: number): void {
    if (this.count === this.nameOf.length) {
      const n = this.count * 2;
      this.nameOf = grown(this.nameOf, n);
      this.die = grown(this.die, n);
      this.tag = grown(this.tag, n);
      this.flags = grown(this.flags, n);
      this.declKey = grown(this.declKey, n);
    }
    const i = this.count++;
    this.nameOf[i] = nameId;
    this.die[i] = id;
    this.tag[i] = tag;
    this.flags[i] = flags;
    this.declKey[i] = declKey;
  }

  /**
   * Records the encoded code range of the function definition the last
   * readDie() read: addresses are copied as two 32-bit halves, numbers split.
   */
  private pushFunction(id: DieId, kind: number): void {
    if (this.fnCount === this.fnDie.length) {
      const n = this.fnCount * 2;
      this.fnDie = grown(this.fnDie, n);
      this.fnKind = grown(this.fnKind, n);
      this.fnA = grown(this.fnA, 2 * n);
      this.fnB = grown(this.fnB, 2 * n);
    }
    const i = this.fnCount++;
    this.fnDie[i] = id;
    this.fnKind[i] = kind;
    if (kind & FnKind.lowAddr) this.addressHalves(this.fnA, i, this.dLowPos);
    else this.numberHalves(this.fnA, i, kind & (FnKind.rangesOff | FnKind.rangesX) ? this.dRanges : this.dLowVal);
    if (kind & FnKind.highAddr) this.addressHalves(this.fnB, i, this.dHighPos);
    else this.numberHalves(this.fnB, i, this.dHighVal);
  }

  private numberHalves(out: Uint32Array, i: number, v: number): void {
    out[2 * i] = v >>> 0;
    out[2 * i + 1] = Math.floor(v / 4294967296);
  }

  /** The address at unit position `p` (of the unit's address size) into `out[2i]`, `out[2i+1]`. */
  private addressHalves(out: Uint32Array, i: number, p: number): void {
    const n = this.h.addressSize;
    const b = this.b;
    const le = this.littleEndian;
    if (n === 8) {
      out[2 * i] = readUnsigned(b, le ? p : p + 4, 4, le);
      out[2 * i + 1] = readUnsigned(b, le ? p + 4 : p, 4, le);
    } else {
      out[2 * i] = n <= 4 ? readUnsigned(b, p, n, le) : 0;
      out[2 * i + 1] = 0;
    }
  }

  /**
   * Records an entry unless an equivalent one was kept already; of two
   * equivalent ones the first in the file is kept (units are not scanned in
   * file order).
   */
  private add(nameId: number, id: DieId, tag: number, flags: number, declKey: number, kind = dedupKind(tag, flags)): void {
    if (nameId < 0) return;
    const prev = this.dedup.seen(nameId, tag, flags, declKey, this.count, kind);
    if (prev < 0) this.push(nameId, id, tag, flags, declKey);
    else if (id < this.die[prev]!) {
      this.die[prev] = id;
      this.flags[prev] = flags;
    }
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

  /** Sets the d* name fields from a DIE's generic DW_AT_name value. */
  private rawName(v: AttrValue | undefined): void {
    this.dNameKind = 0;
    if (!v) return;
    if (v.kind === 'strp') {
      this.dNameKind = v.section === 'str' ? NAME_STR : v.section === 'line_str' ? NAME_LINE_STR : NAME_SUP_STR;
      this.dNameVal = v.offset;
    } else if (v.kind === 'strx') {
      const off = this.strxOffset(v.index, this.strOffsetsBase, this.h);
      if (off === undefined) return;
      this.dNameKind = NAME_STR;
      this.dNameVal = off;
    } else if (v.kind === 'string') {
      this.dNameKind = NAME_TEXT;
      this.dNameText = v.value;
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

  /** Keys of a unit's line-table files by file number (see file-keys.ts), read on first use. */
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
   * Compiles a unit's abbreviation table (unless the previous unit used the
   * same one), read from a window of `.debug_abbrev` that grows while the
   * table runs past it.
   */
  private tablesFor(h: UnitHeader, rootCode: number): UnitTables | { code: string; message: string; at: number } {
    const key = `${h.abbrevOffset}:${h.addressSize}:${h.offsetSize}:${h.version}:${rootCode}`;
    if (this.last?.key === key) return this.last;
    this.last = undefined;
    const sec = this.abbrev;
    if (!sec || h.abbrevOffset >= sec.size) return { code: 'ERR_DWARF_FORMAT', message: `offset 0x${h.abbrevOffset.toString(16)} outside the section`, at: h.abbrevOffset };
    let size = sec.inMemory ? sec.size - h.abbrevOffset : 16384;
    for (;;) {
      const bytes = sec.read(h.abbrevOffset, size);
      const r = this.compiler.compile(bytes, 0, bytes.length, h, rootCode);
      if (!r) return (this.last = { key, abbrevBase: h.abbrevOffset, ct: this.compiler.table, full: undefined });
      if (r.truncated && h.abbrevOffset + bytes.length < sec.size) {
        size *= 8;
        continue;
      }
      return { code: r.code, message: r.message, at: h.abbrevOffset + r.at };
    }
  }

  /** The unit's generic abbreviation table, for the rare DIEs the programs cannot read (DW_FORM_indirect). */
  private fullTable(t: UnitTables, h: UnitHeader): AbbrevTable | undefined {
    if (!t.full && this.abbrev) {
      const { value, reader } = parseAt(this.abbrev, h.abbrevOffset, this.file, this.littleEndian, (r) => parseAbbrevTable(r, h.abbrevOffset), 16384);
      if (!reader.error) t.full = value;
    }
    return t.full;
  }

  /**
   * Scans one unit. `bytes` holds the whole unit with `bytes[0]` at section
   * offset `base`. Match mode may be told to stop once past `stopAfter`
   * (relative to `bytes`): no DIE it wants lies beyond.
   */
  scanUnit(unitIndex: number, h: UnitHeader, bytes: Uint8Array, base: number, sectionName: string, stopAfter?: number): void {
    const rootPos = h.dieOffset - base;
    const rootCode = readUnsigned(bytes, rootPos, 0, this.littleEndian);
    const tables = this.tablesFor(h, rootCode);
    if (!('ct' in tables)) {
      this.fail(unitIndex, tables.code, tables.message, tables.at, this.abbrev?.name ?? '.debug_abbrev');
      return;
    }
    const ct = tables.ct;
    if (rootCode === 0) {
      this.fail(unitIndex, undefined, 'unit without a root DIE', h.dieOffset, sectionName);
      return;
    }
    if (!ct.root) {
      this.fail(unitIndex, 'ERR_DWARF_ABBREV', `unknown abbreviation code ${rootCode}`, h.dieOffset, sectionName);
      return;
    }
    // The root's attributes, with the generic decoder (one DIE per unit).
    const rootAbbrev = ct.root;
    const r = new Reader(bytes, { file: this.file, section: sectionName }, this.littleEndian, base, rootPos + unsignedLength(bytes, rootPos, 0), h.end - base);
    const attrs: { at: number; value: AttrValue }[] = [];
    for (let k = 0; k < rootAbbrev.spec.length && !r.error; k += 2) {
      const value = readAttrValue(r, rootAbbrev.spec[k + 1]!, h, rootAbbrev.implicit.get(k >> 1));
      if (!r.error) attrs.push({ at: rootAbbrev.spec[k]!, value });
    }
    if (r.error) {
      this.fail(unitIndex, r.error, 'unit without a root DIE', h.dieOffset, sectionName);
      return;
    }
    const rootEnd = r.pos;
    const root = { tag: rootAbbrev.tag, attrs: () => attrs };
    // Only the index keeps the roots; the other modes need the language and the bases.
    const info: RootInfo = this.matcher ? rootBases(attrs) : readRootInfo(root, (v, sob) => this.stringOf(v, sob, h));
    if (!this.matcher) this.roots.push({ unit: unitIndex, root: info });
    if (!rootAbbrev.children) return;
    const ub: UnitBytes = { header: h, bytes, base, abbrevs: EMPTY_TABLE, littleEndian: this.littleEndian, file: this.file, sectionName, scratch: newScratch() };
    this.b = bytes;
    this.h = h;
    this.base = base;
    this.end = h.end - base;
    this.ct = ct;
    this.strOffsetsBase = info.strOffsetsBase;
    const first = this.fnCount;
    // A generic reader over the unit with its full table, made only when a slow path needs one.
    let generic: DieReader | undefined;
    const genericReader = (): DieReader | undefined => {
      if (generic) return generic;
      const full = this.fullTable(tables, h);
      return full ? (generic = new DieReader({ ...ub, abbrevs: full, scratch: newScratch() })) : undefined;
    };
    this.walk(unitIndex, info, rootEnd, sectionName, genericReader, stopAfter ?? Infinity);
    if (this.fnCount > first) this.fnUnits.push(unitIndex, first, this.fnCount);
    this.b = new Uint8Array(0);
  }

  /**
   * Runs the program of the DIE whose attributes start at `pos`, leaving what
   * it captured in the d* fields (the name as where it is, not interned).
   * Returns the position after the attributes, or -1 when the DIE needs the
   * generic decoder (DW_FORM_indirect).
   */
  private readDie(pos: number, code: number): number {
    const b = this.b;
    const ct = this.ct;
    const ops = ct.ops;
    const abf = ct.flags[code]!;
    this.dNameKind = 0;
    this.dSib = -1;
    this.dDecl = (abf & AB_DECL) !== 0;
    this.dExt = (abf & AB_EXT) !== 0;
    this.dRef = -1;
    this.dFile = -1;
    this.dLine = 0;
    this.dFnKind = 0;
    if (!this.littleEndian) return this.runBig(pos, ct.start[code]!);
    for (let p = ct.start[code]!; ; p += 2) {
      const op = ops[p]!;
      const arg = ops[p + 1]!;
      switch (op) {
        case OP_END: return pos;
        case OP_SKIP: pos += arg; break;
        case OP_LEB: while (b[pos++]! & 0x80 && pos < this.end); break;
        case OP_BLOCKLEB: {
          let n = b[pos++]!;
          if (n & 0x80) {
            n = readUnsigned(b, pos - 1, 0, true);
            pos += unsignedLength(b, pos - 1, 0) - 1;
          }
          pos += n;
          break;
        }
        case OP_NAME_STRP4:
          this.dNameKind = NAME_STR;
          this.dNameVal = (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
          pos += 4;
          break;
        case OP_NAME_STRING: {
          const z = b.indexOf(0, pos);
          if (z < 0 || z >= this.end) pos = this.end + 1;
          else {
            this.dNameKind = NAME_INLINE;
            this.dNameVal = pos;
            this.dNameEnd = z;
            pos = z + 1;
          }
          break;
        }
        case OP_SIB4:
          this.dSib = this.h.offset - this.base + ((b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0);
          pos += 4;
          break;
        case OP_REF:
          this.dRef = this.h.offset + readUnsigned(b, pos, arg, true);
          this.dRefKind = 0;
          pos += unsignedLength(b, pos, arg);
          break;
        case OP_FILE1: this.dFile = b[pos++]!; break;
        case OP_LINE1: this.dLine = b[pos++]!; break;
        case OP_LINE2: this.dLine = b[pos]! | (b[pos + 1]! << 8); pos += 2; break;
        case OP_FILE_IMPLICIT: this.dFile = arg; break;
        case OP_LINE_IMPLICIT: this.dLine = arg; break;
        case OP_LOW_ADDR: this.dFnKind |= FnKind.lowAddr; this.dLowPos = pos; pos += arg; break;
        case OP_HIGH_CONST:
          this.dFnKind |= FnKind.highLen;
          this.dHighVal = readUnsigned(b, pos, arg, true);
          pos += unsignedLength(b, pos, arg);
          break;
        case OP_RANGES_OFF:
          this.dFnKind |= FnKind.rangesOff;
          this.dRanges = readUnsigned(b, pos, arg, true);
          pos += arg;
          break;
        default:
          pos = this.rareOp(op, arg, pos);
          if (pos < 0) return -1;
      }
    }
  }

  /** readDie's loop for big-endian files: every operation through {@link rareOp}'s general decoding. */
  private runBig(pos: number, start: number): number {
    const ops = this.ct.ops;
    for (let p = start; ; p += 2) {
      const op = ops[p]!;
      if (op === OP_END) return pos;
      pos = this.rareOp(op, ops[p + 1]!, pos);
      if (pos < 0) return -1;
    }
  }

  /**
   * One operation of any kind, in either byte order: the rare ones for
   * readDie, all of them for big-endian files. Returns the new position, -1
   * for a DIE the generic decoder must read.
   */
  private rareOp(op: number, arg: number, pos: number): number {
    const b = this.b;
    const le = this.littleEndian;
    switch (op) {
      case OP_SKIP: return pos + arg;
      case OP_LEB: return pos + unsignedLength(b, pos, 0);
      case OP_CSTR: {
        const z = b.indexOf(0, pos);
        return z < 0 || z >= this.end ? this.end + 1 : z + 1;
      }
      case OP_BLOCK1: return pos + 1 + b[pos]!;
      case OP_BLOCK2: return pos + 2 + readUnsigned(b, pos, 2, le);
      case OP_BLOCK4: return pos + 4 + readUnsigned(b, pos, 4, le);
      case OP_BLOCKLEB: return pos + unsignedLength(b, pos, 0) + readUnsigned(b, pos, 0, le);
      case OP_NAME_STRP4: return this.nameAt(NAME_STR, readUnsigned(b, pos, 4, le), pos + 4);
      case OP_NAME_STRP: return this.nameAt(NAME_STR, readUnsigned(b, pos, arg, le), pos + arg);
      case OP_NAME_LINESTRP: return this.nameAt(NAME_LINE_STR, readUnsigned(b, pos, arg, le), pos + arg);
      case OP_NAME_SUPSTRP: return this.nameAt(NAME_SUP_STR, readUnsigned(b, pos, arg, le), pos + arg);
      case OP_NAME_STRX: {
        const off = this.strxOffset(readUnsigned(b, pos, arg, le), this.strOffsetsBase, this.h);
        return off === undefined ? pos + unsignedLength(b, pos, arg) : this.nameAt(NAME_STR, off, pos + unsignedLength(b, pos, arg));
      }
      case OP_NAME_STRING: {
        const z = b.indexOf(0, pos);
        if (z < 0 || z >= this.end) return this.end + 1;
        this.dNameKind = NAME_INLINE;
        this.dNameVal = pos;
        this.dNameEnd = z;
        return z + 1;
      }
      case OP_SIB4: this.dSib = this.h.offset - this.base + readUnsigned(b, pos, 4, le); return pos + 4;
      case OP_SIB: this.dSib = this.h.offset - this.base + readUnsigned(b, pos, arg, le); return pos + unsignedLength(b, pos, arg);
      case OP_SIB_ADDR: this.dSib = readUnsigned(b, pos, arg, le) - this.base; return pos + arg;
      case OP_DECL_FLAG: this.dDecl = b[pos] !== 0; return pos + 1;
      case OP_EXT_FLAG: this.dExt = b[pos] !== 0; return pos + 1;
      case OP_REF: this.dRef = this.h.offset + readUnsigned(b, pos, arg, le); this.dRefKind = 0; return pos + unsignedLength(b, pos, arg);
      case OP_REF_ADDR: this.dRef = readUnsigned(b, pos, arg, le); this.dRefKind = 1; return pos + arg;
      case OP_REF_ALT: this.dRef = readUnsigned(b, pos, arg, le); this.dRefKind = 2; return pos + arg;
      case OP_FILE1: this.dFile = b[pos]!; return pos + 1;
      case OP_LINE1: this.dLine = b[pos]!; return pos + 1;
      case OP_LINE2: this.dLine = readUnsigned(b, pos, 2, le); return pos + 2;
      case OP_FILE: this.dFile = readUnsigned(b, pos, arg, le); return pos + unsignedLength(b, pos, arg);
      case OP_LINE: this.dLine = readUnsigned(b, pos, arg, le); return pos + unsignedLength(b, pos, arg);
      case OP_FILE_IMPLICIT: this.dFile = arg; return pos;
      case OP_LINE_IMPLICIT: this.dLine = arg; return pos;
      case OP_LOW_ADDR: this.dFnKind |= FnKind.lowAddr; this.dLowPos = pos; return pos + arg;
      case OP_LOW_X: this.dFnKind |= FnKind.lowX; this.dLowVal = readUnsigned(b, pos, arg, le); return pos + unsignedLength(b, pos, arg);
      case OP_HIGH_CONST: this.dFnKind |= FnKind.highLen; this.dHighVal = readUnsigned(b, pos, arg, le); return pos + unsignedLength(b, pos, arg);
      case OP_HIGH_ADDR: this.dFnKind |= FnKind.highAddr; this.dHighPos = pos; return pos + arg;
      case OP_HIGH_X: this.dFnKind |= FnKind.highX; this.dHighVal = readUnsigned(b, pos, arg, le); return pos + unsignedLength(b, pos, arg);
      case OP_RANGES_OFF: this.dFnKind |= FnKind.rangesOff; this.dRanges = readUnsigned(b, pos, arg, le); return pos + arg;
      case OP_RANGES_X: this.dFnKind |= FnKind.rangesX; this.dRanges = readUnsigned(b, pos, 0, le); return pos + unsignedLength(b, pos, 0);
      default: return -1; // OP_SLOW
    }
  }

  private nameAt(kind: number, offset: number, next: number): number {
    this.dNameKind = kind;
    this.dNameVal = offset;
    return next;
  }

  /** The local id of the name the last readDie() found, or -1. */
  private internName(): number {
    switch (this.dNameKind) {
      case NAME_STR: return this.internStr(this.dNameVal);
      case NAME_LINE_STR: return this.internAt(this.dNameVal, 1);
      case NAME_SUP_STR: return this.internAt(this.dNameVal, 2);
      case NAME_INLINE: return this.internInline(this.b, this.dNameVal, this.dNameEnd);
      case NAME_TEXT: return this.intern(this.dNameText);
      default: return -1;
    }
  }

  /** The text of the name the last readDie() found (undefined when it has none or it is unreadable). */
  private rawText(): string | undefined {
    const s = this.strings;
    const at = (bytes: Uint8Array | undefined, off: number) => (bytes && off < bytes.length ? decodeUtf8(bytes, off, cstringEnd(bytes, off)) : undefined);
    switch (this.dNameKind) {
      case NAME_STR: return at(s.str, this.dNameVal);
      case NAME_LINE_STR: return at(s.lineStr, this.dNameVal);
      case NAME_SUP_STR: return at(s.supStr, this.dNameVal);
      case NAME_INLINE: return decodeUtf8(this.b, this.dNameVal, this.dNameEnd);
      case NAME_TEXT: return this.dNameText;
      default: return undefined;
    }
  }

  /**
   * Reads a DIE the programs cannot (DW_FORM_indirect) with the generic
   * decoder: its end, name, sibling and references. -1 when it cannot be read.
   */
  private readDieGeneric(dr: DieReader | undefined, dieStart: number): number {
    const d = dr?.at(this.base + dieStart);
    if (!d) return -1;
    this.rawName(d.attr(DW_AT.name));
    const sv = d.siblingOffset();
    this.dSib = sv === undefined ? -1 : sv - this.base;
    const dv = d.attr(DW_AT.declaration);
    this.dDecl = dv?.kind === 'flag' && dv.value;
    const ev = d.attr(DW_AT.external);
    this.dExt = ev?.kind === 'flag' && ev.value;
    const rv = d.attr(DW_AT.specification) ?? d.attr(DW_AT.abstract_origin);
    this.dRef = -1;
    if (rv?.kind === 'ref') {
      this.dRef = rv.id % 2 ** 44;
      const s = Math.floor(rv.id / 2 ** 44);
      this.dRefKind = s === this.h.section && this.dRef >= this.h.offset && this.dRef < this.h.end ? 0 : s === DieSection.supInfo && this.h.section !== DieSection.supInfo ? 2 : 1;
    }
    this.dFile = -1;
    this.dLine = 0;
    this.dFnKind = 0;
    return d.endPos;
  }

  /**
   * Skips the children of the DIE whose attributes ended at `pos`, DIE by
   * DIE (a DIE with a usable sibling is jumped over whole). Returns the
   * position after the subtree, or -1 on malformed data.
   */
  private skipChildren(pos: number, dr: () => DieReader | undefined): number {
    const b = this.b;
    const { flags, fixed } = this.ct;
    const end = this.end;
    let depth = 1;
    while (depth > 0) {
      if (pos >= end) return -1;
      const dieStart = pos;
      let code = b[pos++]!;
      if (code & 0x80) {
        code = readUnsigned(b, dieStart, 0, this.littleEndian);
        pos = dieStart + unsignedLength(b, dieStart, 0);
      }
      if (code === 0) {
        depth--;
        continue;
      }
      let abf = code < flags.length ? flags[code]! : 0;
      if (!(abf & AB_PRESENT)) return -1;
      if (abf & AB_LAZY) {
        if (this.compiler.compileCode(code)) return -1;
        abf = flags[code]!;
      }
      const fx = fixed[code]!;
      if (fx >= 0) {
        pos += fx;
        if (abf & AB_CHILDREN) depth++;
        continue;
      }
      pos = this.readDie(pos, code);
      if (pos < 0) pos = this.readDieGeneric(dr(), dieStart);
      if (pos < 0 || pos > end) return -1;
      if (abf & AB_CHILDREN) {
        if (this.dSib > dieStart && this.dSib <= end) pos = this.dSib;
        else depth++;
      }
    }
    return pos;
  }

  private walk(unitIndex: number, info: RootInfo, startPos: number, sectionName: string, dr: () => DieReader | undefined, stopAfter: number): void {
    const b = this.b;
    const h = this.h;
    const le = this.littleEndian;
    const sec = h.section;
    const secBase = dieId(sec, 0);
    const base = this.base;
    const end = this.end;
    const { flags: abFlags, fixed: abFixed, tag: abTag } = this.ct;
    const cxx = isCxxLanguage(info.language);
    const hashOf = this.fileKeys(info.stmtList);
    const bad = (message: string, at: number) => this.fail(unitIndex, undefined, message, base + at, sectionName);
    const cannotSkip = (at: number) => this.fail(unitIndex, dr()?.error, 'cannot skip the children of a DIE', base + at, sectionName);

    // Open parents we descend into: mode, qualified prefix, and an enum's decl key for its enumerators.
    const modes: number[] = [MODE_TOP];
    const prefixes: string[] = [''];
    const enumKeys: number[] = [0];
    // C++: qualified names of member declarations, for out-of-line definitions that refer to them.
    const memberNames = cxx ? new Map<number, number>() : undefined;
    // Same-unit references to resolve at the end: DIE position, target position, tag, flags.
    const localRefs: number[] = [];
    const matcher = this.matcher;
    const topLeaf = matcher ? matcher.leafFor('') : null;
    const skimNames = !!matcher && !this.collectFunctions && le;
    const topOffsets = topLeaf ? topLeaf.offsets[0]! : matcher ? NameMatcher.none : undefined;
    const wantGlobals = !matcher || matcher.want.globals;
    const { nameAt: abNameAt, sibAt: abSibAt, size: abSize } = this.ct;
    const unitRel = h.offset - base;

    let pos = startPos;
    let guard = 0;
    while (modes.length > 0) {
      if (pos >= stopAfter) break;
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
      let abf = code < abFlags.length ? abFlags[code]! : 0;
      if (!(abf & AB_PRESENT)) {
        this.fail(unitIndex, 'ERR_DWARF_ABBREV', `unknown abbreviation code ${code}`, base + dieStart, sectionName);
        return;
      }
      if (abf & AB_LAZY) {
        const e = this.compiler.compileCode(code);
        if (e) {
          this.fail(unitIndex, e.code, e.message, (this.last?.abbrevBase ?? 0) + e.at, this.abbrev?.name ?? '.debug_abbrev');
          return;
        }
        abf = abFlags[code]!;
      }
      const hasChildren = (abf & AB_CHILDREN) !== 0;
      if (skimNames && abf & AB_INTERESTING && modes.length === 1 && abNameAt[code]! >= 0) {
        // Match mode at the top level: a DIE whose name is not the one looked up is passed over
        // unread when its sibling or size is at hand too (and it is not a scope to look into).
        const t = abTag[code]!;
        const q = pos + abNameAt[code]!;
        if (!(t === TAG_namespace || (t === TAG_enumeration_type && wantGlobals) || (cxx && (t === TAG_structure_type || t === TAG_class_type || t === TAG_union_type)))
          && !topOffsets!.has((b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24)) >>> 0)) {
          if (hasChildren) {
            const sa = abSibAt[code]!;
            if (sa >= 0) {
              const r = pos + sa;
              const sib = unitRel + ((b[r]! | (b[r + 1]! << 8) | (b[r + 2]! << 16) | (b[r + 3]! << 24)) >>> 0);
              if (sib > dieStart && sib <= end) {
                pos = sib;
                continue;
              }
            }
          } else if (abSize[code]! >= 0) {
            pos += abSize[code]!;
            continue;
          }
        }
      }
      if (!(abf & AB_INTERESTING)) {
        if (abFixed[code]! >= 0) {
          // Nothing to capture, not even a sibling.
          pos += abFixed[code]!;
          if (hasChildren) {
            pos = this.skipChildren(pos, dr);
            if (pos < 0) return cannotSkip(dieStart);
          }
          continue;
        }
        if (le && abSibAt[code]! >= 0) {
          // Only the sibling matters, and it is at a fixed place: jump without running the program.
          const r = pos + abSibAt[code]!;
          const sib = unitRel + ((b[r]! | (b[r + 1]! << 8) | (b[r + 2]! << 16) | (b[r + 3]! << 24)) >>> 0);
          if (sib > dieStart && sib <= end) {
            pos = sib;
            continue;
          }
        }
      }
      pos = this.readDie(pos, code);
      if (pos < 0) pos = this.readDieGeneric(dr(), dieStart);
      if (pos < 0) {
        this.fail(unitIndex, dr()?.error, 'malformed DIE', base + dieStart, sectionName);
        return;
      }
      if (pos > end) {
        bad('DIE runs past the end of its unit', dieStart);
        return;
      }
      const sib = this.dSib;
      if (!(abf & AB_INTERESTING)) {
        if (hasChildren) {
          if (sib > dieStart && sib <= end) pos = sib;
          else {
            pos = this.skipChildren(pos, dr);
            if (pos < 0) return cannotSkip(dieStart);
          }
        }
        continue;
      }

      const decl = this.dDecl;
      const mode = modes[modes.length - 1]!;
      const tag = abTag[code]!;
      const prefix = prefixes[prefixes.length - 1]!;
      // Index mode: the name's local id. Match mode: 0 when the name is the one looked up.
      let nameId = -1;
      let named: boolean;
      if (matcher) {
        named = this.dNameKind !== 0;
        if (named && this.matchLeaf(prefix === '' ? topLeaf : matcher.leafFor(prefix))) nameId = 0;
      } else {
        nameId = this.internName();
        named = nameId >= 0;
      }
      let childMode = -1;
      let childPrefix = prefix;
      let childEnumKey = 0;
      const id = (secBase + base + dieStart) as DieId;
      const fnKind = this.dFnKind;
      if (fnKind && this.collectFunctions && tag === TAG_subprogram && !decl && (fnKind & (FnKind.lowAddr | FnKind.lowX | FnKind.rangesOff | FnKind.rangesX))) this.pushFunction(id, fnKind);

      if (mode === MODE_ENUM) {
        if (tag === TAG_enumerator && nameId >= 0) {
          this.add(prefix && !matcher ? this.intern(`${prefix}::${this.textOf(nameId)}`) : nameId, id, tag, EntryFlag.defined, enumKeys[enumKeys.length - 1]!);
        }
      } else {
        const isType = TYPE_TAG[tag] === 1;
        const isFunc = tag === TAG_subprogram;
        const isVar = tag === TAG_variable;
        const isNs = tag === TAG_namespace;
        let qid = -1;
        if (nameId >= 0 && (isType || isFunc || isVar || isNs || (mode === MODE_CLASS && tag === TAG_member))) {
          qid = prefix && !matcher ? this.intern(`${prefix}::${this.textOf(nameId)}`) : nameId;
        }
        // Match mode keeps only what the lookup wants.
        if (matcher && !(isType ? matcher.want.types : isFunc || isVar ? matcher.want.globals : true)) qid = -1;
        let flags = 0;
        if (isType || isFunc || isVar) {
          flags = (decl ? EntryFlag.declaration : 0) | (this.dExt ? EntryFlag.external : 0) | (abf & AB_INLINE ? EntryFlag.abstract : 0);
          if (!decl && (isType || abf & AB_DEFINED)) flags |= EntryFlag.defined;
        }
        // The declaring file and line tell apart definitions kept once per declaration; computed only for those.
        const entryFlags = mode === MODE_CLASS ? (decl ? EntryFlag.declaration : EntryFlag.defined) : flags;
        const kind = qid >= 0 ? dedupKind(tag, entryFlags) : DEDUP_NONE;
        const wantKey = (tag === TAG_enumeration_type && (!matcher || matcher.want.globals)) || kind === DEDUP_DECL;
        const dk = wantKey && (this.dFile >= 0 || this.dLine) ? declKeyOf(this.dFile >= 0 ? hashOf(this.dFile) : 0, this.dLine) : 0;
        if (mode === MODE_CLASS) {
          // Members of C++ classes are declarations; out-of-line definitions name them by reference.
          if (named && (isFunc || isVar || tag === TAG_member)) memberNames!.set(base + dieStart, qid);
          if (qid >= 0 && isType) this.add(qid, id, tag, entryFlags, dk, kind);
        } else if (isType || isFunc || isVar) {
          if (named) {
            if (memberNames && decl) memberNames.set(base + dieStart, qid);
            if (qid >= 0) this.add(qid, id, tag, flags, dk, kind);
          } else if (this.dRef >= 0 && (isFunc || isVar) && (!matcher || matcher.want.globals)) {
            if (this.dRefKind === 0) localRefs.push(dieStart, this.dRef - base, tag, flags | EntryFlag.namedByReference);
            else this.pending.push({ die: id, target: this.refTarget(), tag, flags: flags | EntryFlag.namedByReference });
          }
        }
        if (hasChildren) {
          if (isNs) {
            childMode = MODE_NS;
            const text = named ? (matcher ? this.rawText() : this.textOf(nameId)) : undefined;
            childPrefix = text !== undefined ? (prefix ? `${prefix}::${text}` : text) : prefix ? `${prefix}::(anonymous namespace)` : '(anonymous namespace)';
          } else if (tag === TAG_enumeration_type && (!matcher || matcher.want.globals)) {
            // Enumerators are named in the enclosing scope (C, and C++ unscoped enums).
            childMode = MODE_ENUM;
            childEnumKey = dk;
          } else if (cxx && named && (tag === TAG_structure_type || tag === TAG_class_type || tag === TAG_union_type)) {
            childMode = MODE_CLASS;
            const text = matcher ? this.rawText() : this.textOf(nameId);
            childPrefix = text === undefined ? prefix : prefix ? `${prefix}::${text}` : text;
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
          pos = this.skipChildren(pos, dr);
          if (pos < 0) return cannotSkip(dieStart);
        }
      }
    }
    this.resolveLocal(localRefs, memberNames, dr);
  }

  /** True when the name the last readDie() found is `leaf` (match mode). */
  private matchLeaf(leaf: Leaf | null): boolean {
    if (!leaf) return false;
    switch (this.dNameKind) {
      case NAME_STR: return NameMatcher.offsetIs(leaf, 0, this.dNameVal);
      case NAME_LINE_STR: return NameMatcher.offsetIs(leaf, 1, this.dNameVal);
      case NAME_SUP_STR: return NameMatcher.offsetIs(leaf, 2, this.dNameVal);
      case NAME_INLINE: return NameMatcher.bytesAre(leaf, this.b, this.dNameVal, this.dNameEnd);
      case NAME_TEXT: return NameMatcher.textIs(leaf, this.dNameText);
      default: return false;
    }
  }

  /**
   * Names of same-unit references (a definition whose DW_AT_specification or
   * DW_AT_abstract_origin names it): the target was either seen (C++
   * members) or is read now with the unit's programs.
   */
  private resolveLocal(localRefs: number[], memberNames: Map<number, number> | undefined, dr: () => DieReader | undefined): void {
    const b = this.b;
    const base = this.base;
    const secBase = dieId(this.h.section, 0);
    const matcher = this.matcher;
    for (let i = 0; i < localRefs.length; i += 4) {
      const diePos = localRefs[i]!;
      const target = localRefs[i + 1]!;
      const tag = localRefs[i + 2]!;
      let flags = localRefs[i + 3]!;
      const id = (secBase + base + diePos) as DieId;
      if (target <= 0 || target >= this.end) continue;
      let code = b[target]!;
      let pos = target + 1;
      if (code & 0x80) {
        code = readUnsigned(b, target, 0, this.littleEndian);
        pos = target + unsignedLength(b, target, 0);
      }
      if (code === 0 || code >= this.ct.flags.length || !(this.ct.flags[code]! & AB_PRESENT)) continue;
      if (this.ct.flags[code]! & AB_LAZY && this.compiler.compileCode(code)) continue;
      const abf = this.ct.flags[code]!;
      if (this.readDie(pos, code) < 0 && this.readDieGeneric(dr(), target) < 0) continue;
      if (this.dExt) flags |= EntryFlag.external;
      const known = memberNames?.get(base + target);
      if (known !== undefined) {
        if (known >= 0) this.add(known, id, tag, flags, 0);
        continue;
      }
      if (!(abf & AB_INTERESTING)) {
        // A target of a tag the programs capture no name for: read its name generically.
        const d = dr()?.at(base + target);
        this.rawName(d?.attr(DW_AT.name));
      }
      if (this.dNameKind !== 0) {
        const nid = matcher ? (this.matchLeaf(matcher.leafFor('')) ? 0 : -1) : this.internName();
        if (nid >= 0) this.add(nid, id, tag, flags, 0);
        if (nid >= 0 || matcher) continue;
      }
      // A chain (the concrete instance of an out-of-line definition of a declaration): the caller follows it.
      if (this.dRef >= 0) this.pending.push({ die: id, target: this.refTarget(), tag, flags });
    }
  }

  /** The DIE the last readDie()'s reference points at: same unit, same file's .debug_info (ref_addr), or the supplementary file. */
  private refTarget(): DieId {
    const sec = this.h.section;
    if (this.dRefKind === 0) return dieId(sec, this.dRef);
    return dieId(this.dRefKind === 2 || sec === DieSection.supInfo ? DieSection.supInfo : DieSection.info, this.dRef);
  }

  /**
   * The code ranges of one unit's function definitions (the function-table
   * mode): `bytes` holds the whole unit, `bytes[0]` at section offset `base`.
   */
  functionsOf(unitIndex: number, h: UnitHeader, bytes: Uint8Array, base: number, sectionName: string): { functions: FunctionRanges; errors: ScanError[] } {
    this.fnCount = 0;
    this.fnUnits.length = 0;
    this.errors.length = 0;
    this.roots.length = 0;
    this.scanUnit(unitIndex, h, bytes, base, sectionName);
    const n = this.fnCount;
    return {
      functions: { die: this.fnDie.slice(0, n), kind: this.fnKind.slice(0, n), a: this.fnA.slice(0, 2 * n), b: this.fnB.slice(0, 2 * n), units: Int32Array.of(unitIndex, 0, n) },
      errors: [...this.errors],
    };
  }

  /** Records a unit that could not be scanned at all. */
  recordError(unit: number, e: { code: string; message: string; section?: string; offset?: number }): void {
    this.fail(unit, e, e.message, e.offset ?? 0, e.section ?? '');
  }

  /** Everything scanned so far. */
  output(): ScanOutput {
    const n = this.count;
    return {
      keys: this.keys.slice(0, this.nameCount),
      hashes: this.hashes.slice(0, this.nameCount),
      texts: this.texts,
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
        a: this.fnA.slice(0, 2 * this.fnCount), b: this.fnB.slice(0, 2 * this.fnCount), units: Int32Array.from(this.fnUnits),
      },
    };
  }
}
