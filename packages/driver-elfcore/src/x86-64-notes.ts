/*
 * Decoders for the x86-64 Linux core notes and QEMU's CPU-state note.
 *
 * Layouts (little-endian, LP64):
 * - NT_PRSTATUS (`struct elf_prstatus`, 336 bytes): si_signo/si_code/si_errno at
 *   0, pr_cursig at 12, pr_sigpend at 16, pr_sighold at 24, pid/ppid/pgrp/sid at
 *   32..44, four `struct timeval`s at 48..112, pr_reg (27 words of
 *   `user_regs_struct`) at 112, pr_fpvalid at 328. QEMU writes the same size with
 *   only pid and pr_reg filled in.
 * - NT_PRPSINFO (136 bytes): state/sname/zomb/nice at 0..3, pr_flag at 8,
 *   uid/gid/pid/ppid/pgrp/sid at 16..40, fname[16] at 40, psargs[80] at 56.
 * - NT_FPREGSET: the 512-byte FXSAVE image (`user_fpregs_struct`); NT_X86_XSTATE
 *   starts with the same 512 bytes, then the XSAVE header (XSTATE_BV at 512).
 * - NT_SIGINFO: a 128-byte `siginfo_t`.
 * - NT_AUXV: (type, value) word pairs up to AT_NULL.
 * - NT_FILE: count, page size, count × (start, end, page offset), then count
 *   NUL-terminated paths.
 * - QEMU's "QEMU" note (`QEMUCPUState`): version and size words, 16 GPRs, rip,
 *   rflags, ten 24-byte segments (selector, limit, flags, pad, base: cs ds es fs
 *   gs ss ldt tr gdt idt) at 152, cr[5] at 392, kernel_gs_base at 432 when
 *   `size` reaches it.
 */
import { CoreFileError } from './errors.js';

/** Where a note's descriptor came from, for error messages. */
export interface NoteOrigin {
  readonly file: string;
  /** File offset of the note. */
  readonly offset: number;
  /** Note name for messages: `NT_PRSTATUS`. */
  readonly what: string;
}

/** `user_regs_struct` order, as in pr_reg and ptrace's GETREGS. */
export const USER_REGS = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi', 'orig_rax',
  'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
] as const;

/** Signal information of one thread (`elf_siginfo` plus the pending and held sets). */
export interface PrstatusSignal {
  readonly signo: number;
  readonly code: number;
  readonly errno: number;
  /** The signal the thread was handling when the core was made (`pr_cursig`). */
  readonly current: number;
  readonly pending: bigint;
  readonly held: bigint;
}

/** One decoded NT_PRSTATUS. */
export interface Prstatus {
  readonly signal: PrstatusSignal;
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly sid: number;
  /** User and system time, and those of waited-for children, in microseconds. */
  readonly times: { readonly utime: bigint; readonly stime: bigint; readonly cutime: bigint; readonly cstime: bigint };
  /** General registers by arch name (`rax`, `eflags`, `fs_base`, ...). */
  readonly regs: ReadonlyMap<string, bigint>;
  readonly fpvalid: boolean;
}

/** One decoded NT_PRPSINFO. */
export interface Prpsinfo {
  /** State letter (`R`, `S`, `D`, `T`, `Z`). */
  readonly state: string;
  readonly nice: number;
  readonly flags: bigint;
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly sid: number;
  /** Command name (at most 15 characters). */
  readonly fname: string;
  /** The start of the command line (at most 80 characters). */
  readonly psargs: string;
}

/** One decoded NT_SIGINFO (the fields every signal has, plus the usual union members). */
export interface Siginfo {
  readonly signo: number;
  readonly errno: number;
  readonly code: number;
  /** Faulting address, for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP. */
  readonly address?: bigint;
  /** Sender, for signals sent by a process (si_code ≤ 0). */
  readonly senderPid?: number;
  readonly senderUid?: number;
}

/** One NT_FILE entry: a mapped file. */
export interface NtFileEntry {
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
  /** Byte offset in the file of `start`. */
  readonly offset: bigint;
  readonly path: string;
}

/** Floating-point and vector registers decoded from an FXSAVE image, by arch name. */
export type FpRegisters = ReadonlyMap<string, bigint>;

