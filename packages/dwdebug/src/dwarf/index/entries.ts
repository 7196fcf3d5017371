/**
 * What an index entry is, and when two entries are the same: the entry
 * flags, the tags filed under type names, and the deduplication rules the
 * scanner applies per thread and the merge applies across threads.
 *
 * A struct defined by a header in 500 units is kept once per (name, tag,
 * declaring file, line), a declaration once per (name, tag). Definitions of
 * functions and variables are all kept: static functions of the same name in
 * several units are distinct.
 */
import { DW_TAG } from '../constants.js';

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

/** 1 for the tags the index files under type names. */
export const TYPE_TAG = new Uint8Array(0x10000);
for (const t of [DW_TAG.base_type, DW_TAG.typedef, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.class_type, DW_TAG.enumeration_type, DW_TAG.unspecified_type]) TYPE_TAG[t] = 1;

/** True for tags the index files under type names. */
export function isTypeTag(tag: number): boolean {
  return TYPE_TAG[tag] === 1;
}

/** Small numbers for the indexed tags, for dedup bitmaps. */
const TAG_SLOT = new Uint8Array(0x10000).fill(15);
[DW_TAG.base_type, DW_TAG.typedef, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.class_type, DW_TAG.enumeration_type,
  DW_TAG.unspecified_type, DW_TAG.enumerator, DW_TAG.subprogram, DW_TAG.variable].forEach((t, i) => (TAG_SLOT[t] = i));

/** Entries of this kind are all kept. */
export const DEDUP_NONE = 0;
/** Kept once per (name, tag): declarations. */
export const DEDUP_NAME = 1;
/** Kept once per (name, tag, declaring file and line): types, enumerators, abstract functions. */
export const DEDUP_DECL = 2;

const TAG_enumerator = DW_TAG.enumerator;

/** How an index entry of this tag and these flags is deduplicated. */
export function dedupKind(tag: number, flags: number): number {
  const isType = TYPE_TAG[tag] === 1;
  const defined = (flags & EntryFlag.defined) !== 0;
  if (flags & EntryFlag.declaration || (!isType && tag !== TAG_enumerator && !defined && !(flags & EntryFlag.abstract))) return DEDUP_NAME;
  if (isType || tag === TAG_enumerator || !defined) return DEDUP_DECL;
  return DEDUP_NONE;
}

/** Mixes a declaring-file hash with a line into one dedup key (never 0). */
export function declKeyOf(fileHash: number, line: number): number {
  return (Math.imul(fileHash ^ 0x9e3779b9, 31) + line) >>> 0 || 1;
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
