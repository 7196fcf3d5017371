import { DwarfError } from '../errors.js';
import type { DwarfSections } from '../sections.js';
import { parseAbbrevTable, type AbbrevTable } from './abbrev.js';
import { DW_UT } from './constants.js';
import { DieReader, newScratch, type AttrValue, type UnitBytes } from './die.js';
import { parseLineHeader, runLineProgram, type LineHeader, type LineTable } from './line.js';
import { listOffsetAt, parseLoc, parseLocGnuDwo, parseLoclist, parseRanges, parseRnglist, type AddressRange, type ListContext, type LocationListEntry } from './lists.js';
import { Lru } from './lru.js';
import { Reader, stringAt } from './reader.js';
import { readRootInfo, type RootInfo } from './root.js';
import { fileSection, FileReader, memorySection, type DwarfFileSections, type SectionData } from './source.js';
import type { IntervalMap } from './model/address-map.js';
import { DieSection, dieId, dieIdOffset, dieIdSection, unitHeaders, type DieId, type UnitHeader } from './unit.js';
import { readUnitCache, unitCachePath, writeUnitCache } from './unit-cache.js';
import { parseAt } from './window.js';
import { lastAtOrBelow } from './sorted.js';

/** The DWARF sections the engine knows, by their standard names without the `.debug_` prefix. */
export type SectionKey = 'info' | 'types' | 'abbrev' | 'str' | 'line_str' | 'str_offsets' | 'addr' | 'ranges' | 'rnglists' | 'loc' | 'loclists' | 'line' | 'aranges';

/** Sections larger than this are read piecewise when the provider can say where they lie in the file. */
const PIECEWISE_MIN = 4 * 1024 * 1024;
/**
 * Sections read a table or list at a time, at offsets units name: piecewise
 * from this size (a backtrace in glibc reads a few KB of its 1 MB tables).
 */
const PIECEWISE_MIN_TABLES = 256 * 1024;
const TABLE_SECTIONS: ReadonlySet<SectionKey> = new Set(['abbrev', 'line', 'loc', 'loclists']);

/** Options of a {@link DwarfContext}. */
export interface ContextOptions {
  /** Bytes of unit data kept in memory between uses (least recently used first out). */
  readonly unitCacheBytes?: number;
  /** Line-table rows kept between uses. */
  readonly lineCacheRows?: number;
}

/**
 * One file's DWARF: its sections, its units, and the caches that make
 * repeated lookups cheap. Knows nothing of symbols or types; the model is
 * built on top of it. All offsets it takes are section offsets, DIEs are
 * named by {@link DieId}.
 */
export class DwarfContext {
  readonly path: string;
  readonly littleEndian: boolean;
  /** True when the file has split-DWARF `.dwo` sections instead of `.debug_*` ones. */
  readonly dwo: boolean;
  /** Every unit: `.debug_info` units in order, then `.debug_types` units. */
  readonly units: UnitHeader[] = [];
  /** Root DIE facts by unit index, filled by the indexer or on first use. */
  readonly roots: (RootInfo | undefined)[] = [];
  /** Non-fatal decode errors met so far (a unit that could not be read, a bad list). */
  readonly errors: DwarfError[] = [];
  /** Type units by signature (DW_FORM_ref_sig8), to the type DIE. */
  readonly typeSignatures = new Map<bigint, DieId>();
  private readonly keys: Float64Array;
  private readonly sections = new Map<SectionKey, SectionData | null>();
  private readonly readers = new Map<string, FileReader>();
  private readonly abbrevCache = new Lru<number, AbbrevTable>(256);
  private readonly unitCache: Lru<number, UnitHandle>;
  private readonly handles: (UnitHandle | undefined)[] = [];
  private readonly lineCache: Lru<number, LineTable | null>;
  private readonly headerCache = new Lru<number, LineHeader | null>(4096);
  private readonly unitCacheFile: string | undefined;
  private unitAddressMap: IntervalMap | undefined;

