import { DW_FORM, DW_LNCT, DW_LNE, DW_LNS } from './constants.js';
import { Reader, stringAt, TRUNCATED } from './reader.js';
import { lastAtOrBelow } from './sorted.js';

/** One entry of a line program's file table. */
export interface LineFile {
  /** The name as written (possibly relative). */
  readonly name: string;
  /** The full path: name joined to its directory, and to the compilation directory when relative. */
  readonly path: string;
  /**
   * The name as gdb shows it: joined to its directory entry as written, not
   * to the compilation directory (a DWARF 2-4 file of directory 0 keeps its
   * bare name): `../sysdeps/posix/sleep.c` where the path is
   * `./posix/../sysdeps/posix/sleep.c`.
   */
  readonly displayName: string;
  readonly dirIndex: number;
  readonly mtime?: bigint;
  readonly size?: bigint;
  /** DWARF 5 DW_LNCT_MD5, 16 bytes. */
  readonly md5?: Uint8Array;
}

/** A line program header (DWARF 2-5). */
export interface LineHeader {
  /** Section offset of the program (its unit length field). */
  readonly offset: number;
  /** Section offset just past the program. */
  readonly end: number;
  readonly version: number;
  readonly offsetSize: 4 | 8;
  readonly addressSize: number | undefined;
  readonly minInstLength: number;
  readonly maxOpsPerInst: number;
  readonly defaultIsStmt: boolean;
  readonly lineBase: number;
  readonly lineRange: number;
  readonly opcodeBase: number;
  readonly standardOpcodeLengths: Uint8Array;
  readonly directories: readonly string[];
  /** The file table. DWARF 5 numbers files from 0, earlier versions from 1: use {@link fileAt}. */
  readonly files: readonly LineFile[];
  /** Section offset of the first opcode. */
  readonly programOffset: number;
}

/** String sections a DWARF 5 line header's entries may point into. */
export interface LineStrings {
  readonly str?: Uint8Array;
  readonly lineStr?: Uint8Array;
  /** `.debug_str_offsets` resolution for strx forms, when the unit has a base. */
  strx?(index: number): string | undefined;
}

