/** Something that covers the addresses [start, end). */
export interface Interval {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * Non-overlapping intervals sorted by start, looked up by binary search. Where
 * inputs overlap (a malformed core), the one starting first (of equal starts,
 * the one given first) is kept and the other dropped.
 */
export class IntervalMap<T extends Interval> {
  private readonly items: T[];

  constructor(items: Iterable<T>) {
    const sorted = [...items].filter((i) => i.end > i.start);
    // A stable sort keeps input order among equal starts.
    sorted.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const kept: T[] = [];
    for (const it of sorted) {
      const prev = kept[kept.length - 1];
      if (prev && it.start < prev.end) continue;
      kept.push(it);
    }
    this.items = kept;
  }

  /** All intervals in address order. */
  get all(): readonly T[] {
    return this.items;
  }

  /** The interval containing `addr`. */
  find(addr: bigint): T | undefined {
    const i = this.upperIndex(addr) - 1;
    const it = this.items[i];
    return it && addr < it.end ? it : undefined;
  }

  /** The first interval starting after `addr`. */
  after(addr: bigint): T | undefined {
    return this.items[this.upperIndex(addr)];
  }

  /** Index of the first interval whose start is greater than `addr`. */
  private upperIndex(addr: bigint): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.start <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
