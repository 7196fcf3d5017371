/**
 * Looking one name up without an index: the scanner runs over every unit in
 * "match" mode, where a DIE's name is compared where it lies instead of
 * being interned.
 *
 * The linker stores each distinct string of `.debug_str` once (and may
 * share a suffix between strings), so a DIE is named `name` exactly when its
 * DW_FORM_strp offset is one of the places `name\0` occurs in the section:
 * those offsets are found first (a byte search of a few MB), and each
 * DIE's name costs one comparison. Inline names are compared byte by byte.
 * C++ names qualified by namespaces and classes are matched split at each
 * `::`: the scope's prefix must equal the part before, the DIE's own name
 * the part after.
 */
import { OffsetTable, utf8 } from './strings.js';

/** Which entries a lookup wants: types, or functions, variables and enumerators. */
export interface MatchWant {
  readonly types: boolean;
  readonly globals: boolean;
}

/** The name asked for, as the DIE in a scope with one prefix must spell it. */
export interface Leaf {
  readonly bytes: Uint8Array;
  readonly text: string;
  /** Offsets where `text\0` lies in .debug_str, .debug_line_str and the supplementary .debug_str. */
  readonly offsets: readonly [Offsets, Offsets, Offsets];
}

/** A small set of offsets: a few compared directly, many through a hash table. */
export class Offsets {
  private readonly few: Int32Array;
  private readonly many: OffsetTable | undefined;

  constructor(readonly list: readonly number[]) {
    this.few = Int32Array.from(list.length <= 8 ? list : []);
    if (list.length > 8) {
      this.many = new OffsetTable(list.length);
      for (const o of list) this.many.set(o, 0);
    }
  }

  has(offset: number): boolean {
    if (this.many) return this.many.get(offset) >= 0;
    const f = this.few;
    for (let i = 0; i < f.length; i++) if (f[i] === offset) return true;
    return false;
  }
}

/** Every offset where `needle` followed by a NUL lies in `hay`. */
function occurrences(hay: Uint8Array | undefined, needle: Uint8Array): number[] {
  if (!hay || needle.includes(0)) return [];
  const pattern = new Uint8Array(needle.length + 1);
  pattern.set(needle);
  const buf = Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength);
  const out: number[] = [];
  for (let i = buf.indexOf(pattern); i >= 0; i = buf.indexOf(pattern, i + 1)) out.push(i);
  return out;
}

/** The string sections a matcher searches. */
export interface MatchStrings {
  readonly str?: Uint8Array;
  readonly lineStr?: Uint8Array;
  readonly supStr?: Uint8Array;
}

/** Decides whether a DIE's name is the one looked up. */
export class NameMatcher {
  /** No offset at all. */
  static readonly none = new Offsets([]);

  private readonly leaves = new Map<string, Leaf | null>();

  constructor(
    readonly name: string,
    readonly want: MatchWant,
    private readonly strings: MatchStrings,
  ) {}

  /**
   * The leaf a DIE in a scope with this qualified prefix ('' at the top)
   * must be named, or null when no DIE there can match.
   */
  leafFor(prefix: string): Leaf | null {
    let leaf = this.leaves.get(prefix);
    if (leaf !== undefined) return leaf;
    leaf = null;
    const text = !this.want.types && !this.want.globals ? undefined : prefix === '' ? this.name : this.name.startsWith(`${prefix}::`) ? this.name.slice(prefix.length + 2) : undefined;
    if (text !== undefined) {
      const bytes = utf8(text);
      const s = this.strings;
      leaf = { bytes, text, offsets: [new Offsets(occurrences(s.str, bytes)), new Offsets(occurrences(s.lineStr, bytes)), new Offsets(occurrences(s.supStr, bytes))] };
    }
    this.leaves.set(prefix, leaf);
    return leaf;
  }

  /** The leaves a DIE can be named in some scope: the whole name, and what follows each `::`. */
  allLeaves(): Leaf[] {
    const out: Leaf[] = [];
    const top = this.leafFor('');
    if (top) out.push(top);
    for (let i = this.name.indexOf('::'); i >= 0; i = this.name.indexOf('::', i + 2)) {
      const leaf = this.leafFor(this.name.slice(0, i));
      if (leaf) out.push(leaf);
    }
    return out;
  }

  /** True when a name at `offset` of string space `space` (0 .debug_str, 1 .debug_line_str, 2 supplementary) is the leaf. */
  static offsetIs(leaf: Leaf, space: number, offset: number): boolean {
    return leaf.offsets[space]!.has(offset);
  }

  /** True when the inline name `b[start..end)` is the leaf. */
  static bytesAre(leaf: Leaf, b: Uint8Array, start: number, end: number): boolean {
    const t = leaf.bytes;
    if (end - start !== t.length) return false;
    for (let i = 0; i < t.length; i++) if (b[start + i] !== t[i]) return false;
    return true;
  }

  /** True when a decoded name is the leaf. */
  static textIs(leaf: Leaf, text: string): boolean {
    return leaf.text === text;
  }
}
