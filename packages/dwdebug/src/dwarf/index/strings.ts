/**
 * Names without strings: the index refers to a name by where its bytes are.
 *
 * Nearly every name in a DWARF file is a `DW_FORM_strp` into `.debug_str`,
 * where the linker stores each distinct string once. The scanner therefore
 * keys names by string-section offset and never decodes them; the merged
 * index hashes each distinct name's bytes once (FNV-1a) into a table of
 * typed arrays, and a lookup hashes the UTF-8 bytes of the name asked for.
 * Strings are decoded only for the names someone lists. The few names that
 * are not in a string section (inline `DW_FORM_string`, qualified C++ names,
 * names resolved through references) are carried as text.
 *
 * A name key is a number: a `.debug_str` offset as is, a `.debug_line_str`
 * offset plus 2^40, a supplementary `.debug_str` offset plus 2^41, and
 * -(1 + i) for the i-th name carried as text.
 */
import type { DwarfContext, SectionKey } from '../context.js';
import { decodeUtf8 } from '../reader.js';
import { grown } from './typed-arrays.js';

/** Key offset of `.debug_line_str` names. */
export const LINE_STR_KEY = 2 ** 40;
/** Key offset of names in the supplementary file's `.debug_str`. */
export const SUP_STR_KEY = 2 ** 41;

/** The string sections name keys point into. */
export interface NameStrings {
  readonly str?: Uint8Array;
  readonly lineStr?: Uint8Array;
  readonly supStr?: Uint8Array;
}

/** The string sections the names of a context's index point into. */
export function nameStrings(ctx: DwarfContext): NameStrings {
  const all = (k: SectionKey, c: DwarfContext | undefined = ctx) => c?.section(k)?.all();
  const out: { str?: Uint8Array; lineStr?: Uint8Array; supStr?: Uint8Array } = {};
  const str = all('str');
  const lineStr = all('line_str');
  const supStr = ctx.sup ? all('str', ctx.sup) : undefined;
  if (str) out.str = str;
  if (lineStr) out.lineStr = lineStr;
  if (supStr) out.supStr = supStr;
  return out;
}

/** End of the NUL-terminated string at `off` (the section's end when unterminated). */
export function cstringEnd(bytes: Uint8Array, off: number): number {
  const z = bytes.indexOf(0, off);
  return z < 0 ? bytes.length : z;
}

