import { DW_UT } from './constants.js';
import type { DwarfError } from '../errors.js';
import { Reader, type ReaderOrigin } from './reader.js';

/**
 * The DIE-bearing sections a DIE can live in: `.debug_info`, DWARF 4
 * `.debug_types`, and the supplementary (dwz) file's `.debug_info`.
 */
export const DieSection = { info: 0, types: 1, supInfo: 2 } as const;
export type DieSection = (typeof DieSection)[keyof typeof DieSection];

const SECTION_SCALE = 2 ** 44;

/**
 * A DIE's identity: its offset in its section, tagged with the section, so an
 * offset into `.debug_types` can never be mistaken for one into `.debug_info`.
 * For `.debug_info` DIEs it equals the plain section offset.
 */
export type DieId = number & { readonly __dieId: true };

/** Makes the id of the DIE at `offset` in `section`. */
export function dieId(section: DieSection, offset: number): DieId {
  return (section * SECTION_SCALE + offset) as DieId;
}
/** The section a DIE id points into. */
export function dieIdSection(id: DieId): DieSection {
  return Math.floor(id / SECTION_SCALE) as DieSection;
}
/** The section offset a DIE id points at. */
export function dieIdOffset(id: DieId): number {
  return id % SECTION_SCALE;
}

/** A unit header (DWARF 2-5, 32- or 64-bit), located but not parsed further. */
export interface UnitHeader {
  readonly section: DieSection;
  /** Section offset of the unit's initial length field. */
  readonly offset: number;
  /** Section offset just past the unit. */
  readonly end: number;
  /** Section offset of the first (root) DIE. */
  readonly dieOffset: number;
  readonly version: number;
  /** DW_UT_* (DWARF 5), or the equivalent for older units: compile, or type for `.debug_types`. */
  readonly unitType: number;
  readonly addressSize: number;
  readonly offsetSize: 4 | 8;
  readonly abbrevOffset: number;
  /** Type units: the signature and the section offset of the type DIE. */
  readonly typeSignature?: bigint;
  readonly typeOffset?: number;
  /** Skeleton and split units (DWARF 5 header, or GNU DW_AT_GNU_dwo_id in the root DIE). */
  readonly dwoId?: bigint;
}

/**
 * Reads the unit header at the reader's cursor and leaves the cursor at the
 * first DIE. Returns undefined (with the reader's error set) on a malformed
 * header. `typesSection` selects the DWARF 4 `.debug_types` layout.
 */
export function readUnitHeader(r: Reader, section: DieSection, typesSection: boolean, sectionSize = r.base + r.end): UnitHeader | undefined {
  const offset = r.offset;
  const { length, offsetSize } = r.initialLength();
  if (r.error) return undefined;
  const end = r.offset + length;
  if (end > sectionSize) {
    r.fail(`unit length 0x${length.toString(16)} runs past the end of the section`, offset);
    return undefined;
  }
  const version = r.u16();
  if (version < 2 || version > 5) {
    r.fail(`unsupported DWARF version ${version}`, offset + (offsetSize === 8 ? 12 : 4), 'ERR_DWARF_VERSION');
    return undefined;
  }
  let unitType: number = typesSection ? DW_UT.type : DW_UT.compile;
  let addressSize: number;
  let abbrevOffset: number;
  let typeSignature: bigint | undefined;
  let typeOffset: number | undefined;
  let dwoId: bigint | undefined;
  if (version >= 5) {
    unitType = r.u8();
    addressSize = r.u8();
    abbrevOffset = r.offsetOf(offsetSize);
    if (unitType === DW_UT.skeleton || unitType === DW_UT.split_compile) dwoId = r.u64();
    else if (unitType === DW_UT.type || unitType === DW_UT.split_type) {
      typeSignature = r.u64();
      typeOffset = offset + r.offsetOf(offsetSize);
    } else if (unitType !== DW_UT.compile && unitType !== DW_UT.partial) {
      r.fail(`unknown unit type 0x${unitType.toString(16)}`, offset);
      return undefined;
    }
  } else {
    abbrevOffset = r.offsetOf(offsetSize);
    addressSize = r.u8();
    if (typesSection) {
      typeSignature = r.u64();
      typeOffset = offset + r.offsetOf(offsetSize);
    }
  }
  if (r.error) return undefined;
  if (addressSize !== 1 && addressSize !== 2 && addressSize !== 4 && addressSize !== 8) {
    r.fail(`unsupported address size ${addressSize}`, offset);
    return undefined;
  }
  const dieOffset = r.offset;
  if (dieOffset > end) {
    r.fail('unit header longer than the unit', offset);
    return undefined;
  }
  if (typeOffset !== undefined && (typeOffset < dieOffset || typeOffset >= end)) {
    r.fail(`type unit's type offset 0x${typeOffset.toString(16)} outside the unit`, offset);
    return undefined;
  }
  return {
    section, offset, end, dieOffset, version, unitType, addressSize, offsetSize, abbrevOffset,
    ...(typeSignature !== undefined ? { typeSignature, typeOffset: typeOffset! } : {}),
    ...(dwoId !== undefined ? { dwoId } : {}),
  };
}

/**
 * Walks the unit headers of a DIE section without reading the units: each
 * step reads a header and jumps to the next unit. Stops at the first malformed
 * header, leaving the error on the reader. `read(offset, length)` returns
 * section bytes (a view or a positioned read), so only headers are touched.
 */
export function* unitHeaders(
  read: (offset: number, length: number) => Uint8Array,
  size: number,
  origin: ReaderOrigin,
  littleEndian: boolean,
  section: DieSection,
  typesSection: boolean,
): Generator<UnitHeader, DwarfError | undefined> {
  // Small units (a C library's thousands of them) are read a window at a time,
  // several headers a read; large ones (a kernel's) header by header.
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = 0;
  let lastUnit = Infinity;
  let off = 0;
  while (off < size) {
    const want = Math.min(HEADER_MAX, size - off);
    if (off < windowStart || off + want > windowStart + window.length) {
      window = read(off, lastUnit < HEADER_WINDOW / 8 ? Math.min(HEADER_WINDOW, size - off) : want);
      windowStart = off;
    }
    const r = new Reader(window.subarray(off - windowStart, off - windowStart + want), origin, littleEndian, off);
    const h = readUnitHeader(r, section, typesSection, size);
    if (!h) return r.error;
    yield h;
    if (h.end <= off) return undefined;
    lastUnit = h.end - off;
    off = h.end;
  }
  return undefined;
}

/** The longest unit header (DWARF 5 type unit, 64-bit offsets) fits in this. */
const HEADER_MAX = 40;
/** Bytes read at once while the units are small. */
const HEADER_WINDOW = 64 * 1024;
