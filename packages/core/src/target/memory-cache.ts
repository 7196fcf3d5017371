import type { Addr } from './types.js';

/**
 * Caches target memory in aligned lines while the target is paused, so the
 * unwinder and value formatter, which read many small pieces of the same stack
 * and structures, pay one driver round trip per line instead of per read. The
 * target clears it on every resume, step and write.
 */
export class MemoryCache {
  private readonly lines = new Map<string, Uint8Array>();
  private readonly mask: bigint;

  /** @param lineSize a power of two. */
  constructor(readonly lineSize: number, readonly maxLines = 4096) {
    if (lineSize & (lineSize - 1)) throw new RangeError('cache line size must be a power of two');
    this.mask = ~BigInt(lineSize - 1);
  }

  /**
   * Fills `out` from cached lines, fetching missing whole lines with `fetchLine`.
   * Returns false when a line could not be fetched whole (the caller then reads
   * exactly what it needs, to learn precisely where memory ends).
   */
  async read(space: string, addr: Addr, out: Uint8Array, fetchLine: (lineAddr: Addr, buf: Uint8Array) => Promise<boolean>): Promise<boolean> {
    let done = 0;
    while (done < out.length) {
      const a = addr + BigInt(done);
      const lineAddr = a & this.mask;
      const key = `${space}:${lineAddr}`;
      let line = this.lines.get(key);
      if (!line) {
        const buf = new Uint8Array(this.lineSize);
        if (!(await fetchLine(lineAddr, buf))) return false;
        if (this.lines.size >= this.maxLines) this.lines.clear();
        this.lines.set(key, (line = buf));
      }
      const off = Number(a - lineAddr);
      const n = Math.min(this.lineSize - off, out.length - done);
      out.set(line.subarray(off, off + n), done);
      done += n;
    }
    return true;
  }

  clear(): void {
    this.lines.clear();
  }
}
