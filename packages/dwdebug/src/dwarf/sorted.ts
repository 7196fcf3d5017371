/** The last index in `lo..hi` whose value in the ascending `sorted` is at most `x`, or `lo - 1` when there is none. */
export function lastAtOrBelow(sorted: ArrayLike<number>, x: number, lo = 0, hi = sorted.length - 1): number {
  let best = lo - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}
