import { DW_LLE, DW_LLE_GNU, DW_RLE } from './constants.js';
import type { Reader } from './reader.js';

/** A half-open address range [start, end) of link-time addresses. */
export interface AddressRange {
  readonly start: bigint;
  readonly end: bigint;
}

/** One entry of a location list: where the expression holds, and the expression. */
export interface LocationListEntry {
  /** Link-time start address (inclusive). A default entry (DW_LLE_default_location) spans the whole address space. */
  readonly start: bigint;
  /** Link-time end address (exclusive). */
  readonly end: bigint;
  /** The DWARF expression, as raw bytes (a view into the section). */
  readonly expr: Uint8Array;
  /** True for a DW_LLE_default_location entry, which applies where no other entry does. */
  readonly isDefault?: boolean;
}

/** What decoding a list needs from its unit. */
export interface ListContext {
  readonly addressSize: number;
  /** The unit's base address (its DW_AT_low_pc), for offset entries. */
  readonly baseAddress: bigint;
  /** Resolves a `.debug_addr` index of the unit; undefined when the index is out of range. */
  addrx(index: number): bigint | undefined;
}

const MAX_ENTRIES = 1_000_000;

function maxAddress(size: number): bigint {
  return (1n << BigInt(size * 8)) - 1n;
}

function addrxOrFail(r: Reader, ctx: ListContext, index: number): bigint {
  const a = ctx.addrx(index);
  if (a === undefined) r.fail(`.debug_addr index ${index} out of range`);
  return a ?? 0n;
}

/** Parses a DWARF 2-4 `.debug_ranges` list at the reader's cursor. */
export function parseRanges(r: Reader, ctx: ListContext): AddressRange[] {
  const out: AddressRange[] = [];
  const max = maxAddress(ctx.addressSize);
  let base = ctx.baseAddress;
  for (let n = 0; n < MAX_ENTRIES && !r.atEnd; n++) {
    const a = r.address(ctx.addressSize);
    const b = r.address(ctx.addressSize);
    if (r.error) break;
    if (a === 0n && b === 0n) break;
    if (a === max) {
      base = b;
      continue;
    }
    if (b > a) out.push({ start: (base + a) & max, end: (base + b) & max });
  }
  return out;
}

/** Parses a DWARF 5 `.debug_rnglists` list at the reader's cursor. */
export function parseRnglist(r: Reader, ctx: ListContext): AddressRange[] {
  const out: AddressRange[] = [];
  const max = maxAddress(ctx.addressSize);
  let base = ctx.baseAddress;
  const push = (s: bigint, e: bigint) => {
    if (e > s) out.push({ start: s & max, end: e & max });
  };
  for (let n = 0; n < MAX_ENTRIES && !r.atEnd; n++) {
    const kind = r.u8();
    switch (kind) {
      case DW_RLE.end_of_list: return out;
      case DW_RLE.base_addressx: base = addrxOrFail(r, ctx, r.uleb()); break;
      case DW_RLE.startx_endx: {
        const s = addrxOrFail(r, ctx, r.uleb());
        push(s, addrxOrFail(r, ctx, r.uleb()));
        break;
      }
      case DW_RLE.startx_length: {
        const s = addrxOrFail(r, ctx, r.uleb());
        push(s, s + r.ulebBig());
        break;
      }
      case DW_RLE.offset_pair: {
        const s = r.ulebBig();
        const e = r.ulebBig();
        push(base + s, base + e);
        break;
      }
      case DW_RLE.base_address: base = r.address(ctx.addressSize); break;
      case DW_RLE.start_end: {
        const s = r.address(ctx.addressSize);
        push(s, r.address(ctx.addressSize));
        break;
      }
      case DW_RLE.start_length: {
        const s = r.address(ctx.addressSize);
        push(s, s + r.ulebBig());
        break;
      }
      default:
        r.fail(`unknown range list entry kind ${kind}`, r.offset - 1);
        return out;
    }
  }
  return out;
}