  /**
   * Reads the unit headers of a file. `isSupplementary` marks the dwz file
   * itself, whose DIEs are named with {@link DieSection.supInfo}.
   */
  constructor(private readonly provider: DwarfSections, readonly sup: DwarfContext | undefined, opts: ContextOptions = {}, readonly isSupplementary = false) {
    this.path = provider.path;
    this.littleEndian = provider.littleEndian;
    // Ask for the .dwo name first: asking for .debug_info could read a whole section just to test for it.
    this.dwo = !!provider.section('.debug_info.dwo') && !(provider as DwarfFileSections).sectionFileRange?.('.debug_info') && !provider.section('.debug_info');
    this.unitCache = new Lru(opts.unitCacheBytes ?? 64 * 1024 * 1024, (_, u) => u.release());
    this.lineCache = new Lru(opts.lineCacheRows ?? 2_000_000);
    this.unitCacheFile = 'sectionFileRange' in provider ? unitCachePath(this.path, isSupplementary) : undefined;
    const recorded = this.unitCacheFile ? readUnitCache(this.unitCacheFile) : undefined;
    if (recorded) {
      this.units.push(...recorded.units);
      this.unitAddressMap = recorded.unitMap;
    } else {
      this.readUnitHeaders();
      if (this.unitCacheFile && !this.errors.length) writeUnitCache(this.unitCacheFile, this.units, undefined);
    }
    this.keys = new Float64Array(this.units.length);
    this.units.forEach((h, i) => {
      this.keys[i] = dieId(h.section, h.offset);
      if (h.typeSignature !== undefined) this.typeSignatures.set(h.typeSignature, dieId(h.section, h.typeOffset!));
    });
  }

  private readUnitHeaders(): void {
    for (const [key, section, types] of [['info', DieSection.info, false], ['types', DieSection.types, true]] as const) {
      const data = this.section(key);
      if (!data) continue;
      // The supplementary file's units are DieSection.supInfo; this context may be that file.
      const sec = section === DieSection.info && this.isSupplementary ? DieSection.supInfo : section;
      const it = unitHeaders((o, l) => data.read(o, l), data.size, { file: this.path, section: data.name }, this.littleEndian, sec, types);
      for (;;) {
        const step = it.next();
        if (step.done) {
          if (step.value) this.errors.push(step.value);
          break;
        }
        this.units.push(step.value);
      }
    }
  }

  /**
   * The address → unit map: as recorded on disk by an earlier run, else built
   * by `build` and recorded with the unit headers when the file read without
   * errors (see unit-cache.ts).
   */
  unitMap(build: () => IntervalMap): IntervalMap {
    if (this.unitAddressMap) return this.unitAddressMap;
    const map = build();
    if (this.unitCacheFile && !this.errors.length) writeUnitCache(this.unitCacheFile, this.units, map);
    this.unitAddressMap = map;
    return map;
  }

  /** The section for a key, read piecewise from its file when large and possible. */
  section(key: SectionKey): SectionData | undefined {
    let s = this.sections.get(key);
    if (s !== undefined) return s ?? undefined;
    const names = [`.debug_${key}`, `.debug_${key}.dwo`];
    if (this.dwo) names.reverse();
    s = null;
    const p = this.provider as DwarfFileSections;
    for (const name of names) {
      const range = p.sectionFileRange?.(name);
      if (range && range.size >= (TABLE_SECTIONS.has(key) ? PIECEWISE_MIN_TABLES : PIECEWISE_MIN)) {
        let r = this.readers.get(range.path);
        if (!r) this.readers.set(range.path, (r = new FileReader(range.path)));
        s = fileSection(name, range, r);
        break;
      }
      let bytes: Uint8Array | undefined;
      try {
        bytes = p.section(name);
      } catch (err) {
        this.errors.push(err instanceof DwarfError ? err : new DwarfError('ERR_DWARF_IO', (err as Error).message, { file: this.path, section: name, cause: err }));
      }
      if (bytes) {
        s = memorySection(name, bytes);
        break;
      }
    }
    this.sections.set(key, s);
    return s ?? undefined;
  }

  /** Index of the unit containing a DIE of this file, or -1. */
  unitIndexOf(id: DieId): number {
    const best = lastAtOrBelow(this.keys, id);
    if (best < 0) return -1;
    const h = this.units[best]!;
    return dieIdSection(id) === h.section && dieIdOffset(id) < h.end ? best : -1;
  }