/** A segment register from QEMU's CPU state. */
export interface QemuSegment {
  readonly selector: number;
  readonly limit: number;
  readonly flags: number;
  readonly base: bigint;
}

/** QEMU's per-vCPU state note. */
export interface QemuCpuState {
  readonly version: number;
  /** General registers, rip and eflags by arch name. */
  readonly regs: ReadonlyMap<string, bigint>;
  readonly segments: Readonly<Record<'cs' | 'ds' | 'es' | 'fs' | 'gs' | 'ss' | 'ldt' | 'tr' | 'gdt' | 'idt', QemuSegment>>;
  /** CR0, CR1 (reserved), CR2, CR3, CR4. */
  readonly cr: readonly [bigint, bigint, bigint, bigint, bigint];
  /** Present from QEMU 5.x on (when the note's size covers it). */
  readonly kernelGsBase?: bigint;
}

const latin1 = new TextDecoder('latin1');

function view(desc: Uint8Array, need: number, origin: NoteOrigin): DataView {
  if (desc.length < need) {
    throw new CoreFileError('ERR_CORE_NOTE', origin.file, `${origin.what} note has ${desc.length} bytes, expected at least ${need}`, { offset: origin.offset });
  }
  return new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
}

function cString(bytes: Uint8Array): string {
  const z = bytes.indexOf(0);
  return latin1.decode(z < 0 ? bytes : bytes.subarray(0, z));
}

/** Size of `struct elf_prstatus` on x86-64. */
export const PRSTATUS_SIZE = 336;

/** Decodes NT_PRSTATUS. */
export function decodePrstatus(desc: Uint8Array, origin: NoteOrigin): Prstatus {
  const dv = view(desc, PRSTATUS_SIZE - 8, origin);
  const regs = new Map<string, bigint>();
  USER_REGS.forEach((name, i) => regs.set(name, dv.getBigUint64(112 + i * 8, true)));
  const tv = (at: number) => dv.getBigInt64(at, true) * 1_000_000n + dv.getBigInt64(at + 8, true);
  return {
    signal: {
      signo: dv.getInt32(0, true),
      code: dv.getInt32(4, true),
      errno: dv.getInt32(8, true),
      current: dv.getInt16(12, true),
      pending: dv.getBigUint64(16, true),
      held: dv.getBigUint64(24, true),
    },
    pid: dv.getInt32(32, true),
    ppid: dv.getInt32(36, true),
    pgrp: dv.getInt32(40, true),
    sid: dv.getInt32(44, true),
    times: { utime: tv(48), stime: tv(64), cutime: tv(80), cstime: tv(96) },
    regs,
    fpvalid: desc.length >= PRSTATUS_SIZE - 4 && dv.getInt32(328, true) !== 0,
  };
}

/** Decodes NT_PRPSINFO. */
export function decodePrpsinfo(desc: Uint8Array, origin: NoteOrigin): Prpsinfo {
  const dv = view(desc, 136, origin);
  return {
    state: String.fromCharCode(desc[1]!),
    nice: dv.getInt8(3),
    flags: dv.getBigUint64(8, true),
    uid: dv.getUint32(16, true),
    gid: dv.getUint32(20, true),
    pid: dv.getInt32(24, true),
    ppid: dv.getInt32(28, true),
    pgrp: dv.getInt32(32, true),
    sid: dv.getInt32(36, true),
    fname: cString(desc.subarray(40, 56)),
    psargs: cString(desc.subarray(56, 136)).trimEnd(),
  };
}

const FAULT_SIGNALS = new Set([4, 5, 7, 8, 11]); // SIGILL SIGTRAP SIGBUS SIGFPE SIGSEGV

/** Decodes NT_SIGINFO. */
export function decodeSiginfo(desc: Uint8Array, origin: NoteOrigin): Siginfo {
  const dv = view(desc, 24, origin);
  const signo = dv.getInt32(0, true);
  const code = dv.getInt32(8, true);
  const base = { signo, errno: dv.getInt32(4, true), code };
  // si_code ≤ 0 means user-sent (SI_USER, SI_QUEUE, SI_TKILL...): the union holds the sender.
  if (code <= 0) return { ...base, senderPid: dv.getInt32(16, true), senderUid: dv.getUint32(20, true) };
  if (FAULT_SIGNALS.has(signo)) return { ...base, address: dv.getBigUint64(16, true) };
  return base;
}

