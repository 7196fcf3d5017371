import { sizeOf, type DwarfType, type LocationResult, type SimpleLocation } from '@stackdb/dwdebug';
import type { RegisterSet } from '../arch/register-set.js';
import { NotSupportedError, StackdbError } from '../errors.js';
import type { Target } from '../target/target.js';
import type { Addr } from '../target/types.js';

/**
 * Why a value has no bytes: `optimized-out` (it does not exist at this pc),
 * `unavailable` (it exists but this frame cannot recover it: a register the
 * unwinder lost, unreadable memory), `not-in-scope` (the pc is outside the
 * lexical scope that declares it).
 */
export type ValueStatus = 'ok' | 'optimized-out' | 'unavailable' | 'not-in-scope';

/** Where a value lives, for writing it back. */
export type ValueLocation =
  | { readonly kind: 'memory'; readonly address: Addr }
  | { readonly kind: 'register'; readonly register: string }
  /** Computed by the debug info (a constant, DW_OP_stack_value, pieces): not writable. */
  | { readonly kind: 'computed' }
  /** DW_OP_implicit_pointer: a pointer to a variable that has no address. */
  | { readonly kind: 'implicit-pointer'; readonly die: number; readonly offset: bigint };

/**
 * Bits of an `ok` value that are missing after all: an optimizing compiler
 * may keep some members of a variable and drop others (a composite location
 * with empty pieces). One bit per bit of the value, least significant first.
 */
export interface ValueGaps {
  readonly optimizedOut: Uint8Array;
  readonly unavailable: Uint8Array;
}

/** A typed value of a target, with its bytes (little-endian, as in memory) when it has them. */
export interface Value {
  readonly type: DwarfType;
  readonly status: ValueStatus;
  /** For a status other than ok: the reason, for humans. */
  readonly reason?: string;
  /** The value's bytes (its type's size) when ok. */
  readonly bytes?: Uint8Array;
  readonly location?: ValueLocation;
  /** For an ok value assembled from pieces: the bits no piece could give (formatted as gdb does, member by member). */
  readonly gaps?: ValueGaps;
}

/** Whether any bit in [from, from + count) is set in a bitmap. */
export function anyBit(map: Uint8Array, from: number, count: number): boolean {
  for (let b = from; b < from + count; b++) if ((map[b >> 3]! >> (b & 7)) & 1) return true;
  return false;
}

/** A value without bytes. */
export function missingValue(type: DwarfType, status: Exclude<ValueStatus, 'ok'>, reason?: string): Value {
  return reason === undefined ? { type, status } : { type, status, reason };
}