  /** The abbreviation table at a `.debug_abbrev` offset (cached). */
  abbrevs(offset: number): AbbrevTable {
    let t = this.abbrevCache.get(offset);
    if (t) return t;
    const sec = this.section('abbrev');
    if (!sec) throw new DwarfError('ERR_DWARF_FORMAT', 'no .debug_abbrev section', { file: this.path });
    const { value, reader } = parseAt(sec, offset, this.path, this.littleEndian, (r) => parseAbbrevTable(r, offset), 16384);
    reader.check();
    t = value;
    this.abbrevCache.set(offset, t, 1);
    return t;
  }

  /**
   * A unit: its bytes (read on first use, kept while recently used) and
   * abbreviations. The object is the unit's for good; symbols and types hold
   * it, not its bytes, which the cache may drop and read again. Throws
   * DwarfError.
   */
  unit(index: number): UnitBytes {
    let u = this.handles[index];
    if (!u) {
      const h = this.units[index];
      if (!h) throw new DwarfError('ERR_DWARF_UNIT', `no unit ${index}`, { file: this.path });
      const data = this.section(h.section === DieSection.types ? 'types' : 'info')!;
      u = new UnitHandle(h, this.abbrevs(h.abbrevOffset), this.littleEndian, this.path, data.name, () => {
        const bytes = data.read(h.offset, h.end - h.offset);
        this.unitCache.set(index, u!, bytes.length);
        return bytes;
      });
      this.handles[index] = u;
    } else this.unitCache.get(index);
    return u;
  }

  /** A reader over a unit's DIEs (one per unit while its bytes are kept, reused). */
  dies(index: number): DieReader {
    const u = this.unit(index);
    return (u.scratch.dies ??= new DieReader(u));
  }

  /**
   * The root DIE facts of a unit. Without the index (which records them), the
   * root DIE is read from the unit's first bytes, not the whole unit: mapping
   * addresses to units must not read all of `.debug_info`.
   */
  root(index: number): RootInfo {
    let r = this.roots[index];
    if (r) return r;
    const h = this.units[index];
    if (!h) throw new DwarfError('ERR_DWARF_UNIT', `no unit ${index}`, { file: this.path });
    let dr = this.handles[index]?.loaded ? this.handles[index]!.scratch.dies : undefined;
    if (!dr) {
      const data = this.section(h.section === DieSection.types ? 'types' : 'info')!;
      const head = data.read(h.offset, Math.min(h.end - h.offset, 4096));
      dr = new DieReader({ header: h, bytes: head, base: h.offset, abbrevs: this.abbrevs(h.abbrevOffset), littleEndian: this.littleEndian, file: this.path, sectionName: data.name, scratch: newScratch() });
      // A root DIE larger than the first bytes (or cut by them) is read from the whole unit.
      if (!dr.root() || dr.error) dr = this.dies(index);
    }
    const die = dr.root();
    if (!die) throw dr.error ?? new DwarfError('ERR_DWARF_FORMAT', 'unit without a root DIE', { file: this.path, offset: h.dieOffset });
    r = readRootInfo(die, (v, base) => this.stringWithBase(v, h, base));
    this.roots[index] = r;
    return r;
  }

  private stringWithBase(v: AttrValue, h: UnitHeader, strOffsetsBase: number | undefined): string | undefined {
    switch (v.kind) {
      case 'string': return v.value;
      case 'strp': {
        if (v.section === 'sup_str') return this.sup?.stringAtOffset('str', v.offset);
        return this.stringAtOffset(v.section === 'str' ? 'str' : 'line_str', v.offset);
      }
      case 'strx': {
        const so = this.section('str_offsets');
        if (!so) return undefined;
        const base = strOffsetsBase ?? (h.version >= 5 ? (h.offsetSize === 8 ? 16 : 8) : 0);
        const r = new Reader(so.all(), { file: this.path, section: so.name }, this.littleEndian);
        r.seek(base + v.index * h.offsetSize);
        const off = r.offsetOf(h.offsetSize);
        return r.error ? undefined : this.stringAtOffset('str', off);
      }
      default: return undefined;
    }
  }

  /** A string of a string section at an offset. */
  stringAtOffset(key: 'str' | 'line_str', offset: number): string | undefined {
    const s = this.section(key);
    return s ? stringAt(s.all(), offset) : undefined;
  }

