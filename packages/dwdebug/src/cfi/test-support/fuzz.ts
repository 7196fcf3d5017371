/** Deterministic mutation helpers for the fuzz tests. */

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** One random mutation: flip bytes, overwrite with extreme values, truncate, or insert. */
export function mutate(data: Uint8Array, rnd: () => number): Uint8Array {
  const out = new Uint8Array(data);
  const kind = Math.floor(rnd() * 4);
  const at = Math.floor(rnd() * Math.max(1, out.length));
  if (kind === 0) {
    for (let i = 0; i < 1 + Math.floor(rnd() * 4); i++) out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
    return out;
  }
  if (kind === 1) {
    for (let i = at; i < Math.min(out.length, at + 1 + Math.floor(rnd() * 8)); i++) out[i] = rnd() < 0.5 ? 0xff : 0x80;
    return out;
  }
  if (kind === 2) return out.subarray(0, at);
  const ins = new Uint8Array(out.length + 4);
  ins.set(out.subarray(0, at));
  ins.set([0xff, 0x7f, 0x80, 0x00].map(() => Math.floor(rnd() * 256)), at);
  ins.set(out.subarray(at), at + 4);
  return ins;
}