/** Parses a DWARF 2-4 `.debug_loc` list at the reader's cursor. */
export function parseLoc(r: Reader, ctx: ListContext): LocationListEntry[] {
  const out: LocationListEntry[] = [];
  const max = maxAddress(ctx.addressSize);
  let base = ctx.baseAddress;
  for (let n = 0; n < MAX_ENTRIES && !r.atEnd; n++) {
    const a = r.address(ctx.addressSize);
    const b = r.address(ctx.addressSize);
    if (r.error) break;
    if (a === 0n && b === 0n) break;
    if (a === max) {
      base = b;
      continue;
    }
    const expr = r.bytesN(r.u16());
    if (r.error) break;
    out.push({ start: (base + a) & max, end: (base + b) & max, expr });
  }
  return out;
}

/**
 * Parses a GNU split-DWARF (DWARF 4 `.debug_loc.dwo`) list: entries name
 * addresses by `.debug_addr` index and carry 2-byte expression lengths.
 */
export function parseLocGnuDwo(r: Reader, ctx: ListContext): LocationListEntry[] {
  const out: LocationListEntry[] = [];
  let base = ctx.baseAddress;
  for (let n = 0; n < MAX_ENTRIES && !r.atEnd; n++) {
    const kind = r.u8();
    let start: bigint, end: bigint;
    switch (kind) {
      case DW_LLE_GNU.end_of_list_entry: return out;
      case DW_LLE_GNU.base_address_selection_entry: base = addrxOrFail(r, ctx, r.uleb()); continue;
      case DW_LLE_GNU.start_end_entry:
        start = addrxOrFail(r, ctx, r.uleb());
        end = addrxOrFail(r, ctx, r.uleb());
        break;
      case DW_LLE_GNU.start_length_entry:
        start = addrxOrFail(r, ctx, r.uleb());
        end = start + BigInt(r.u32());
        break;
      case DW_LLE.offset_pair:
        start = base + BigInt(r.u32());
        end = base + BigInt(r.u32());
        break;
      default:
        r.fail(`unknown split location list entry kind ${kind}`, r.offset - 1);
        return out;
    }
    const expr = r.bytesN(r.u16());
    if (r.error) break;
    out.push({ start, end, expr });
  }
  return out;
}

/** Parses a DWARF 5 `.debug_loclists` list at the reader's cursor. */
export function parseLoclist(r: Reader, ctx: ListContext): LocationListEntry[] {
  const out: LocationListEntry[] = [];
  const max = maxAddress(ctx.addressSize);
  let base = ctx.baseAddress;
  for (let n = 0; n < MAX_ENTRIES && !r.atEnd; n++) {
    const kind = r.u8();
    let start: bigint, end: bigint;
    let isDefault = false;
    switch (kind) {
      case DW_LLE.end_of_list: return out;
      case DW_LLE.base_addressx: base = addrxOrFail(r, ctx, r.uleb()); continue;
      case DW_LLE.base_address: base = r.address(ctx.addressSize); continue;
      case DW_LLE.startx_endx:
        start = addrxOrFail(r, ctx, r.uleb());
        end = addrxOrFail(r, ctx, r.uleb());
        break;
      case DW_LLE.startx_length:
        start = addrxOrFail(r, ctx, r.uleb());
        end = start + r.ulebBig();
        break;
      case DW_LLE.offset_pair:
        start = base + r.ulebBig();
        end = base + r.ulebBig();
        break;
      case DW_LLE.default_location:
        start = 0n;
        end = max;
        isDefault = true;
        break;
      case DW_LLE.start_end:
        start = r.address(ctx.addressSize);
        end = r.address(ctx.addressSize);
        break;
      case DW_LLE.start_length:
        start = r.address(ctx.addressSize);
        end = start + r.ulebBig();
        break;
      default:
        r.fail(`unknown location list entry kind ${kind}`, r.offset - 1);
        return out;
    }
    const expr = r.bytesN(r.uleb());
    if (r.error) break;
    out.push(isDefault ? { start, end, expr, isDefault } : { start: start & max, end: end & max, expr });
  }
  return out;
}

/**
 * Reads entry `index` of the offsets array that follows a DWARF 5
 * `.debug_rnglists`/`.debug_loclists` header; `base` is the unit's
 * DW_AT_rnglists_base/DW_AT_loclists_base (the array's start). Returns the
 * section offset of the list.
 */
export function listOffsetAt(r: Reader, base: number, index: number, offsetSize: 4 | 8): number {
  r.seek(base + index * offsetSize);
  const rel = r.offsetOf(offsetSize);
  return base + rel;
}
