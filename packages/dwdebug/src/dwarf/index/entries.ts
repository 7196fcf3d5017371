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
import { grown } from './typed-arrays.js';

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
const TAG_SLOT = new Uint8Array(0x10000).fill(14);
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
 * the first (tag slot, declaration key) of a name is kept in flat arrays,
 * further ones in maps. It remembers which entry was kept for each set of
 * duplicates, so the caller can keep the one first in the file whatever
 * order units were scanned in (the same entry then whichever threads
 * scanned, and whether the index or a scan for one name answers).
 */
export class Dedup {
  private nameSlot = new Uint8Array(1024);
  private nameEntry = new Int32Array(1024);
  private declSlot = new Uint8Array(1024);
  private declKey = new Uint32Array(1024);
  private declEntry = new Int32Array(1024);
  private readonly moreNames = new Map<number, number>();
  private readonly moreDecls = new Map<number, Map<number, number>>();

  /**
   * The entry kept earlier with the same properties, or -1 when there is
   * none (then `entry`, the caller's number for this one, is recorded as
   * kept). `kind` is {@link dedupKind} of the tag and flags, when the caller
   * has it.
   */
  seen(nameId: number, tag: number, flags: number, declKey: number, entry: number, kind = dedupKind(tag, flags)): number {
    if (kind === DEDUP_NONE) return -1;
    if (nameId >= this.nameSlot.length) this.grow(nameId);
    const slot = TAG_SLOT[tag]! + 1;
    if (kind === DEDUP_NAME) {
      if (this.nameSlot[nameId] === 0) {
        this.nameSlot[nameId] = slot;
        this.nameEntry[nameId] = entry;
        return -1;
      }
      if (this.nameSlot[nameId] === slot) return this.nameEntry[nameId]!;
      const k = nameId * 16 + slot;
      const prev = this.moreNames.get(k);
      if (prev !== undefined) return prev;
      this.moreNames.set(k, entry);
      return -1;
    }
    if (this.declSlot[nameId] === 0) {
      this.declSlot[nameId] = slot;
      this.declKey[nameId] = declKey;
      this.declEntry[nameId] = entry;
      return -1;
    }
    if (this.declSlot[nameId] === slot && this.declKey[nameId] === declKey) return this.declEntry[nameId]!;
    const k = nameId * 16 + slot;
    let more = this.moreDecls.get(k);
    if (!more) this.moreDecls.set(k, (more = new Map()));
    const prev = more.get(declKey);
    if (prev !== undefined) return prev;
    more.set(declKey, entry);
    return -1;
  }

  private grow(nameId: number): void {
    const n = Math.max(nameId + 1, this.nameSlot.length * 2);
    this.nameSlot = grown(this.nameSlot, n);
    this.nameEntry = grown(this.nameEntry, n);
    this.declSlot = grown(this.declSlot, n);
    this.declKey = grown(this.declKey, n);
    this.declEntry = grown(this.declEntry, n);
  }
}