/** FNV-1a over bytes [start, end). */
export function fnv1a(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** FNV-1a of the NUL-terminated string at `off`. */
export function fnvCstring(b: Uint8Array, off: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0) break;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** The hash of a name given as text (the hash of its UTF-8 bytes). */
export function textHash(s: string): number {
  const b = utf8(s);
  return fnv1a(b, 0, b.length);
}

/**
 * The section a non-negative key points into, or undefined for a key into a
 * missing section or past its end; the offset is {@link keyOffset}.
 */
export function keySection(strings: NameStrings, key: number): Uint8Array | undefined {
  const bytes = key >= SUP_STR_KEY ? strings.supStr : key >= LINE_STR_KEY ? strings.lineStr : strings.str;
  return bytes && keyOffset(key) < bytes.length ? bytes : undefined;
}

/** The offset a non-negative key points at, in its section. */
export function keyOffset(key: number): number {
  return key >= SUP_STR_KEY ? key - SUP_STR_KEY : key >= LINE_STR_KEY ? key - LINE_STR_KEY : key;
}

/** Decodes the name a non-negative key points at. */
export function keyText(strings: NameStrings, key: number): string | undefined {
  const bytes = keySection(strings, key);
  const off = keyOffset(key);
  return bytes ? decodeUtf8(bytes, off, cstringEnd(bytes, off)) : undefined;
}

/**
 * A map from non-negative integers below 2^31 (string offsets) to ids: open
 * addressing over one Int32Array of (offset + 1, id) pairs, so a probe
 * touches one cache line and a fresh table needs no filling (a few MB for a
 * kernel's 140,000 names, where a Map would allocate per entry).
 */
export class OffsetTable {
  private slots: Int32Array;
  /** 32 - log2(number of slots): the hash's top bits pick the slot. */
  private shift: number;
  private size = 0;

  /** `expected`: about how many offsets will be stored. */
  constructor(expected = 1024) {
    let bits = 11;
    while (1 << bits < expected * 2) bits++;
    this.slots = new Int32Array(2 << bits);
    this.shift = 32 - bits;
  }

  /** The id stored for an offset, or -1. */
  get(offset: number): number {
    const slots = this.slots;
    const mask = slots.length - 2;
    const k1 = offset + 1;
    for (let i = (Math.imul(offset, 0x9e3779b1) >>> this.shift) << 1; ; i = (i + 2) & mask) {
      const k = slots[i]!;
      if (k === k1) return slots[i + 1]!;
      if (k === 0) return -1;
    }
  }

  /** Stores an id for an offset (offsets of 2^31 - 1 and above are not stored). */
  set(offset: number, id: number): void {
    if (offset >= 0x7fffffff || offset < 0) return;
    if ((this.size + 1) * 4 > this.slots.length) this.grow();
    this.put(offset, id);
  }

  private put(offset: number, id: number): void {
    const slots = this.slots;
    const mask = slots.length - 2;
    const k1 = offset + 1;
    for (let i = (Math.imul(offset, 0x9e3779b1) >>> this.shift) << 1; ; i = (i + 2) & mask) {
      const k = slots[i]!;
      if (k === 0 || k === k1) {
        if (k === 0) this.size++;
        slots[i] = k1;
        slots[i + 1] = id;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.shift--;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.put(old[i]! - 1, old[i + 1]!);
  }
}

/**
 * Distinct names by their bytes: ids 0..n-1, each with its key and the hash
 * of its bytes. Two keys with the same bytes (a name both inline and in
 * `.debug_str`, or stored twice) get one id.
 */
export class NameTable {
  /** Key of each id. */
  keys: Float64Array;
  /** Names carried as text, by -(key + 1). */
  readonly texts: string[] = [];
  private readonly textBytes: Uint8Array[] = [];
  private hashes: Uint32Array;
  private slots: Int32Array;
  private count = 0;
  /** Ids of keys seen: .debug_str offsets in a typed table, other keys in a map. */
  private readonly byOffset: OffsetTable;
  private readonly byKey = new Map<number, number>();

  constructor(readonly strings: NameStrings, capacity = 1024) {
    this.byOffset = new OffsetTable(capacity);
    const n = Math.max(16, capacity);
    this.keys = new Float64Array(n);
    this.hashes = new Uint32Array(n);
    let s = 16;
    while (s < n * 2) s *= 2;
    this.slots = new Int32Array(s);
  }

  /** Number of distinct names. */
  get size(): number {
    return this.count;
  }

  /**
   * The id of the name a key points at (added when new), or -1 for a key
   * into a missing section. `hash` is the hash of its bytes when the caller
   * knows it (the scanner computes it), else -1.
   */
  idOfKey(key: number, hash = -1): number {
    const known = key < 0x7fffffff ? this.byOffset.get(key) : this.byKey.get(key) ?? -1;
    if (known >= 0) return known;
    const bytes = keySection(this.strings, key);
    if (!bytes) return -1;
    const off = keyOffset(key);
    const h = hash >= 0 ? hash : fnvCstring(bytes, off);
    let id = this.find(h, bytes, off, -1);
    if (id < 0) id = this.add(key, h);
    if (key < 0x7fffffff) this.byOffset.set(key, id);
    else this.byKey.set(key, id);
    return id;
  }

  /** The id of a name given as text (added when new). */
  idOfText(text: string): number {
    const bytes = utf8(text);
    const h = fnv1a(bytes, 0, bytes.length);
    const id = this.find(h, bytes, 0, bytes.length);
    if (id >= 0) return id;
    this.texts.push(text);
    this.textBytes.push(bytes);
    return this.add(-this.texts.length, h);
  }

  /** The id of a name, or -1 when no key has these bytes. */
  lookup(name: string): number {
    const bytes = utf8(name);
    return this.find(fnv1a(bytes, 0, bytes.length), bytes, 0, bytes.length);
  }

  /** The name of an id, decoded. */
  text(id: number): string {
    const key = this.keys[id]!;
    return key < 0 ? this.texts[-key - 1]! : keyText(this.strings, key) ?? '';
  }

  /** The id whose bytes equal `b[start..end)` (`end` -1: up to a NUL), or -1. */
  private find(h: number, b: Uint8Array, start: number, end: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === 0) return -1;
      if (this.hashes[s - 1] === h && this.equals(s - 1, b, start, end < 0 ? cstringEnd(b, start) : end)) return s - 1;
    }
  }

  private equals(id: number, b: Uint8Array, start: number, end: number): boolean {
    const key = this.keys[id]!;
    let c: Uint8Array;
    let p: number;
    let q: number;
    if (key < 0) {
      c = this.textBytes[-key - 1]!;
      p = 0;
      q = c.length;
    } else {
      c = keySection(this.strings, key)!;
      p = keyOffset(key);
      q = cstringEnd(c, p);
    }
    if (q - p !== end - start) return false;
    for (let i = 0; i < end - start; i++) if (c[p + i] !== b[start + i]) return false;
    return true;
  }

  private add(key: number, h: number): number {
    const id = this.count++;
    if (id === this.keys.length) {
      this.keys = grown(this.keys, id * 2);
      this.hashes = grown(this.hashes, id * 2);
    }
    this.keys[id] = key;
    this.hashes[id] = h;
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.place(id, h);
    return id;
  }

  private place(id: number, h: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = id + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let id = 0; id < this.count; id++) this.place(id, this.hashes[id]!);
  }
}
