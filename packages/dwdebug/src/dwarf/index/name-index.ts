import type { DieId } from '../unit.js';
import { Dedup, type ScanOutput } from './scan.js';

/** One entry of the name index. */
export interface IndexEntry {
  readonly die: DieId;
  readonly tag: number;
  /** {@link EntryFlag} bits. */
  readonly flags: number;
}

/** The arrays a {@link NameIndex} is made of. */
export interface NameIndexArrays {
  readonly names: string[];
  readonly start: Uint32Array;
  readonly die: Float64Array;
  readonly tag: Uint16Array;
  readonly flags: Uint8Array;
}

/**
 * The global name index of one file: names to DIEs, in flat typed arrays
 * sorted by name id (entries of one name are contiguous, in DIE order). A
 * kernel's index is about 175,000 entries under 140,000 names.
 */
export class NameIndex {
  private constructor(
    private readonly names: string[],
    private readonly byName: Map<string, number>,
    private readonly start: Uint32Array,
    private readonly die: Float64Array,
    private readonly tag: Uint16Array,
    private readonly flags: Uint8Array,
  ) {}

  /** The index's arrays, for the on-disk cache. */
  toArrays(): NameIndexArrays {
    return { names: this.names, start: this.start, die: this.die, tag: this.tag, flags: this.flags };
  }

  /** Rebuilds an index from {@link NameIndex.toArrays}. */
  static fromArrays(a: NameIndexArrays): NameIndex {
    const byName = new Map<string, number>();
    a.names.forEach((n, i) => byName.set(n, i));
    return new NameIndex(a.names, byName, a.start, a.die, a.tag, a.flags);
  }

  /** Number of distinct names. */
  get nameCount(): number {
    return this.names.length;
  }

  /** Number of entries. */
  get size(): number {
    return this.die.length;
  }

  /** The entries filed under an exact name. */
  lookup(name: string): IndexEntry[] {
    const id = this.byName.get(name);
    if (id === undefined) return [];
    const out: IndexEntry[] = [];
    for (let i = this.start[id]!; i < this.start[id + 1]!; i++) out.push({ die: this.die[i]! as DieId, tag: this.tag[i]!, flags: this.flags[i]! });
    return out;
  }

  /** Every (name, entry), in name-id order. */
  *entries(): Generator<[string, IndexEntry]> {
    for (let id = 0; id < this.names.length; id++) {
      for (let i = this.start[id]!; i < this.start[id + 1]!; i++) yield [this.names[id]!, { die: this.die[i]! as DieId, tag: this.tag[i]!, flags: this.flags[i]! }];
    }
  }

  /**
   * Merges per-thread scan outputs: names are unified, the cross-thread
   * duplicates the per-thread dedup could not see are dropped with the same
   * rules, and the entries are laid out by name (a counting sort).
   */
  static merge(outputs: readonly ScanOutput[]): NameIndex {
    const names: string[] = [];
    const byName = new Map<string, number>();
    const dedup = new Dedup();
    let total = 0;
    for (const o of outputs) total += o.count;
    const gid = new Uint32Array(total);
    const die = new Float64Array(total);
    const tag = new Uint16Array(total);
    const flags = new Uint8Array(total);
    let n = 0;
    for (const o of outputs) {
      const remap = new Int32Array(o.names.length).fill(-1);
      for (let i = 0; i < o.count; i++) {
        const local = o.nameOf[i]!;
        let g = remap[local]!;
        if (g < 0) {
          const s = o.names[local]!;
          const known = byName.get(s);
          if (known === undefined) {
            g = names.length;
            names.push(s);
            byName.set(s, g);
          } else g = known;
          remap[local] = g;
        }
        if (outputs.length > 1 && !dedup.keep(g, o.tag[i]!, o.flags[i]!, o.declKey[i]!)) continue;
        gid[n] = g;
        die[n] = o.die[i]!;
        tag[n] = o.tag[i]!;
        flags[n] = o.flags[i]!;
        n++;
      }
    }
    // Counting sort by name id, then DIE order within a name (threads finish units in any order).
    const start = new Uint32Array(names.length + 1);
    for (let i = 0; i < n; i++) start[gid[i]! + 1]!++;
    for (let i = 0; i < names.length; i++) start[i + 1]! += start[i]!;
    const fill = start.slice(0, names.length);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[fill[gid[i]!]!++] = i;
    for (let id = 0; id < names.length; id++) {
      const a = start[id]!;
      const b = start[id + 1]!;
      if (b - a > 1) order.subarray(a, b).sort((x, y) => die[x]! - die[y]!);
    }
    const sd = new Float64Array(n);
    const st = new Uint16Array(n);
    const sf = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const k = order[i]!;
      sd[i] = die[k]!;
      st[i] = tag[k]!;
      sf[i] = flags[k]!;
    }
    return new NameIndex(names, byName, start, sd, st, sf);
  }
}