  /** Resolves a string-class attribute value of a unit's DIE. */
  string(v: AttrValue | undefined, unit: number): string | undefined {
    if (!v) return undefined;
    if (v.kind === 'string') return v.value;
    const h = this.units[unit]!;
    return this.stringWithBase(v, h, v.kind === 'strx' ? this.root(unit).strOffsetsBase : undefined);
  }

  /** Entry `index` of a unit's `.debug_addr` table. */
  addrx(unit: number, index: number): bigint | undefined {
    const sec = this.section('addr');
    if (!sec) return undefined;
    const h = this.units[unit]!;
    const base = this.root(unit).addrBase ?? (h.version >= 5 ? (h.offsetSize === 8 ? 16 : 8) : 0);
    const at = base + index * h.addressSize;
    if (at + h.addressSize > sec.size) return undefined;
    const r = new Reader(sec.read(at, h.addressSize), { file: this.path, section: sec.name }, this.littleEndian, at);
    const a = r.address(h.addressSize);
    return r.error ? undefined : a;
  }

  /** Resolves an address-class attribute value (addr or addrx). */
  address(v: AttrValue | undefined, unit: number): bigint | undefined {
    if (!v) return undefined;
    if (v.kind === 'address') return v.value;
    if (v.kind === 'addrx') return this.addrx(unit, v.index);
    return undefined;
  }

  /** The base address of a unit for its lists: its DW_AT_low_pc, or 0. */
  baseAddress(unit: number): bigint {
    return this.address(this.root(unit).lowPc, unit) ?? 0n;
  }

  private listContext(unit: number): ListContext {
    const h = this.units[unit]!;
    return { addressSize: h.addressSize, baseAddress: this.baseAddress(unit), addrx: (i) => this.addrx(unit, i) };
  }

  private listOffset(unit: number, v: AttrValue, key: 'rnglists' | 'loclists'): number | undefined {
    const h = this.units[unit]!;
    if (v.kind === 'sec_offset') return v.offset;
    if (v.kind === 'const' && h.version < 4 && typeof v.value === 'number') return v.value;
    const index = v.kind === 'rnglistx' || v.kind === 'loclistx' ? v.index : undefined;
    if (index === undefined || h.version < 5) return undefined;
    const sec = this.section(key);
    if (!sec) return undefined;
    const root = this.root(unit);
    const base = (key === 'rnglists' ? root.rnglistsBase : root.loclistsBase) ?? (h.offsetSize === 8 ? 20 : 12);
    const { value, reader } = parseAt(sec, base + index * h.offsetSize, this.path, this.littleEndian, (r) => listOffsetAt(r, base, index, h.offsetSize), 16);
    if (reader.error) {
      this.errors.push(reader.error);
      return undefined;
    }
    return value;
  }

  /**
   * Resolves a range-list attribute (DW_AT_ranges) of a unit's DIE: DWARF 5
   * `.debug_rnglists` (offset or rnglistx) or DWARF 2-4 `.debug_ranges`.
   */
  ranges(unit: number, v: AttrValue): AddressRange[] {
    const h = this.units[unit]!;
    const v5 = h.version >= 5;
    let off = this.listOffset(unit, v, 'rnglists');
    if (off === undefined) return [];
    if (!v5 && v.kind === 'sec_offset') off += this.root(unit).gnuRangesBase ?? 0;
    const sec = this.section(v5 ? 'rnglists' : 'ranges');
    if (!sec) return [];
    const ctx = this.listContext(unit);
    const { value, reader } = parseAt(sec, off, this.path, this.littleEndian, (r) => (v5 ? parseRnglist(r, ctx) : parseRanges(r, ctx)));
    if (reader.error) this.errors.push(reader.error);
    return value;
  }

  /**
   * Resolves a location-list attribute of a unit's DIE: DWARF 5
   * `.debug_loclists`, DWARF 2-4 `.debug_loc`, or GNU split-DWARF
   * `.debug_loc.dwo`.
   */
  locationList(unit: number, v: AttrValue): LocationListEntry[] {
    const h = this.units[unit]!;
    const v5 = h.version >= 5;
    const off = this.listOffset(unit, v, 'loclists');
    if (off === undefined) return [];
    const sec = this.section(v5 ? 'loclists' : 'loc');
    if (!sec) return [];
    const ctx = this.listContext(unit);
    const parse = v5 ? parseLoclist : this.dwo ? parseLocGnuDwo : parseLoc;
    const { value, reader } = parseAt(sec, off, this.path, this.littleEndian, (r) => parse(r, ctx));
    if (reader.error) this.errors.push(reader.error);
    return value;
  }

