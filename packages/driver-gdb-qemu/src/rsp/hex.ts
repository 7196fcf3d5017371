/*
 * Hex helpers for RSP payloads. Payloads are bytes; requests are built as
 * latin1 strings (every byte maps to one char), so conversions never lose data.
 */

const HEX = '0123456789abcdef';

/** Lower-case hex of bytes, two digits each. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

/** Hex of a string's UTF-8 bytes (file names, monitor commands). */
export function textToHex(text: string): string {
  return toHex(Buffer.from(text, 'utf8'));
}

/** Value of one hex digit, or -1. */
export function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** True when `s` is a non-empty string of hex digits. */
export function isHex(s: string): boolean {
  return /^[0-9a-fA-F]+$/.test(s);
}

/** Bytes from hex text; undefined when the text is not an even run of hex digits. */
export function fromHex(text: string | Uint8Array): Uint8Array | undefined {
  const src = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  if (src.length % 2) return undefined;
  const out = new Uint8Array(src.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexDigit(src[2 * i]!);
    const lo = hexDigit(src[2 * i + 1]!);
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Decodes hex text of a string (UTF-8), or undefined. */
export function hexToText(text: string): string | undefined {
  const b = fromHex(text);
  return b && Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** A big-endian hex number (addresses, lengths, thread ids). */
export function parseHexBig(text: string): bigint | undefined {
  return isHex(text) ? BigInt(`0x${text}`) : undefined;
}

/** A small big-endian hex number, or undefined. */
export function parseHexInt(text: string): number | undefined {
  if (!isHex(text) || text.length > 13) return undefined;
  return parseInt(text, 16);
}

/** Hex of a non-negative number or bigint, no leading zeros. */
export function hexNum(n: number | bigint): string {
  return n.toString(16);
}

/** Little-endian bytes of an unsigned value of `size` bytes. */
export function leBytes(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Unsigned value of little-endian bytes. */
export function leValue(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** The payload as a latin1 string (one char per byte). */
export function bytesToLatin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A latin1 string as bytes. */
export function latin1ToBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** Concatenates byte arrays into one plain Uint8Array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