/** Bytes of a register as it sits in a register set (little-endian, register width). */
export function registerBytes(regs: RegisterSet, dwarf: number): Uint8Array | undefined {
  const desc = regs.arch.findRegister(dwarf);
  if (!desc) return undefined;
  const v = regs.get(desc);
  if (v === undefined) return undefined;
  const out = new Uint8Array(desc.size);
  let x = v;
  for (let i = 0; i < desc.size; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Fits `bytes` to `size`: truncated, or zero-extended. */
function fit(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.length === size) return bytes;
  const out = new Uint8Array(size);
  out.set(bytes.subarray(0, size));
  return out;
}

async function simpleBytes(target: Target, loc: SimpleLocation, regs: RegisterSet, size: number): Promise<{ bytes?: Uint8Array; status: ValueStatus; reason?: string; location?: ValueLocation }> {
  switch (loc.kind) {
    case 'memory': {
      const buf = new Uint8Array(size);
      const n = await target.readInto(loc.address, buf).catch(() => 0);
      if (n < size) return { status: 'unavailable', reason: `cannot access memory at 0x${(loc.address + BigInt(n)).toString(16)}`, location: { kind: 'memory', address: loc.address } };
      return { bytes: buf, status: 'ok', location: { kind: 'memory', address: loc.address } };
    }
    case 'register': {
      const b = registerBytes(regs, loc.dwarf);
      const name = regs.arch.findRegister(loc.dwarf)?.name ?? `DW${loc.dwarf}`;
      if (!b) return { status: 'unavailable', reason: `register ${name} is not available in this frame` };
      return { bytes: fit(b, size), status: 'ok', location: { kind: 'register', register: name } };
    }
    case 'value':
      return { bytes: fit(loc.bytes, size), status: 'ok', location: { kind: 'computed' } };
    case 'implicit-pointer':
      return { status: 'ok', bytes: new Uint8Array(size), location: { kind: 'implicit-pointer', die: loc.die, offset: loc.offset } };
    case 'optimized-out':
      return { status: 'optimized-out' };
    case 'unavailable':
      return { status: 'unavailable', reason: loc.reason };
  }
}

/**
 * Loads a value of `type` from an evaluated location. Composite (pieced)
 * locations are assembled bit by bit; bits whose piece is empty (optimized
 * out), could not be read, or that no piece covers are recorded in the value's
 * gaps. A value with no bit at all is missing as a whole.
 */
export async function loadValue(target: Target, type: DwarfType, loc: LocationResult, regs: RegisterSet): Promise<Value> {
  const size = sizeOf(type) ?? 0;
  if (loc.kind !== 'pieces') {
    const r = await simpleBytes(target, loc, regs, size);
    return { type, ...r };
  }
  const out = new Uint8Array(size);
  const optimizedOut = new Uint8Array(size);
  const unavailable = new Uint8Array(size);
  const mark = (map: Uint8Array, from: number, count: number) => {
    for (let b = from; b < Math.min(from + count, size * 8); b++) map[b >> 3]! |= 1 << (b & 7);
  };
  let bit = 0;
  let got = 0;
  let reason: string | undefined;
  for (const p of loc.pieces) {
    const pieceBytes = Math.ceil((p.bitOffset + p.bitSize) / 8);
    const r = await simpleBytes(target, p.location, regs, pieceBytes);
    if (r.status !== 'ok' || !r.bytes) {
      mark(r.status === 'optimized-out' ? optimizedOut : unavailable, bit, p.bitSize);
      reason ??= r.reason;
      bit += p.bitSize;
      continue;
    }
    for (let i = 0; i < p.bitSize && bit < size * 8; i++, bit++, got++) {
      const from = p.bitOffset + i;
      if ((r.bytes[from >> 3]! >> (from & 7)) & 1) out[bit >> 3]! |= 1 << (bit & 7);
    }
  }
  // Bits past the last piece do not exist in this frame.
  mark(optimizedOut, bit, size * 8 - bit);
  if (got === 0) {
    const status = anyBit(unavailable, 0, size * 8) ? 'unavailable' : 'optimized-out';
    return { type, status, ...(reason ? { reason } : {}), location: { kind: 'computed' } };
  }
  const partial = anyBit(optimizedOut, 0, size * 8) || anyBit(unavailable, 0, size * 8);
  return { type, status: 'ok', bytes: out, location: { kind: 'computed' }, ...(partial ? { gaps: { optimizedOut, unavailable } } : {}) };
}

/** Loads a value of `type` stored in memory at `address`. */
export function loadMemoryValue(target: Target, type: DwarfType, address: Addr, regs: RegisterSet): Promise<Value> {
  return loadValue(target, type, { kind: 'memory', address }, regs);
}

/**
 * Writes new bytes into a value's location (memory or a register of the
 * thread the value came from). Computed values cannot be written.
 */
export async function writeValue(target: Target, value: Value, bytes: Uint8Array, thread?: { setRegister(name: string, v: bigint): Promise<void> }): Promise<void> {
  const size = sizeOf(value.type) ?? bytes.length;
  if (bytes.length !== size) throw new StackdbError('ERR_VALUE_SIZE', `a ${size}-byte value cannot take ${bytes.length} bytes`);
  const loc = value.location;
  if (loc?.kind === 'memory') return target.write(loc.address, bytes);
  if (loc?.kind === 'register' && thread) {
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    return thread.setRegister(loc.register, v);
  }
  throw new NotSupportedError(`writing a value that lives ${loc?.kind === 'register' ? 'in a register of an unknown thread' : 'nowhere (it is computed)'}`, target.driver);
}
