/**
 * Which units can hold a DIE with a given name, found without reading any
 * DIE: a byte search.
 *
 * A DIE named `name` holds, among its bytes, either a string offset where
 * `name\0` lies (DW_FORM_strp and its `.debug_line_str` and supplementary
 * variants, 4 bytes) or `name\0` itself (DW_FORM_string). A unit whose bytes
 * contain none of these cannot hold such a DIE; a unit that does is scanned
 * as usual (a byte match may be data, and only the scan knows). The search
 * is native (`Buffer.indexOf`, several GB/s), so a name the kernel mentions
 * in five units out of 2,352 is found after reading the section once.
 *
 * It cannot see names behind an index (DW_FORM_strx, whose offsets sit in
 * `.debug_str_offsets`), 8-byte offsets, or DIEs named by a reference into
 * another unit; files that may have those are scanned whole. A name with
 * many possible offsets (a short or common suffix) would cost one search
 * each: those are scanned whole too, and so is the rest of a file once most
 * units turn out to mention the name.
 *
 * The search also says where a unit's last match lies: a lookup of a type
 * (which no DIE names by reference) stops reading a unit there. A kernel
 * header type such as `struct task_struct` is mentioned by 1,837 units, but
 * always early: 9.5 MB of their 174 MB are read.
 */
import type { UnitHeader } from '../unit.js';
import type { NameMatcher } from './match.js';
import { lastAtOrBelow } from '../sorted.js';

/** At most this many 4-byte offsets are searched (each costs one pass over the bytes). */
const MAX_OFFSETS = 8;
/** Node's `indexOf` is fast for short needles: a longer name is searched by its last bytes, then checked. */
const ANCHOR = 7;

// The attribute/form pairs of a reference into another unit naming a DIE (specification or
// abstract origin by ref_addr; with a supplementary file also GNU_ref_alt and ref_sup4/8), as
// they look in .debug_abbrev. Bytes that only look like one make the file scanned whole.
const CROSS_REFS = [[0x47, 0x10], [0x31, 0x10]].map((b) => Uint8Array.from(b));
const SUP_REFS = [[0x47, 0xa0, 0x3e], [0x31, 0xa0, 0x3e], [0x47, 0x1c], [0x31, 0x1c], [0x47, 0x24], [0x31, 0x24]].map((b) => Uint8Array.from(b));

/** The byte patterns to look for in units' bytes, or undefined when the file must be scanned whole. */
export class UnitPrefilter {
  private constructor(
    private readonly offsets: readonly Uint8Array[],
    private readonly inline: readonly { anchor: Uint8Array; whole: Uint8Array }[],
  ) {}

  /**
   * The prefilter for a name, or undefined when the name or the file needs
   * a whole scan (see the module comment).
   */
  static for(matcher: NameMatcher, units: readonly UnitHeader[], littleEndian: boolean, abbrev: Uint8Array | undefined, hasStrOffsets: boolean, hasSup: boolean): UnitPrefilter | undefined {
    if (hasStrOffsets || !abbrev || units.some((u) => u.offsetSize !== 4)) return undefined;
    const ab = Buffer.from(abbrev.buffer, abbrev.byteOffset, abbrev.byteLength);
    if ([...CROSS_REFS, ...(hasSup ? SUP_REFS : [])].some((p) => ab.indexOf(p) >= 0)) return undefined;
    const offsets = new Set<number>();
    const inline: { anchor: Uint8Array; whole: Uint8Array }[] = [];
    for (const leaf of matcher.allLeaves()) {
      for (const o of leaf.offsets) for (const v of o.list) offsets.add(v);
      if (leaf.bytes.length === 0 || leaf.bytes.includes(0)) return undefined;
      const whole = new Uint8Array(leaf.bytes.length + 1);
      whole.set(leaf.bytes);
      inline.push({ anchor: whole.subarray(Math.max(0, whole.length - ANCHOR)), whole });
    }
    if (offsets.size > MAX_OFFSETS) return undefined;
    const patterns = [...offsets].map((v) => {
      const p = new Uint8Array(4);
      new DataView(p.buffer).setUint32(0, v, littleEndian);
      return p;
    });
    return new UnitPrefilter(patterns, inline);
  }

  /** Number of byte offsets searched for. */
  get offsetCount(): number {
    return this.offsets.length;
  }

  /**
   * For the units of a run read in one piece (`bytes` holds them, unit `k`
   * from `starts[k]` to `starts[k + 1]`), sets `last[k]` to the end of the
   * unit's last match relative to the unit, or leaves it at -1 when it has
   * none.
   */
  mark(bytes: Uint8Array, starts: readonly number[], last: Int32Array): void {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const found = (s: number, len: number) => {
      const k = unitOf(starts, s);
      const end = s + len - starts[k]!;
      if (end > last[k]!) last[k] = end;
    };
    for (const p of this.offsets) for (let i = buf.indexOf(p); i >= 0; i = buf.indexOf(p, i + 1)) found(i, p.length);
    for (const { anchor, whole } of this.inline) {
      const back = whole.length - anchor.length;
      for (let i = buf.indexOf(anchor); i >= 0; i = buf.indexOf(anchor, i + 1)) {
        const s = i - back;
        if (s < 0) continue;
        let same = true;
        for (let j = 0; j < back && same; j++) same = buf[s + j] === whole[j];
        if (same) found(s, whole.length);
      }
    }
  }
}

/** The unit (by position in `starts`) holding byte `pos`. */
function unitOf(starts: readonly number[], pos: number): number {
  return Math.max(0, lastAtOrBelow(starts, pos, 0, starts.length - 2));
}
