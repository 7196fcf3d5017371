import type { Reader } from './reader.js';

/** One `.debug_aranges` set: the address ranges of one unit. */
export interface ArangeSet {
  /** `.debug_info` offset of the unit. */
  readonly unitOffset: number;
  readonly ranges: { start: bigint; end: bigint }[];
}

/** Parses all of `.debug_aranges`. Stops at the first malformed set, leaving the error on the reader. */
export function parseAranges(r: Reader): ArangeSet[] {
  const out: ArangeSet[] = [];
  while (r.remaining > 0 && !r.error) {
    const setStart = r.pos;
    const { length, offsetSize } = r.initialLength();
    const end = r.pos + length;
    if (r.error) break;
    if (end > r.end) {
      r.fail('address range set runs past the end of the section', r.base + setStart);
      break;
    }
    const version = r.u16();
    const unitOffset = r.offsetOf(offsetSize);
    const addressSize = r.u8();
    const segSize = r.u8();
    if (r.error) break;
    if (version !== 2 || ![1, 2, 4, 8].includes(addressSize)) {
      // Unknown layout: skip the set rather than misread it.
      r.pos = end;
      continue;
    }
    const tuple = 2 * addressSize + segSize;
    // Tuples start at a multiple of the tuple size from the set's start.
    const pad = (tuple - ((r.pos - setStart) % tuple)) % tuple;
    r.skip(pad);
    const ranges: { start: bigint; end: bigint }[] = [];
    while (r.pos + tuple <= end && !r.error) {
      r.skip(segSize);
      const a = r.address(addressSize);
      const l = r.address(addressSize);
      if (a === 0n && l === 0n) break;
      if (l > 0n) ranges.push({ start: a, end: a + l });
    }
    out.push({ unitOffset, ranges });
    r.pos = end;
  }
  return out;
}