/** Decodes NT_AUXV into a map from AT_* type to value (the first of each type). */
export function decodeAuxv(desc: Uint8Array, origin: NoteOrigin): Map<number, bigint> {
  const dv = view(desc, 0, origin);
  const out = new Map<number, bigint>();
  for (let off = 0; off + 16 <= desc.length; off += 16) {
    const type = dv.getBigUint64(off, true);
    if (type === 0n) break;
    if (type < 0x10000n && !out.has(Number(type))) out.set(Number(type), dv.getBigUint64(off + 8, true));
  }
  return out;
}

/** Decodes NT_FILE. */
export function decodeNtFile(desc: Uint8Array, origin: NoteOrigin): NtFileEntry[] {
  const dv = view(desc, 16, origin);
  const count = dv.getBigUint64(0, true);
  const pageSize = dv.getBigUint64(8, true);
  const need = 16n + count * 24n;
  if (need > BigInt(desc.length)) {
    throw new CoreFileError('ERR_CORE_NOTE', origin.file, `${origin.what} note claims ${count} files but has room for ${Math.floor((desc.length - 16) / 24)}`, { offset: origin.offset });
  }
  const n = Number(count);
  const out: NtFileEntry[] = [];
  let strAt = 16 + n * 24;
  for (let i = 0; i < n; i++) {
    const z = desc.indexOf(0, strAt);
    if (z < 0) throw new CoreFileError('ERR_CORE_NOTE', origin.file, `${origin.what} note ends inside the name of file ${i} of ${n}`, { offset: origin.offset });
    const at = 16 + i * 24;
    out.push({
      start: dv.getBigUint64(at, true),
      end: dv.getBigUint64(at + 8, true),
      offset: dv.getBigUint64(at + 16, true) * pageSize,
      path: new TextDecoder().decode(desc.subarray(strAt, z)),
    });
    strAt = z + 1;
  }
  return out;
}

/** Decodes the legacy FXSAVE area (NT_FPREGSET, or the first 512 bytes of NT_X86_XSTATE). */
export function decodeFxsave(desc: Uint8Array, origin: NoteOrigin): FpRegisters {
  const dv = view(desc, 512, origin);
  const regs = new Map<string, bigint>();
  regs.set('fctrl', BigInt(dv.getUint16(0, true)));
  regs.set('fstat', BigInt(dv.getUint16(2, true)));
  regs.set('mxcsr', BigInt(dv.getUint32(24, true)));
  const le = (at: number, len: number) => {
    let v = 0n;
    for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(desc[at + i]!);
    return v;
  };
  for (let i = 0; i < 8; i++) regs.set(`st${i}`, le(32 + i * 16, 10));
  for (let i = 0; i < 16; i++) regs.set(`xmm${i}`, le(160 + i * 16, 16));
  return regs;
}

const QEMU_SEGMENTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'ldt', 'tr', 'gdt', 'idt'] as const;
const QEMU_GPRS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

/** Decodes QEMU's `QEMUCPUState` note. */
export function decodeQemuCpuState(desc: Uint8Array, origin: NoteOrigin): QemuCpuState {
  const dv = view(desc, 432, origin);
  const size = dv.getUint32(4, true);
  const regs = new Map<string, bigint>();
  QEMU_GPRS.forEach((name, i) => regs.set(name, dv.getBigUint64(8 + i * 8, true)));
  regs.set('rip', dv.getBigUint64(136, true));
  regs.set('eflags', dv.getBigUint64(144, true));
  const segments = {} as Record<(typeof QEMU_SEGMENTS)[number], QemuSegment>;
  QEMU_SEGMENTS.forEach((name, i) => {
    const at = 152 + i * 24;
    segments[name] = { selector: dv.getUint32(at, true), limit: dv.getUint32(at + 4, true), flags: dv.getUint32(at + 8, true), base: dv.getBigUint64(at + 16, true) };
  });
  const cr = [0, 1, 2, 3, 4].map((i) => dv.getBigUint64(392 + i * 8, true)) as [bigint, bigint, bigint, bigint, bigint];
  const state: QemuCpuState = { version: dv.getUint32(0, true), regs, segments, cr };
  return size >= 440 && desc.length >= 440 ? { ...state, kernelGsBase: dv.getBigUint64(432, true) } : state;
}
