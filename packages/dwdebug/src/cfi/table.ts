import { ByteReader } from '../elf/byte-reader.js';
import type { BinfileSections } from '../elf/binfile.js';
import { DW_EH_PE } from './constants.js';
import { encodedSize, readEncodedPointer } from './encoding.js';
import { FrameParser } from './entries.js';
import type { FrameSection } from './entries.js';
import { CfaProgram } from './execute.js';
import type { CfiRow, Fde } from './types.js';

/** A section's bytes and link-time address. */
export interface AddressedSection {
  readonly data: Uint8Array;
  readonly address: bigint;
}

/** Inputs of {@link CfiTable.fromSections}. */
export interface CfiSources {
  readonly ehFrame?: AddressedSection;
  readonly ehFrameHdr?: AddressedSection;
  readonly debugFrame?: Uint8Array;
  readonly littleEndian: boolean;
  /** 4 or 8 (ELF class). */
  readonly addressSize: number;
  /** `.text` address, for `DW_EH_PE_textrel`. */
  readonly textBase?: bigint;
  /** GOT address, for `DW_EH_PE_datarel` in `.eh_frame` (i386). */
  readonly dataBase?: bigint;
  /** File name for error messages. */
  readonly path?: string;
}

/** Bound on FDEs whose rows are kept (an unwinder touches a few hundred functions at most). */
const ROW_CACHE_FDES = 2048;

/**
 * A sorted index over one frame section's FDEs, built by a single scan:
 * starts, ends and entry offsets in parallel typed arrays.
 */
class ScannedIndex {
  private readonly starts: BigUint64Array;
  private readonly ends: BigUint64Array;
  private readonly offsets: Float64Array;

  constructor(parser: FrameParser) {
    const items: { start: bigint; end: bigint; offset: number }[] = [];
    for (const f of parser.fdes()) if (f.end > f.start) items.push({ start: f.start, end: f.end, offset: f.offset });
    items.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.starts = new BigUint64Array(items.length);
    this.ends = new BigUint64Array(items.length);
    this.offsets = new Float64Array(items.length);
    items.forEach((it, i) => {
      this.starts[i] = BigInt.asUintN(64, it.start);
      this.ends[i] = it.end > 0xffffffffffffffffn ? 0xffffffffffffffffn : it.end;
      this.offsets[i] = it.offset;
    });
  }

  /** The offset of the FDE covering pc, or -1. */
  find(pc: bigint): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= pc) lo = mid + 1;
      else hi = mid;
    }
    // Overlapping FDEs are rare; look back a little for one that covers pc.
    for (let i = lo - 1; i >= 0 && i >= lo - 4; i--) if (pc < this.ends[i]!) return this.offsets[i]!;
    return -1;
  }
}

/**
 * `.eh_frame_hdr`'s binary search table: sorted (initial location, FDE
 * address) pairs in a fixed-size encoding, searched in place without
 * building anything.
 */
class HdrIndex {
  private readonly reader: ByteReader;
  private readonly tableStart: number;
  private readonly entrySize: number;
  readonly count: number;

  private constructor(
    private readonly hdr: AddressedSection,
    private readonly tableEnc: number,
    private readonly ehFrameAddress: bigint,
    littleEndian: boolean,
    private readonly addressSize: number,
    tableStart: number,
    count: number,
    entrySize: number,
  ) {
    this.reader = new ByteReader(hdr.data, littleEndian, { section: '.eh_frame_hdr' });
    this.tableStart = tableStart;
    this.count = count;
    this.entrySize = entrySize;
  }

  /** Parses the header; undefined when it has no usable search table (then the section is scanned). */
  static open(hdr: AddressedSection, ehFrame: AddressedSection, littleEndian: boolean, addressSize: number, path?: string): HdrIndex | undefined {
    const r = new ByteReader(hdr.data, littleEndian, { ...(path === undefined ? {} : { file: path }), section: '.eh_frame_hdr' });
    if (hdr.data.length < 4) return undefined;
    const version = r.u8();
    if (version !== 1) return undefined;
    const ptrEnc = r.u8();
    const countEnc = r.u8();
    const tableEnc = r.u8();
    const ctx = { sectionAddress: hdr.address, addressSize, dataBase: hdr.address };
    const ehPtr = readEncodedPointer(r, ptrEnc, ctx);
    if (!ehPtr || ehPtr.indirect || ehPtr.value !== ehFrame.address) return undefined;
    if (countEnc === DW_EH_PE.omit || tableEnc === DW_EH_PE.omit) return undefined;
    const count = readEncodedPointer(r, countEnc, ctx);
    const size = encodedSize(tableEnc, addressSize);
    if (!count || size === undefined || (tableEnc & DW_EH_PE.indirect) !== 0) return undefined;
    const n = Number(count.value);
    if (r.pos + n * 2 * size > hdr.data.length) return undefined;
    return new HdrIndex(hdr, tableEnc, ehFrame.address, littleEndian, addressSize, r.pos, n, size * 2);
  }

  private valueAt(pos: number): bigint {
    this.reader.seek(pos);
    const v = readEncodedPointer(this.reader, this.tableEnc, { sectionAddress: this.hdr.address, addressSize: this.addressSize, dataBase: this.hdr.address });
    return v!.value;
  }

  /** The `.eh_frame` offset of the last FDE starting at or before pc, or -1. */
  find(pc: bigint): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.valueAt(this.tableStart + mid * this.entrySize) <= pc) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return -1;
    const fdeAddr = this.valueAt(this.tableStart + (lo - 1) * this.entrySize + this.entrySize / 2);
    return Number(fdeAddr - this.ehFrameAddress);
  }
}

