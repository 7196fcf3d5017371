import type { DebugAccess, HwDebugSpec } from '@stackdb/core';

/*
 * x86 DR7 layout: bit 2n enables slot n locally (the kernel's ptrace interface
 * ignores the global bits); bits 16+4n..17+4n hold its condition (00 execute,
 * 01 write, 11 read/write) and bits 18+4n..19+4n its length (00 one byte,
 * 01 two, 11 four, 10 eight). DR6 bits 0–3 say which slot triggered, bit 14 (BS)
 * that a single-step trapped.
 */

const RW: Record<DebugAccess, bigint> = { exec: 0n, write: 1n, readwrite: 3n };
const LEN: Record<HwDebugSpec['length'], bigint> = { 1: 0n, 2: 1n, 4: 3n, 8: 2n };

/** DR6 single-step bit. */
export const DR6_BS = 1n << 14n;

/** The bits of DR7 that belong to `slot`. */
export function dr7SlotMask(slot: number): bigint {
  const s = BigInt(slot);
  return (3n << (2n * s)) | (0xfn << (16n + 4n * s));
}

/** DR7 with `slot` programmed for `spec`, or cleared when `spec` is null; other slots keep their bits. */
export function dr7With(dr7: bigint, slot: number, spec: HwDebugSpec | null): bigint {
  const s = BigInt(slot);
  let v = dr7 & ~dr7SlotMask(slot);
  if (spec) {
    const len = spec.access === 'exec' ? 0n : LEN[spec.length];
    v |= (1n << (2n * s)) | (RW[spec.access] << (16n + 4n * s)) | (len << (18n + 4n * s));
  }
  return v;
}

/** Checks a request the way the CPU needs it: exec breakpoints are 1 byte; watchpoints are aligned to their length. */
export function validateHwSpec(spec: HwDebugSpec): string | undefined {
  if (spec.access === 'exec' && spec.length !== 1) return 'an execute breakpoint covers 1 byte';
  if (![1, 2, 4, 8].includes(spec.length)) return `length ${spec.length} is not 1, 2, 4 or 8`;
  if (spec.address % BigInt(spec.length) !== 0n) return `address 0x${spec.address.toString(16)} is not aligned to its length ${spec.length}`;
  return undefined;
}

/** Slots whose DR6 status bit is set, lowest first. */
export function triggeredSlots(dr6: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < 4; i++) if (dr6 & (1n << BigInt(i))) out.push(i);
  return out;
}
