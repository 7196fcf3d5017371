type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/** A copy of a typed array, of the same kind, `length` long (for growing one). */
export function grown<T extends TypedArray>(a: T, length: number): T {
  const out = new (a.constructor as new (length: number) => T)(length);
  out.set(a);
  return out;
}