  /** The address ranges a unit covers, from its root DIE. */
  unitRanges(unit: number): AddressRange[] {
    const root = this.root(unit);
    if (root.ranges) return this.ranges(unit, root.ranges);
    const lo = this.address(root.lowPc, unit);
    if (lo === undefined || !root.highPc) return [];
    const hi = root.highPc.kind === 'const' ? lo + BigInt(root.highPc.value) : this.address(root.highPc, unit);
    return hi !== undefined && hi > lo ? [{ start: lo, end: hi }] : [];
  }

  /**
   * The line program header of a unit (its file table), or undefined when it
   * has none. Read without running the program, and kept apart from the rows.
   */
  lineHeader(unit: number): LineHeader | undefined {
    const rows = this.lineCache.get(unit);
    if (rows) return rows.header;
    const cached = this.headerCache.get(unit);
    if (cached !== undefined) return cached ?? undefined;
    const root = this.root(unit);
    const sec = this.section('line');
    let h: LineHeader | null = null;
    if (sec && root.stmtList !== undefined) {
      const { value, reader } = parseAt(sec, root.stmtList, this.path, this.littleEndian, (r) => parseLineHeader(r, this.lineStrings(), root.compDir), 4096);
      if (reader.error) this.errors.push(reader.error);
      h = value ?? null;
    }
    this.headerCache.set(unit, h, 1);
    return h ?? undefined;
  }

  private lineStrings(): { str?: Uint8Array; lineStr?: Uint8Array } {
    const str = this.section('str')?.all();
    const lineStr = this.section('line_str')?.all();
    return { ...(str ? { str } : {}), ...(lineStr ? { lineStr } : {}) };
  }

  /** The rows of a unit's line program (cached), or undefined when it has none. */
  lineTable(unit: number): LineTable | undefined {
    const cached = this.lineCache.get(unit);
    if (cached !== undefined) return cached ?? undefined;
    const root = this.root(unit);
    const sec = this.section('line');
    let table: LineTable | null = null;
    if (sec && root.stmtList !== undefined) {
      const h = this.units[unit]!;
      const strs = this.lineStrings();
      const { value, reader } = parseAt(sec, root.stmtList, this.path, this.littleEndian, (r) => {
        const lh = parseLineHeader(r, strs, root.compDir);
        return lh ? runLineProgram(r, lh, h.addressSize) : undefined;
      }, 16384);
      if (reader.error) this.errors.push(reader.error);
      table = value ?? null;
    }
    this.lineCache.set(unit, table, table?.length ?? 1);
    return table ?? undefined;
  }

  /** True for a compile or partial unit (not a type or skeleton unit). */
  isCompileUnit(index: number): boolean {
    const t = this.units[index]!.unitType;
    return t === DW_UT.compile || t === DW_UT.partial || t === DW_UT.split_compile;
  }

  /** Releases file descriptors; the context stays usable (they reopen on demand). */
  close(): void {
    for (const r of this.readers.values()) r.close();
    this.unitCache.clear();
    for (const u of this.handles) u?.release();
    this.lineCache.clear();
    this.headerCache.clear();
  }
}

/**
 * A unit whose bytes can be let go: read again on the next use after the
 * unit cache dropped them, together with the readers made over them.
 */
class UnitHandle implements UnitBytes {
  readonly base: number;
  scratch = newScratch();
  private data: Uint8Array | undefined;

  constructor(
    readonly header: UnitHeader,
    readonly abbrevs: AbbrevTable,
    readonly littleEndian: boolean,
    readonly file: string,
    readonly sectionName: string,
    private readonly read: () => Uint8Array,
  ) {
    this.base = header.offset;
  }

  get bytes(): Uint8Array {
    return (this.data ??= this.read());
  }

  /** True while the bytes are in memory. */
  get loaded(): boolean {
    return this.data !== undefined;
  }

  /** Drops the bytes and the readers over them (readers still in use keep their copy). */
  release(): void {
    this.data = undefined;
    this.scratch = newScratch();
  }
}
