import type { DieId } from '../unit.js';
import { Dedup } from './entries.js';
import type { ScanOutput } from './scan.js';
import { NameTable, type NameStrings } from './strings.js';

/** One entry of the name index. */
export interface IndexEntry {
  readonly die: DieId;
  readonly tag: number;
  /** {@link EntryFlag} bits. */
  readonly flags: number;
}

/** The arrays a {@link NameIndex} is made of (names by key, see strings.ts). */
export interface NameIndexArrays {
  /** Key of each name id. */
  readonly keys: Float64Array;
  /** Names carried as text, for keys -1, -2, … */
  readonly texts: string[];
  readonly start: Uint32Array;
  readonly die: Float64Array;
  readonly tag: Uint16Array;
  readonly flags: Uint8Array;
}

/**
 * The global name index of one file: names to DIEs, in flat typed arrays
 * sorted by name id (entries of one name are contiguous, in DIE order). A
 * kernel's index is about 175,000 entries under 140,000 names. Names are
 * found by the hash of their bytes and decoded only when listed.
 */
export class NameIndex {
  private constructor(
    private readonly names: NameTable,
    private readonly start: Uint32Array,
    private readonly die: Float64Array,
    private readonly tag: Uint16Array,
    private readonly flags: Uint8Array,
  ) {}

  /** The index's arrays, for the on-disk cache. */
  toArrays(): NameIndexArrays {
    return { keys: this.names.keys.slice(0, this.names.size), texts: this.names.texts, start: this.start, die: this.die, tag: this.tag, flags: this.flags };
  }

  /**
   * Rebuilds an index from {@link NameIndex.toArrays} over the same string
   * sections; undefined when the arrays do not fit them.
   */
  static fromArrays(a: NameIndexArrays, strings: NameStrings): NameIndex | undefined {
    const table = new NameTable(strings, a.keys.length);
    for (let i = 0; i < a.keys.length; i++) {
      const key = a.keys[i]!;
      const id = key < 0 ? table.idOfText(a.texts[-key - 1] ?? '') : table.idOfKey(key);
      if (id !== i) return undefined;
    }
    if (a.start.length !== a.keys.length + 1) return undefined;
    return new NameIndex(table, a.start, a.die, a.tag, a.flags);
  }

  /** Number of distinct names. */
  get nameCount(): number {
    return this.names.size;
  }

  /** Number of entries. */
  get size(): number {
    return this.die.length;
  }

  /** The entries filed under an exact name. */
  lookup(name: string): IndexEntry[] {
    const id = this.names.lookup(name);
    if (id < 0) return [];
    const out: IndexEntry[] = [];
    for (let i = this.start[id]!; i < this.start[id + 1]!; i++) out.push({ die: this.die[i]! as DieId, tag: this.tag[i]!, flags: this.flags[i]! });
    return out;
  }

  /** Every (name, entry), in name-id order. */
  *entries(): Generator<[string, IndexEntry]> {
    for (let id = 0; id < this.names.size; id++) {
      if (this.start[id] === this.start[id + 1]) continue;
      const name = this.names.text(id);
      for (let i = this.start[id]!; i < this.start[id + 1]!; i++) yield [name, { die: this.die[i]! as DieId, tag: this.tag[i]!, flags: this.flags[i]! }];
    }
  }

  /**
   * Merges per-thread scan outputs: names are unified by their bytes, the
   * duplicates the per-thread dedup could not see (across threads, or a name
   * both inline and in a string section) are dropped with the same rules,
   * and the entries are laid out by name (a counting sort).
   */
  static merge(outputs: readonly ScanOutput[], strings: NameStrings): NameIndex {
    let total = 0;
    let names = 0;
    for (const o of outputs) {
      total += o.count;
      names += o.keys.length;
    }
    const table = new NameTable(strings, outputs.length === 1 ? names : names >> 1);
    const gid = new Uint32Array(total);
    const die = new Float64Array(total);
    const tag = new Uint16Array(total);
    const flags = new Uint8Array(total);
    const n = gather(outputs, table, gid, die, tag, flags);
    const start = new Uint32Array(table.size + 1);
    const order = sortByName(gid, die, n, start);
    const sd = new Float64Array(n);
    const st = new Uint16Array(n);
    const sf = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const k = order[i]!;
      sd[i] = die[k]!;
      st[i] = tag[k]!;
      sf[i] = flags[k]!;
    }
    return new NameIndex(table, start, sd, st, sf);
  }
}

/**
 * Copies the entries of all outputs, giving names global ids and dropping
 * duplicates (keeping the first in the file); returns how many were kept.
 * Names get ids in the order the threads met them.
 */
function gather(outputs: readonly ScanOutput[], table: NameTable, gid: Uint32Array, die: Float64Array, tag: Uint16Array, flags: Uint8Array): number {
  const dedup = new Dedup();
  let n = 0;
  for (const o of outputs) {
    const remap = new Int32Array(o.keys.length).fill(-2);
    for (let i = 0; i < o.count; i++) {
      const local = o.nameOf[i]!;
      let g = remap[local]!;
      if (g === -2) {
        const key = o.keys[local]!;
        g = key < 0 ? table.idOfText(o.texts[-key - 1]!) : table.idOfKey(key, o.hashes[local]!);
        remap[local] = g;
      }
      if (g < 0) continue;
      const prev = dedup.seen(g, o.tag[i]!, o.flags[i]!, o.declKey[i]!, n);
      if (prev >= 0) {
        // Equivalent entries: keep the one first in the file.
        if (o.die[i]! < die[prev]!) {
          die[prev] = o.die[i]!;
          flags[prev] = o.flags[i]!;
        }
        continue;
      }
      gid[n] = g;
      die[n] = o.die[i]!;
      tag[n] = o.tag[i]!;
      flags[n] = o.flags[i]!;
      n++;
    }
  }
  return n;
}

/**
 * Orders entries by name id (a stable counting sort: `start` receives each
 * name's first position), then by DIE within a name: most names have one
 * entry, and a name's few are sorted by insertion (a long run by sort()).
 */
function sortByName(gid: Uint32Array, die: Float64Array, n: number, start: Uint32Array): Uint32Array {
  const count = start.length - 1;
  for (let i = 0; i < n; i++) start[gid[i]! + 1]!++;
  for (let i = 0; i < count; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, count);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[fill[gid[i]!]!++] = i;
  for (let id = 0; id < count; id++) {
    const a = start[id]!;
    const b = start[id + 1]!;
    if (b - a > 32) {
      order.subarray(a, b).sort((x, y) => die[x]! - die[y]!);
      continue;
    }
    for (let i = a + 1; i < b; i++) {
      const x = order[i]!;
      let j = i - 1;
      while (j >= a && die[order[j]!]! > die[x]!) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = x;
    }
  }
  return order;
}
