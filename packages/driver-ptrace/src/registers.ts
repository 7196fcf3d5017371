import { RegisterSet, type Arch, type RegisterDesc } from '@stackdb/core';

/** Field order of `struct user_regs_struct` (x86-64), 8 bytes each. */
export const USER_REGS_FIELDS = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi',
  'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
] as const;

/** Size of `struct user_regs_struct`. */
export const USER_REGS_SIZE = USER_REGS_FIELDS.length * 8;
/** Size of `struct user_fpregs_struct` (the FXSAVE image). */
export const USER_FPREGS_SIZE = 512;

const RIP_OFFSET = USER_REGS_FIELDS.indexOf('rip') * 8;

/** Debug registers as `getDebugRegs` fills them (index = DR number). */
export const DEBUG_REGS = [0, 1, 2, 3, 6, 7] as const;

/** Names of the registers carried by the FXSAVE image. */
const FP_NAMES = new Set(['fctrl', 'fstat', 'mxcsr', ...Array.from({ length: 8 }, (_, i) => `st${i}`), ...Array.from({ length: 16 }, (_, i) => `xmm${i}`)]);
const GPR_NAMES = new Set<string>(USER_REGS_FIELDS);

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The program counter from a `user_regs_struct` image. */
export function pcOf(gpr: Uint8Array): bigint {
  return view(gpr).getBigUint64(RIP_OFFSET, true);
}

/** Writes the program counter into a `user_regs_struct` image. */
export function setPc(gpr: Uint8Array, pc: bigint): void {
  view(gpr).setBigUint64(RIP_OFFSET, pc, true);
}

function readLE(b: Uint8Array, off: number, len: number): bigint {
  let v = 0n;
  for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]!);
  return v;
}

function writeLE(b: Uint8Array, off: number, len: number, v: bigint): void {
  for (let i = 0; i < len; i++) {
    b[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * Builds a RegisterSet from the kernel's images: general registers
 * (`user_regs_struct`), the FXSAVE image (x87 stack in ST(i) order, MXCSR,
 * XMM0–15) and the debug registers DR0–3, DR6, DR7.
 */
export function toRegisterSet(arch: Arch, gpr: Uint8Array, fp: Uint8Array | undefined, dr: BigUint64Array | undefined): RegisterSet {
  const set = new RegisterSet(arch);
  const g = view(gpr);
  USER_REGS_FIELDS.forEach((name, i) => set.set(name, g.getBigUint64(i * 8, true)));
  if (fp) setFp(set, fp);
  if (dr) for (const i of DEBUG_REGS) set.set(`dr${i}`, dr[i]!);
  return set;
}

function setFp(set: RegisterSet, fp: Uint8Array): void {
  const f = view(fp);
  set.set('fctrl', BigInt(f.getUint16(0, true)));
  set.set('fstat', BigInt(f.getUint16(2, true)));
  set.set('mxcsr', BigInt(f.getUint32(24, true)));
  for (let i = 0; i < 8; i++) set.set(`st${i}`, readLE(fp, 32 + i * 16, 10));
  for (let i = 0; i < 16; i++) set.set(`xmm${i}`, readLE(fp, 160 + i * 16, 16));
}

/**
 * A thread's registers whose FP/SSE part is read from the kernel only when
 * one of those registers is first asked for: most stops (probe hits,
 * unwinding) need the general registers alone, and PTRACE_GETFPREGS plus
 * decoding 24 wide registers would double the cost of a hit.
 */
export class LazyFpRegisterSet extends RegisterSet {
  private loadFp: (() => Uint8Array) | undefined;

  constructor(arch: Arch, gpr: Uint8Array, dr: BigUint64Array | undefined, loadFp: () => Uint8Array) {
    super(arch);
    const g = view(gpr);
    USER_REGS_FIELDS.forEach((name, i) => this.set(name, g.getBigUint64(i * 8, true)));
    if (dr) for (const i of DEBUG_REGS) this.set(`dr${i}`, dr[i]!);
    this.loadFp = loadFp;
  }

  private fill(): void {
    const load = this.loadFp;
    if (!load) return;
    this.loadFp = undefined;
    setFp(this, load());
  }

  private fillFor(id: string | number | RegisterDesc): void {
    if (!this.loadFp) return;
    const d = typeof id === 'object' ? id : this.arch.findRegister(id);
    if (d && (d.group === 'fp' || d.group === 'vector')) this.fill();
  }

  override get(id: string | number | RegisterDesc): bigint | undefined {
    this.fillFor(id);
    return super.get(id);
  }

  override require(id: string | number | RegisterDesc): bigint {
    this.fillFor(id);
    return super.require(id);
  }

  override *entries(): IterableIterator<[RegisterDesc, bigint]> {
    this.fill();
    yield* super.entries();
  }

  override clone(): RegisterSet {
    this.fill();
    return super.clone();
  }
}

/** Which kernel images a change to `names` touches. */
export function touchedGroups(names: readonly string[]): { gpr: boolean; fp: boolean; dr: number[] } {
  const dr: number[] = [];
  let gpr = false;
  let fp = false;
  for (const n of names) {
    if (GPR_NAMES.has(n)) gpr = true;
    else if (FP_NAMES.has(n)) fp = true;
    else if (/^dr[0-7]$/.test(n)) dr.push(Number(n.slice(2)));
    else throw new RangeError(`register ${n} cannot be written through ptrace`);
  }
  return { gpr, fp, dr };
}

/** Writes the general registers of `set` into a `user_regs_struct` image (unknown ones keep `into`'s values). */
export function gprFromSet(set: RegisterSet, into: Uint8Array): void {
  const g = view(into);
  USER_REGS_FIELDS.forEach((name, i) => {
    const v = set.get(name);
    if (v !== undefined) g.setBigUint64(i * 8, v, true);
  });
}

/** Writes the FP/SSE registers of `set` into an FXSAVE image (unknown ones keep `into`'s values). */
export function fpFromSet(set: RegisterSet, into: Uint8Array): void {
  const f = view(into);
  const fctrl = set.get('fctrl');
  const fstat = set.get('fstat');
  const mxcsr = set.get('mxcsr');
  if (fctrl !== undefined) f.setUint16(0, Number(fctrl), true);
  if (fstat !== undefined) f.setUint16(2, Number(fstat), true);
  if (mxcsr !== undefined) f.setUint32(24, Number(mxcsr), true);
  for (let i = 0; i < 8; i++) {
    const v = set.get(`st${i}`);
    if (v !== undefined) writeLE(into, 32 + i * 16, 10, v);
  }
  for (let i = 0; i < 16; i++) {
    const v = set.get(`xmm${i}`);
    if (v !== undefined) writeLE(into, 160 + i * 16, 16, v);
  }
}