function joinPath(dir: string, name: string): string {
  if (name.startsWith('/') || !dir) return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** The file of a line-program file number, or undefined when out of range. */
export function fileAt(h: LineHeader, fileNumber: number): LineFile | undefined {
  if (h.version >= 5) return h.files[fileNumber];
  return fileNumber >= 1 ? h.files[fileNumber - 1] : undefined;
}

function readForm(r: Reader, form: number, offsetSize: 4 | 8, strs: LineStrings): string | bigint | Uint8Array | undefined {
  switch (form) {
    case DW_FORM.string: return r.cstring();
    case DW_FORM.line_strp: {
      const o = r.offsetOf(offsetSize);
      return strs.lineStr ? stringAt(strs.lineStr, o) : undefined;
    }
    case DW_FORM.strp: {
      const o = r.offsetOf(offsetSize);
      return strs.str ? stringAt(strs.str, o) : undefined;
    }
    case DW_FORM.strx: case DW_FORM.GNU_str_index: return strs.strx?.(r.uleb());
    case DW_FORM.strx1: return strs.strx?.(r.u8());
    case DW_FORM.strx2: return strs.strx?.(r.u16());
    case DW_FORM.strx3: return strs.strx?.(r.u24());
    case DW_FORM.strx4: return strs.strx?.(r.u32());
    case DW_FORM.udata: return r.ulebBig();
    case DW_FORM.data1: return BigInt(r.u8());
    case DW_FORM.data2: return BigInt(r.u16());
    case DW_FORM.data4: return BigInt(r.u32());
    case DW_FORM.data8: return r.u64();
    case DW_FORM.data16: return r.bytesN(16);
    case DW_FORM.block: return r.bytesN(r.uleb());
    case DW_FORM.block1: return r.bytesN(r.u8());
    case DW_FORM.block2: return r.bytesN(r.u16());
    case DW_FORM.block4: return r.bytesN(r.u32());
    default:
      r.fail(`unsupported form 0x${form.toString(16)} in line table header`, r.offset, 'ERR_DWARF_FORM');
      return undefined;
  }
}

const MAX_TABLE = 1_000_000;

/**
 * A DWARF 5 file entry's path as read: decoded already, or the offset of its
 * bytes in `.debug_line_str` (a number ≥ 0) or `.debug_str` (-1 - offset).
 */
type RawName = string | number | undefined;

/** Reads a path-valued form without decoding a string-section name (see {@link FileEntry}). */
function readRawName(r: Reader, form: number, offsetSize: 4 | 8, strs: LineStrings): RawName {
  if (form === DW_FORM.line_strp || form === DW_FORM.strp) {
    const o = r.offsetOf(offsetSize);
    const bytes = form === DW_FORM.line_strp ? strs.lineStr : strs.str;
    return bytes && o < bytes.length ? (form === DW_FORM.line_strp ? o : -1 - o) : undefined;
  }
  const v = readForm(r, form, offsetSize, strs);
  return typeof v === 'string' ? v : undefined;
}

/** What the files of one header share: their directories, for paths made on demand, and the string sections. */
interface FileDirs {
  readonly dirPath: (index: number) => string;
  /** A directory entry as written. */
  readonly dirName: (index: number) => string;
  readonly strs: LineStrings;
}

/** The rarely present DW_LNCT_MD5, timestamp and size of a file. */
interface FileExtras {
  readonly md5?: Uint8Array;
  readonly mtime?: bigint;
  readonly size?: bigint;
}

/**
 * A file of a line table. A kernel unit's table names hundreds of headers
 * and a session reads hundreds of tables, while a question about a line
 * needs one file: names are decoded and joined to their directory when
 * first asked for.
 */
class FileEntry implements LineFile {
  private joined: string | undefined;

  constructor(
    private raw: RawName,
    readonly dirIndex: number,
    private readonly dirs: FileDirs,
    private readonly extras: FileExtras | undefined,
  ) {}

  get name(): string {
    const raw = this.raw;
    if (typeof raw === 'string') return raw;
    const name = raw === undefined ? '' : raw >= 0 ? stringAt(this.dirs.strs.lineStr!, raw) ?? '' : stringAt(this.dirs.strs.str!, -1 - raw) ?? '';
    this.raw = name;
    return name;
  }

  get md5(): Uint8Array | undefined {
    return this.extras?.md5;
  }

  get mtime(): bigint | undefined {
    return this.extras?.mtime;
  }

  get size(): bigint | undefined {
    return this.extras?.size;
  }

  get path(): string {
    return (this.joined ??= joinPath(this.dirs.dirPath(this.dirIndex), this.name));
  }

  get displayName(): string {
    return joinPath(this.dirs.dirName(this.dirIndex), this.name);
  }
}

/** The file entries of a DWARF 5 header, read without a map per entry. */
function readFileTable(r: Reader, offsetSize: 4 | 8, strs: LineStrings, dirs: FileDirs): LineFile[] {
  const fmtCount = r.u8();
  const fmt: number[] = [];
  for (let i = 0; i < fmtCount; i++) fmt.push(r.uleb(), r.uleb());
  const count = r.uleb();
  if (count > MAX_TABLE) {
    r.fail(`implausible line table entry count ${count}`);
    return [];
  }
  const out: LineFile[] = [];
  for (let i = 0; i < count && !r.error; i++) {
    let raw: RawName;
    let dirIndex = 0;
    let md5: Uint8Array | undefined;
    let mtime: bigint | undefined;
    let size: bigint | undefined;
    for (let k = 0; k < fmt.length; k += 2) {
      const type = fmt[k]!;
      const form = fmt[k + 1]!;
      if (type === DW_LNCT.path) raw = readRawName(r, form, offsetSize, strs);
      else {
        const v = readForm(r, form, offsetSize, strs);
        if (type === DW_LNCT.directory_index && typeof v === 'bigint') dirIndex = Number(v);
        else if (type === DW_LNCT.MD5 && v instanceof Uint8Array && v.length === 16) md5 = v;
        else if (type === DW_LNCT.timestamp && typeof v === 'bigint') mtime = v;
        else if (type === DW_LNCT.size && typeof v === 'bigint') size = v;
      }
    }
    out.push(new FileEntry(raw, dirIndex, dirs, md5 || mtime !== undefined || size !== undefined ? { ...(md5 ? { md5 } : {}), ...(mtime !== undefined ? { mtime } : {}), ...(size !== undefined ? { size } : {}) } : undefined));
  }
  return out;
}

function readEntryTable(r: Reader, offsetSize: 4 | 8, strs: LineStrings): Map<number, unknown>[] {
  const fmtCount = r.u8();
  const fmt: [number, number][] = [];
  for (let i = 0; i < fmtCount; i++) fmt.push([r.uleb(), r.uleb()]);
  const count = r.uleb();
  if (count > MAX_TABLE) {
    r.fail(`implausible line table entry count ${count}`);
    return [];
  }
  const out: Map<number, unknown>[] = [];
  for (let i = 0; i < count && !r.error; i++) {
    const m = new Map<number, unknown>();
    for (const [type, form] of fmt) m.set(type, readForm(r, form, offsetSize, strs));
    out.push(m);
  }
  return out;
}

/**
 * Parses a line program header at the reader's cursor. `compDir` (the unit's
 * DW_AT_comp_dir) makes relative directories absolute as gdb does.
 */
export function parseLineHeader(r: Reader, strs: LineStrings, compDir: string | undefined): LineHeader | undefined {
  const offset = r.offset;
  const { length, offsetSize } = r.initialLength();
  const end = r.offset + length;
  const version = r.u16();
  if (r.error) return undefined;
  if (version < 2 || version > 5) {
    r.fail(`unsupported line table version ${version}`, offset, 'ERR_DWARF_VERSION');
    return undefined;
  }
  let addressSize: number | undefined;
  if (version >= 5) {
    addressSize = r.u8();
    r.u8(); // segment selector size
  }
  const headerLength = r.offsetOf(offsetSize);
  const programOffset = r.offset + headerLength;
  const minInstLength = r.u8();
  const maxOpsPerInst = version >= 4 ? r.u8() : 1;
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.i8();
  const lineRange = r.u8();
  const opcodeBase = r.u8();
  const standardOpcodeLengths = new Uint8Array(Math.max(0, opcodeBase - 1));
  for (let i = 0; i + 1 < opcodeBase; i++) standardOpcodeLengths[i] = r.u8();
  if (r.error) return undefined;
  if (lineRange === 0) {
    r.fail('line table with line_range 0', offset);
    return undefined;
  }
  const directories: string[] = [];
  const files: LineFile[] = [];
  const cd = compDir ?? '';
  if (version >= 5) {
    for (const e of readEntryTable(r, offsetSize, strs)) {
      const p = e.get(DW_LNCT.path);
      directories.push(typeof p === 'string' ? p : '');
    }
    // Directory 0 is the compilation directory itself; the others are relative to it unless absolute.
    const dir0 = directories[0] || cd;
    const dirPaths: string[] = [];
    const dirPath = (i: number) => (i === 0 ? dir0 : (dirPaths[i] ??= joinPath(dir0, directories[i] ?? '')));
    const dirName = (i: number) => directories[i] ?? '';
    for (const f of readFileTable(r, offsetSize, strs, { dirPath, dirName, strs })) files.push(f);
  } else {
    for (let i = 0; i < MAX_TABLE && !r.error; i++) {
      const d = r.cstring();
      if (!d) break;
      directories.push(d);
    }
    for (let i = 0; i < MAX_TABLE && !r.error; i++) {
      const name = r.cstring();
      if (!name) break;
      const dirIndex = r.uleb();
      const mtime = r.ulebBig();
      const size = r.ulebBig();
      const dir = dirIndex === 0 ? cd : joinPath(cd, directories[dirIndex - 1] ?? '');
      files.push({ name, path: joinPath(dir, name), displayName: dirIndex === 0 ? name : joinPath(directories[dirIndex - 1] ?? '', name), dirIndex, mtime, size });
    }
  }
  if (r.error) return undefined;
  if (programOffset > end) {
    r.fail('line table header longer than the table', offset);
    return undefined;
  }
  return {
    offset, end, version, offsetSize, addressSize, minInstLength, maxOpsPerInst, defaultIsStmt, lineBase, lineRange,
    opcodeBase, standardOpcodeLengths, directories, files, programOffset,
  };
}

/** Row flags of a {@link LineTable}. */
export const LineFlag = { isStmt: 1, endSequence: 2, prologueEnd: 4, epilogueBegin: 8, basicBlock: 16 } as const;

/**
 * The rows of one line program, sorted by address (stable, so rows at one
 * address keep program order, and sequences stay whole). Columns of numbers
 * in typed arrays, each as narrow as its values allow: the 1,000 kernel units
 * a session may touch hold millions of rows. Addresses are kept as their
 * high and low 32-bit halves (a table may mix sequences at kernel addresses
 * with sequences left at 0 by discarded sections, so no double holds them
 * all exactly); rows being sorted, the high halves come in a few runs.
 * Decoding allocates no bigint per row; {@link rowAddress} gives the address.
 */
export interface LineTable {
  readonly header: LineHeader;
  /** Low 32 bits of each row's address. */
  readonly lo: Uint32Array;
  /** High 32 bits of the addresses by runs: `hiValues[k]` from row `hiStarts[k]` to the next run. */
  readonly hiValues: Uint32Array;
  readonly hiStarts: Uint32Array;
  readonly file: Uint16Array | Uint32Array;
  readonly line: Uint16Array | Uint32Array;
  readonly column: Uint8Array | Uint16Array | Uint32Array;
  readonly flags: Uint8Array;
  readonly discriminator: Uint8Array | Uint16Array | Uint32Array;
  readonly length: number;
}

/** The high 32 bits of row `i`'s address. */
export function rowHi(t: LineTable, i: number): number {
  const starts = t.hiStarts;
  if (starts.length <= 1) return t.hiValues[0] ?? 0;
  return t.hiValues[Math.max(0, lastAtOrBelow(starts, i))]!;
}

/** The address of row `i`. */
export function rowAddress(t: LineTable, i: number): bigint {
  return (BigInt(rowHi(t, i)) << 32n) | BigInt(t.lo[i]!);
}

/** True when rows `i` and `j` have the same address. */
export function sameAddress(t: LineTable, i: number, j: number): boolean {
  return t.lo[i] === t.lo[j] && rowHi(t, i) === rowHi(t, j);
}

const MAX_ROWS = 50_000_000;

/**
 * Runs a line program (DWARF 2-5 state machine, section 6.2) and returns its
 * rows sorted by address. `addressSize` is the unit's, for DW_LNE_set_address
 * in pre-5 tables. Rows decoded before an error are kept.
 */
export function runLineProgram(r: Reader, h: LineHeader, addressSize: number): LineTable {
  r.seek(h.programOffset);
  if (h.end > r.base + r.end) {
    // The program runs past the bytes at hand: a reader over a window of the section says so, and is
    // given a larger window; at the end of the section this is a truncated table.
    // The rows before the end are still decoded.
    const at = r.pos;
    r.fail('line program runs past the end of the data', h.offset, TRUNCATED);
    r.pos = at;
  }
  const b = r.bytes;
  const le = r.littleEndian;
  const endPos = Math.min(r.end, h.end - r.base);
  // Rows are decoded into shared scratch columns (sized for the largest program yet; a row takes
  // about two bytes of program), then packed.
  let cap = Math.max(64, (endPos - r.pos) >> 1);
  if (scratch.lo.length < cap) scratch = newScratch(cap);
  cap = scratch.lo.length;
  let { hi: hiA, lo: loA, file, line, column, flags, disc } = scratch;
  let n = 0;

  // The address is the last DW_LNE_set_address (split into 32-bit halves once) plus a number
  // advanced by the opcodes: no bigint arithmetic per row.
  let seqHi = 0;
  let seqLo = 0;
  let addr = 0;
  let opIndex = 0;
  let f = 1;
  let ln = 1;
  let col = 0;
  let isStmt = h.defaultIsStmt;
  let rowFlags = 0; // basic block, prologue end, epilogue begin of the next row
  let discriminator = 0;
  const minInst = h.minInstLength;
  const maxOps = Math.max(1, h.maxOpsPerInst);
  const opcodeBase = h.opcodeBase;
  const lineBase = h.lineBase;
  const lineRange = h.lineRange;
  let p = r.pos;
  let error = false;

  const grow = () => {
    cap *= 2;
    const grown = newScratch(cap);
    grown.hi.set(hiA); grown.lo.set(loA); grown.file.set(file); grown.line.set(line);
    grown.column.set(column); grown.flags.set(flags); grown.disc.set(disc);
    scratch = grown;
    ({ hi: hiA, lo: loA, file, line, column, flags, disc } = grown);
  };
  const advance = (opAdvance: number) => {
    if (maxOps === 1) addr += minInst * opAdvance;
    else {
      addr += minInst * Math.floor((opIndex + opAdvance) / maxOps);
      opIndex = (opIndex + opAdvance) % maxOps;
    }
  };
  // LEB128 readers over the program bytes; a read past the end marks the program truncated.
  const uleb = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (p >= endPos) {
        error = true;
        return 0;
      }
      const c = b[p++]!;
      v += (c & 0x7f) * mul;
      if (!(c & 0x80)) return v;
      mul *= 128;
    }
  };
  const sleb = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (p >= endPos) {
        error = true;
        return 0;
      }
      const c = b[p++]!;
      v += (c & 0x7f) * mul;
      mul *= 128;
      if (!(c & 0x80)) return c & 0x40 ? v - mul : v;
    }
  };

  while (p < endPos && !error && n < MAX_ROWS) {
    const op = b[p++]!;
    let emit = false;
    let endSeq = false;
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      advance(Math.floor(adj / lineRange));
      ln += lineBase + (adj % lineRange);
      emit = true;
    } else if (op === 0) {
      const len = uleb();
      const start = p;
      if (len === 0 || error) continue;
      if (start + len > endPos) {
        error = true;
        break;
      }
      const sub = b[p++]!;
      if (sub === DW_LNE.end_sequence) {
        emit = true;
        endSeq = true;
      } else if (sub === DW_LNE.set_address) {
        // Read directly: the reader may carry a (recoverable) truncation error.
        const size = len - 1 <= 8 ? len - 1 : addressSize;
        const u32 = (q: number) => (le ? b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24) : (b[q]! << 24) | (b[q + 1]! << 16) | (b[q + 2]! << 8) | b[q + 3]!) >>> 0;
        if (size === 8) {
          seqLo = u32(le ? p : p + 4);
          seqHi = u32(le ? p + 4 : p);
        } else if (size === 4) {
          seqLo = u32(p);
          seqHi = 0;
        } else {
          let v = 0;
          for (let i = 0; i < size; i++) v += b[p + (le ? i : size - 1 - i)]! * 2 ** (8 * i);
          seqLo = v;
          seqHi = 0;
        }
        addr = 0;
        opIndex = 0;
      } else if (sub === DW_LNE.set_discriminator) {
        discriminator = uleb();
      }
      // DW_LNE_define_file (deprecated) and vendor opcodes are skipped by length.
      p = start + len;
    } else {
      switch (op) {
        case DW_LNS.copy: emit = true; break;
        case DW_LNS.advance_pc: advance(uleb()); break;
        case DW_LNS.advance_line: ln += sleb(); break;
        case DW_LNS.set_file: f = uleb(); break;
        case DW_LNS.set_column: col = uleb(); break;
        case DW_LNS.negate_stmt: isStmt = !isStmt; break;
        case DW_LNS.set_basic_block: rowFlags |= LineFlag.basicBlock; break;
        case DW_LNS.const_add_pc: advance(Math.floor((255 - opcodeBase) / lineRange)); break;
        case DW_LNS.fixed_advance_pc:
          if (p + 2 > endPos) error = true;
          else addr += le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
          p += 2;
          opIndex = 0;
          break;
        case DW_LNS.set_prologue_end: rowFlags |= LineFlag.prologueEnd; break;
        case DW_LNS.set_epilogue_begin: rowFlags |= LineFlag.epilogueBegin; break;
        case DW_LNS.set_isa: uleb(); break;
        default: {
          // Unknown standard opcode: skip its ULEB operands as the header declares.
          const nargs = h.standardOpcodeLengths[op - 1] ?? 0;
          for (let i = 0; i < nargs; i++) uleb();
        }
      }
    }
    if (emit && !error) {
      if (n === cap) grow();
      const lo = seqLo + addr;
      loA[n] = lo % 4294967296;
      hiA[n] = (seqHi + Math.floor(lo / 4294967296)) >>> 0;
      file[n] = f;
      line[n] = ln;
      column[n] = col;
      flags[n] = (isStmt ? LineFlag.isStmt : 0) | (endSeq ? LineFlag.endSequence : 0) | rowFlags;
      disc[n] = discriminator;
      n++;
      rowFlags = 0;
      discriminator = 0;
      if (endSeq) {
        seqHi = 0;
        seqLo = 0;
        addr = 0;
        opIndex = 0;
        f = 1;
        ln = 1;
        col = 0;
        isStmt = h.defaultIsStmt;
      }
    }
  }
  r.pos = Math.min(p, r.end);
  if (error && !r.error) r.fail('truncated line program', r.offset, TRUNCATED);
  return sortRows(h, hiA, loA, file, line, column, flags, disc, n);
}

