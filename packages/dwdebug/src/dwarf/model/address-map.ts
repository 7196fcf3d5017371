/**
 * Address → unit and address → function maps: sorted interval arrays with a
 * running maximum of interval ends, so overlapping intervals (sections that
 * were discarded at link time and left at address 0, or units that
 * interleave) are all found by one binary search and a short backward walk.
 */
import type { AddressRange } from '../lists.js';

/** Intervals [start, end) carrying an integer payload. */
export class IntervalMap {
  private constructor(
    private readonly starts: BigUint64Array,
    private readonly ends: BigUint64Array,
    private readonly maxEnd: BigUint64Array,
    private readonly values: Int32Array,
  ) {}

  /** Builds from (range, value) pairs; empty ranges are dropped. */
  static build(items: readonly { range: AddressRange; value: number }[]): IntervalMap {
    const kept = items.filter((i) => i.range.end > i.range.start);
    kept.sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : a.value - b.value));
    const n = kept.length;
    const starts = new BigUint64Array(n);
    const ends = new BigUint64Array(n);
    const maxEnd = new BigUint64Array(n);
    const values = new Int32Array(n);
    let m = 0n;
    kept.forEach((it, i) => {
      starts[i] = it.range.start;
      ends[i] = it.range.end;
      values[i] = it.value;
      if (it.range.end > m) m = it.range.end;
      maxEnd[i] = m;
    });
    return new IntervalMap(starts, ends, maxEnd, values);
  }

  /** Rebuilds a map from {@link toArrays}' output (intervals in start order). */
  static fromArrays(a: { starts: BigUint64Array; ends: BigUint64Array; values: Int32Array }): IntervalMap {
    const n = a.values.length;
    if (a.starts.length !== n || a.ends.length !== n) throw new RangeError('interval arrays of different lengths');
    const maxEnd = new BigUint64Array(n);
    let m = 0n;
    for (let i = 0; i < n; i++) {
      if (i && a.starts[i]! < a.starts[i - 1]!) throw new RangeError('intervals out of order');
      if (a.ends[i]! > m) m = a.ends[i]!;
      maxEnd[i] = m;
    }
    return new IntervalMap(a.starts, a.ends, maxEnd, a.values);
  }

  /** The intervals as arrays, for storing. */
  toArrays(): { starts: BigUint64Array; ends: BigUint64Array; values: Int32Array } {
    return { starts: this.starts, ends: this.ends, values: this.values };
  }

  get size(): number {
    return this.values.length;
  }

  /** Values of every interval containing `addr`, the one starting closest below `addr` first. */
  find(addr: bigint): number[] {
    let lo = 0;
    let hi = this.starts.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= addr) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const out: number[] = [];
    for (; i >= 0 && this.maxEnd[i]! > addr; i--) {
      if (this.ends[i]! > addr && !out.includes(this.values[i]!)) out.push(this.values[i]!);
    }
    return out;
  }

  /** Every interval, in start order. */
  *entries(): Generator<{ start: bigint; end: bigint; value: number }> {
    for (let i = 0; i < this.values.length; i++) yield { start: this.starts[i]!, end: this.ends[i]!, value: this.values[i]! };
  }
}
