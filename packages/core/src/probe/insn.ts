/*
 * Just enough x86-64 decoding to skip a call: the length of a `call`
 * instruction (E8 rel32, or FF /2 with any ModRM/SIB/displacement form),
 * after legacy prefixes (operand/address size, segment, notrack, bnd) and REX.
 */

const LEGACY_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf2, 0xf3]);

/** The length of the call instruction at the start of `bytes`, or undefined when it is not a call. */
export function callInstructionLength(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length && LEGACY_PREFIXES.has(bytes[i]!) && i < 4) i++;
  if (i < bytes.length && (bytes[i]! & 0xf0) === 0x40) i++;
  const op = bytes[i];
  if (op === 0xe8) return i + 5;
  if (op !== 0xff) return undefined;
  const modrm = bytes[i + 1];
  if (modrm === undefined || ((modrm >> 3) & 7) !== 2) return undefined;
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let len = i + 2;
  if (mod === 3) return len;
  if (rm === 4) {
    const sib = bytes[len];
    if (sib === undefined) return undefined;
    len++;
    // SIB with no base register and mod 0: a 32-bit displacement follows.
    if (mod === 0 && (sib & 7) === 5) return len + 4;
  } else if (mod === 0 && rm === 5) {
    return len + 4; // rip-relative
  }
  if (mod === 1) len += 1;
  else if (mod === 2) len += 4;
  return len;
}