/** Decoding columns shared by every line program run (a thread runs one program at a time). */
interface Scratch {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly file: Uint32Array;
  readonly line: Uint32Array;
  readonly column: Uint32Array;
  readonly flags: Uint8Array;
  readonly disc: Uint32Array;
}

function newScratch(cap: number): Scratch {
  return {
    hi: new Uint32Array(cap), lo: new Uint32Array(cap), file: new Uint32Array(cap), line: new Uint32Array(cap),
    column: new Uint32Array(cap), flags: new Uint8Array(cap), disc: new Uint32Array(cap),
  };
}

let scratch = newScratch(4096);

/** A copy of `n` values (in the order `order` gives, if any) in the narrowest array that holds them. */
function narrow(a: Uint32Array, n: number, order: Uint32Array | undefined, bytes: boolean): Uint8Array | Uint16Array | Uint32Array {
  let max = 0;
  for (let i = 0; i < n; i++) if (a[i]! > max) max = a[i]!;
  const out = bytes && max < 0x100 ? new Uint8Array(n) : max < 0x10000 ? new Uint16Array(n) : new Uint32Array(n);
  if (order) for (let i = 0; i < n; i++) out[i] = a[order[i]!]!;
  else out.set(a.subarray(0, n));
  return out;
}

/** Packs the decoded rows into a table, sorted by address (sequences kept whole). */
function sortRows(h: LineHeader, hi: Uint32Array, lo: Uint32Array, file: Uint32Array, line: Uint32Array, column: Uint32Array, flags: Uint8Array, disc: Uint32Array, n: number): LineTable {
  const cmp = (i: number, j: number) => hi[i]! - hi[j]! || lo[i]! - lo[j]!;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    const c = cmp(i, i - 1);
    if (c < 0 || (c === 0 && flags[i]! & LineFlag.endSequence && !(flags[i - 1]! & LineFlag.endSequence))) {
      sorted = false;
      break;
    }
  }
  let order: Uint32Array | undefined;
  if (!sorted) {
    // Sort sequences, not rows: rows of a sequence stay together and in order.
    const seqs: [number, number][] = [];
    let s = 0;
    for (let i = 0; i < n; i++) {
      if (flags[i]! & LineFlag.endSequence) {
        seqs.push([s, i + 1]);
        s = i + 1;
      }
    }
    if (s < n) seqs.push([s, n]);
    seqs.sort((a, b) => cmp(a[0], b[0]) || a[0] - b[0]);
    order = new Uint32Array(n);
    let k = 0;
    for (const [a, b] of seqs) for (let i = a; i < b; i++) order[k++] = i;
  }
  const outLo = new Uint32Array(n);
  const outFlags = new Uint8Array(n);
  const hiValues: number[] = [];
  const hiStarts: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = order ? order[i]! : i;
    outLo[i] = lo[k]!;
    outFlags[i] = flags[k]!;
    if (hiValues.length === 0 || hiValues[hiValues.length - 1] !== hi[k]) {
      hiValues.push(hi[k]!);
      hiStarts.push(i);
    }
  }
  return {
    header: h, lo: outLo, hiValues: Uint32Array.from(hiValues), hiStarts: Uint32Array.from(hiStarts),
    file: narrow(file, n, order, false) as Uint16Array | Uint32Array, line: narrow(line, n, order, false) as Uint16Array | Uint32Array,
    column: narrow(column, n, order, true), flags: outFlags, discriminator: narrow(disc, n, order, true), length: n,
  };
}