/** One frame section with its parser, program runner and index. */
class FrameSource {
  readonly parser: FrameParser;
  readonly program: CfaProgram;
  private scanned?: ScannedIndex;

  constructor(
    readonly section: FrameSection,
    private readonly hdr?: HdrIndex,
  ) {
    this.parser = new FrameParser(section);
    this.program = new CfaProgram(section);
  }

  fdeFor(pc: bigint): Fde | undefined {
    if (this.hdr) {
      const off = this.hdr.find(pc);
      if (off >= 0 && off < this.section.data.length) {
        const f = this.parser.fde(off);
        if (f && f.start <= pc && pc < f.end) return f;
      }
      return undefined;
    }
    this.scanned ??= new ScannedIndex(this.parser);
    const off = this.scanned.find(pc);
    return off < 0 ? undefined : this.parser.fde(off);
  }
}

/**
 * The call frame information of one binary: `.eh_frame` (searched through
 * `.eh_frame_hdr` when present, else indexed by one scan) and `.debug_frame`
 * (indexed by one scan, on first use). `rowFor(pc)` finds the FDE covering a
 * link-time pc by binary search, runs its program once, caches all its rows
 * and binary searches them; repeated lookups in the same function cost a
 * binary search over the FDE index and one over its rows.
 *
 * `.eh_frame` is consulted first (it is what the runtime uses and is always
 * asynchronous-exact), then `.debug_frame`.
 */
export class CfiTable {
  private readonly sources: FrameSource[];
  private readonly rowCache = new Map<string, CfiRow[]>();

  private constructor(sources: FrameSource[]) {
    this.sources = sources;
  }

  /** Builds a table from section bytes. Sections may be absent; an empty table answers undefined. */
  static fromSections(src: CfiSources): CfiTable {
    const sources: FrameSource[] = [];
    const common = {
      littleEndian: src.littleEndian,
      addressSize: src.addressSize,
      ...(src.textBase === undefined ? {} : { textBase: src.textBase }),
      ...(src.dataBase === undefined ? {} : { dataBase: src.dataBase }),
      ...(src.path === undefined ? {} : { file: src.path }),
    };
    if (src.ehFrame && src.ehFrame.data.length > 0) {
      const hdr = src.ehFrameHdr ? HdrIndex.open(src.ehFrameHdr, src.ehFrame, src.littleEndian, src.addressSize, src.path) : undefined;
      sources.push(new FrameSource({ kind: '.eh_frame', data: src.ehFrame.data, address: src.ehFrame.address, ...common }, hdr));
    }
    if (src.debugFrame && src.debugFrame.length > 0) sources.push(new FrameSource({ kind: '.debug_frame', data: src.debugFrame, address: 0n, ...common }));
    return new CfiTable(sources);
  }

  /** Builds a table from a binfile's sections (`Binfile.unwindSections()`). */
  static fromBinfileSections(s: BinfileSections): CfiTable {
    const addressed = (name: string): AddressedSection | undefined => {
      const data = s.section(name);
      return data ? { data, address: s.sectionAddress(name) ?? 0n } : undefined;
    };
    const ehFrame = addressed('.eh_frame');
    const ehFrameHdr = addressed('.eh_frame_hdr');
    const debugFrame = s.section('.debug_frame');
    const textBase = s.sectionAddress('.text');
    const dataBase = s.sectionAddress('.got.plt') ?? s.sectionAddress('.got');
    return CfiTable.fromSections({
      littleEndian: s.littleEndian,
      addressSize: s.is64 ? 8 : 4,
      path: s.path,
      ...(ehFrame ? { ehFrame } : {}),
      ...(ehFrameHdr ? { ehFrameHdr } : {}),
      ...(debugFrame ? { debugFrame } : {}),
      ...(textBase === undefined ? {} : { textBase }),
      ...(dataBase === undefined ? {} : { dataBase }),
    });
  }

  /** True when there is no frame section at all. */
  get empty(): boolean {
    return this.sources.length === 0;
  }

  /** The FDE covering a link-time pc, from `.eh_frame` first, then `.debug_frame`. */
  fdeFor(pc: bigint): Fde | undefined {
    for (const s of this.sources) {
      const f = s.fdeFor(pc);
      if (f) return f;
    }
    return undefined;
  }

  /** The table row for a link-time pc, or undefined when no FDE covers it. */
  rowFor(pc: bigint): CfiRow | undefined {
    for (const s of this.sources) {
      const f = s.fdeFor(pc);
      if (!f) continue;
      const rows = this.rowsOf(f);
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (rows[mid]!.start <= pc) lo = mid + 1;
        else hi = mid;
      }
      const row = rows[lo - 1];
      if (row && pc < row.end) return row;
    }
    return undefined;
  }

  /** All rows of an FDE (cached). */
  rowsOf(fde: Fde): CfiRow[] {
    const key = `${fde.cie.section}:${fde.offset}`;
    let rows = this.rowCache.get(key);
    if (rows) {
      // Refresh its position: the cache evicts the least recently used.
      this.rowCache.delete(key);
      this.rowCache.set(key, rows);
      return rows;
    }
    const src = this.sources.find((s) => s.section.kind === fde.cie.section)!;
    rows = src.program.rows(fde);
    if (this.rowCache.size >= ROW_CACHE_FDES) this.rowCache.delete(this.rowCache.keys().next().value!);
    this.rowCache.set(key, rows);
    return rows;
  }

  /** Every FDE of a section, in section order (for checks and dumps). */
  *fdes(section: '.eh_frame' | '.debug_frame'): Generator<Fde> {
    const src = this.sources.find((s) => s.section.kind === section);
    if (src) yield* src.parser.fdes();
  }
}
