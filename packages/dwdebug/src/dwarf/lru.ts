/**
 * A small least-recently-used cache bounded by a total weight (bytes, rows):
 * keeps the units and line tables a session is working on without letting a
 * walk over a whole kernel keep all of them. A hit only stamps the entry
 * (lookups are far more frequent than evictions); eviction drops the oldest
 * stamps.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; weight: number; stamp: number }>();
  private total = 0;
  private clock = 0;

  constructor(
    private readonly maxWeight: number,
    /** Told of each entry dropped to make room. */
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    e.stamp = ++this.clock;
    return e.value;
  }

  set(key: K, value: V, weight: number): void {
    const old = this.map.get(key);
    if (old) this.total -= old.weight;
    this.map.set(key, { value, weight, stamp: ++this.clock });
    this.total += weight;
    if (this.total > this.maxWeight && this.map.size > 1) this.evict();
  }

  /** Drops the least recently used entries until the total is a quarter below the bound. */
  private evict(): void {
    const byAge = [...this.map.entries()].sort((a, b) => a[1].stamp - b[1].stamp);
    const target = this.maxWeight * 0.75;
    for (const [k, e] of byAge) {
      if (this.total <= target || this.map.size <= 1) break;
      this.map.delete(k);
      this.total -= e.weight;
      this.onEvict?.(k, e.value);
    }
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
