/*
 * Floating-point values printed as gdb prints them: C's `%.Ng` with N = 9
 * for binary32, 17 for binary64 and 21 for the x87 80-bit format, so that the
 * text reads back to the same value. The decimal digits are computed exactly
 * from the binary value (mantissa × 2^exponent, as bigints) and rounded half to
 * even, as glibc's printf does, which a JS Number could not do for the 80-bit
 * format.
 */

/** Significant digits gdb prints for a float of this many bytes. */
export function floatDigits(size: number): number {
  return size === 4 ? 9 : size === 8 ? 17 : 21;
}

/** A finite binary value: (-1)^negative × mantissa × 2^exponent. */
interface BinaryFloat {
  readonly negative: boolean;
  readonly mantissa: bigint;
  readonly exponent: number;
}

type Decoded = BinaryFloat | { readonly special: 'inf' | 'nan'; readonly negative: boolean; readonly payload: bigint };

/** Decodes IEEE binary32/binary64 or x87 extended (10 bytes, or padded to 12/16) little-endian bytes. */
export function decodeFloat(bytes: Uint8Array, off: number, size: number): Decoded | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + off, size);
  if (size === 4 || size === 8) {
    const bits = size === 4 ? BigInt(dv.getUint32(0, true)) : dv.getBigUint64(0, true);
    const mBits = size === 4 ? 23n : 52n;
    const eBits = size === 4 ? 8n : 11n;
    const bias = size === 4 ? 127 : 1023;
    const negative = (bits >> (mBits + eBits)) !== 0n;
    const e = Number((bits >> mBits) & ((1n << eBits) - 1n));
    const m = bits & ((1n << mBits) - 1n);
    if (e === Number((1n << eBits) - 1n)) return m === 0n ? { special: 'inf', negative, payload: 0n } : { special: 'nan', negative, payload: m };
    if (e === 0) return { negative, mantissa: m, exponent: 1 - bias - Number(mBits) };
    return { negative, mantissa: m | (1n << mBits), exponent: e - bias - Number(mBits) };
  }
  if (size >= 10) {
    const m = dv.getBigUint64(0, true);
    const se = dv.getUint16(8, true);
    const negative = (se & 0x8000) !== 0;
    const e = se & 0x7fff;
    if (e === 0x7fff) return (m << 1n) & ((1n << 64n) - 1n) ? { special: 'nan', negative, payload: m & ((1n << 62n) - 1n) } : { special: 'inf', negative, payload: 0n };
    return { negative, mantissa: m, exponent: (e === 0 ? 1 : e) - 16383 - 63 };
  }
  return undefined;
}

/** Exact decimal digits of mantissa × 2^exponent: an integer string and the power of ten it is scaled by. */
function exactDecimal(mantissa: bigint, exponent: number): { digits: string; scale: number } {
  if (exponent >= 0) return { digits: (mantissa << BigInt(exponent)).toString(), scale: 0 };
  // mantissa / 2^-e = mantissa × 5^-e / 10^-e
  return { digits: (mantissa * 5n ** BigInt(-exponent)).toString(), scale: exponent };
}

/** C's `%.{precision}g` of a finite binary value. */
function formatG(v: BinaryFloat, precision: number): string {
  const sign = v.negative ? '-' : '';
  if (v.mantissa === 0n) return `${sign}0`;
  const { digits, scale } = exactDecimal(v.mantissa, v.exponent);
  // value = digits × 10^scale; its decimal exponent is (digits.length - 1 + scale).
  let exp10 = digits.length - 1 + scale;
  let sig = digits.slice(0, precision);
  const rest = digits.slice(precision);
  if (rest.length) {
    const first = rest.charCodeAt(0) - 48;
    const tail = /[1-9]/.test(rest.slice(1));
    const last = sig.charCodeAt(sig.length - 1) - 48;
    if (first > 5 || (first === 5 && (tail || last % 2 === 1))) {
      const up = (BigInt(sig) + 1n).toString();
      if (up.length > sig.length) {
        exp10++;
        sig = up.slice(0, precision);
      } else sig = up;
    }
  }
  sig = sig.padEnd(precision, '0');
  if (exp10 < -4 || exp10 >= precision) {
    const m = `${sig[0]}.${sig.slice(1)}`.replace(/\.?0+$/, '');
    return `${sign}${m}e${exp10 < 0 ? '-' : '+'}${String(Math.abs(exp10)).padStart(2, '0')}`;
  }
  let text: string;
  if (exp10 >= 0) text = `${sig.slice(0, exp10 + 1)}.${sig.slice(exp10 + 1)}`;
  else text = `0.${'0'.repeat(-exp10 - 1)}${sig}`;
  return sign + text.replace(/\.?0+$/, '').replace(/^$/, '0');
}

/** A float of `size` bytes as gdb prints it (`1.5`, `-2.25`, `9.80908925e-45`, `inf`, `-nan(0x400000)`). */
export function formatFloatValue(bytes: Uint8Array, off: number, size: number): string {
  const d = decodeFloat(bytes, off, size);
  if (!d) return `<${size}-byte float>`;
  if ('special' in d) return `${d.negative ? '-' : ''}${d.special === 'inf' ? 'inf' : `nan(0x${d.payload.toString(16)})`}`;
  return formatG(d, floatDigits(size));
}