/**
 * The row that describes `address`: the last row at or below it in a sequence
 * that does not end at or before it. Returns the row index, or -1.
 */
export function rowFor(t: LineTable, address: bigint): number {
  const th = Number(address >> 32n) >>> 0;
  const tl = Number(address & 0xffffffffn);
  // The run of rows whose high half is the address's (or the last run below it), then the low halves.
  let run = -1;
  for (let k = 0; k < t.hiValues.length && t.hiValues[k]! <= th; k++) run = k;
  if (run < 0) return -1;
  const lo = t.hiStarts[run]!;
  const hi = (run + 1 < t.hiStarts.length ? t.hiStarts[run + 1]! : t.length) - 1;
  // No row of the run at or below the address: the last row of the run before (if any) is.
  const best = t.hiValues[run]! < th ? hi : lastAtOrBelow(t.lo, tl, lo, hi);
  if (best < 0 || t.flags[best]! & LineFlag.endSequence) return -1;
  return best;
}

/** Reads the line table at a section offset. */
export function readLineTable(bytes: Uint8Array, base: number, origin: { file: string; section: string }, littleEndian: boolean, strs: LineStrings, compDir: string | undefined, addressSize: number): { table?: LineTable; error?: Reader['error'] } {
  const r = new Reader(bytes, origin, littleEndian, base);
  const h = parseLineHeader(r, strs, compDir);
  if (!h) return { error: r.error };
  const table = runLineProgram(r, h, addressSize);
  return r.error ? { table, error: r.error } : { table };
}
