import type { Target } from '../target/target.js';
import { ERRNO_TABLE, SYSCALL_TABLE } from './table.generated.js';
import type { SyscallArg, SyscallInfo } from './types.js';

/*
 * strace-like decoding of x86-64 system calls: names and argument types come
 * from the generated table (the kernel's own declarations); strings are read
 * from the stopped tracee; a few common calls get their flags and constants
 * spelled out (open flags and modes, mmap protections and flags, AT_FDCWD,
 * access modes, lseek whences, signal numbers); the rest are numbers.
 */

const byNr = new Map<number, SyscallInfo>(SYSCALL_TABLE.map((s) => [s.nr, s]));
const byName = new Map<string, SyscallInfo>(SYSCALL_TABLE.map((s) => [s.name, s]));
const errnos = new Map<number, readonly [number, string, string]>(ERRNO_TABLE.map((e) => [e[0], e]));
const errnoByName = new Map<string, number>(ERRNO_TABLE.map((e) => [e[1], e[0]]));

/** The system call with this number, when the table has it. */
export function syscallInfo(nr: number): SyscallInfo | undefined {
  return byNr.get(nr);
}

/** The system call with this name (`openat`), when the table has it. */
export function syscallByName(name: string): SyscallInfo | undefined {
  return byName.get(name);
}

/** A system call's name, or `syscall_NR` for numbers the table lacks. */
export function syscallName(nr: number): string {
  return byNr.get(nr)?.name ?? `syscall_${nr}`;
}

/** Every system call of the table. */
export function syscalls(): readonly SyscallInfo[] {
  return SYSCALL_TABLE;
}

/** The name of an errno value (`ENOENT`), or undefined. */
export function errnoName(errno: number): string | undefined {
  return errnos.get(errno)?.[1];
}

/** The message of an errno value (`No such file or directory`), or undefined. */
export function errnoMessage(errno: number): string | undefined {
  return errnos.get(errno)?.[2];
}

/** The value of an errno name (`ENOENT` → 2), or undefined. */
export function errnoValue(name: string): number | undefined {
  return errnoByName.get(name);
}

const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

/** `SIGTERM` for 15; `SIGRT_3` for real-time signals; the number otherwise. */
export function signalName(signal: number): string {
  if (signal >= 1 && signal <= SIGNALS.length) return SIGNALS[signal - 1]!;
  if (signal >= 32 && signal <= 64) return `SIGRT_${signal - 32}`;
  return String(signal);
}

type FlagTable = readonly (readonly [bigint, string])[];

const O_FLAGS: FlagTable = [
  [0o100n, 'O_CREAT'], [0o200n, 'O_EXCL'], [0o400n, 'O_NOCTTY'], [0o1000n, 'O_TRUNC'], [0o2000n, 'O_APPEND'], [0o4000n, 'O_NONBLOCK'],
  [0o10000n, 'O_DSYNC'], [0o20000n, 'O_ASYNC'], [0o40000n, 'O_DIRECT'], [0o100000n, 'O_LARGEFILE'], [0o200000n, 'O_DIRECTORY'], [0o400000n, 'O_NOFOLLOW'],
  [0o1000000n, 'O_NOATIME'], [0o2000000n, 'O_CLOEXEC'], [0o4010000n, 'O_SYNC'], [0o10000000n, 'O_PATH'], [0o20200000n, 'O_TMPFILE'],
];
const PROT_FLAGS: FlagTable = [[1n, 'PROT_READ'], [2n, 'PROT_WRITE'], [4n, 'PROT_EXEC'], [0x1000000n, 'PROT_GROWSDOWN'], [0x2000000n, 'PROT_GROWSUP']];
const MAP_FLAGS: FlagTable = [
  [0x10n, 'MAP_FIXED'], [0x20n, 'MAP_ANONYMOUS'], [0x40n, 'MAP_32BIT'], [0x100n, 'MAP_GROWSDOWN'], [0x800n, 'MAP_DENYWRITE'], [0x1000n, 'MAP_EXECUTABLE'],
  [0x2000n, 'MAP_LOCKED'], [0x4000n, 'MAP_NORESERVE'], [0x8000n, 'MAP_POPULATE'], [0x10000n, 'MAP_NONBLOCK'], [0x20000n, 'MAP_STACK'], [0x40000n, 'MAP_HUGETLB'],
  [0x80000n, 'MAP_SYNC'], [0x100000n, 'MAP_FIXED_NOREPLACE'],
];
const MAP_TYPES = new Map<bigint, string>([[1n, 'MAP_SHARED'], [2n, 'MAP_PRIVATE'], [3n, 'MAP_SHARED_VALIDATE']]);
const ACCESS_FLAGS: FlagTable = [[4n, 'R_OK'], [2n, 'W_OK'], [1n, 'X_OK']];
const AT_FLAGS: FlagTable = [[0x100n, 'AT_SYMLINK_NOFOLLOW'], [0x200n, 'AT_REMOVEDIR'], [0x400n, 'AT_SYMLINK_FOLLOW'], [0x800n, 'AT_NO_AUTOMOUNT'], [0x1000n, 'AT_EMPTY_PATH']];
const WHENCE = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];
const ARCH_PRCTL = new Map<bigint, string>([[0x1001n, 'ARCH_SET_GS'], [0x1002n, 'ARCH_SET_FS'], [0x1003n, 'ARCH_GET_FS'], [0x1004n, 'ARCH_GET_GS'], [0x1011n, 'ARCH_GET_CPUID'], [0x1012n, 'ARCH_SET_CPUID']]);
const AT_FDCWD = -100n;

/** `A|B|0x40` for the bits of `value` (its remaining bits in hex), `0` when none. */
export function formatFlags(value: bigint, table: FlagTable, zero = '0'): string {
  const parts: string[] = [];
  let rest = value;
  for (const [bit, name] of table) {
    if ((rest & bit) === bit && bit !== 0n) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.length ? parts.join('|') : zero;
}

function openFlags(v: bigint): string {
  const acc = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][Number(v & 3n)]!;
  // O_TMPFILE contains O_DIRECTORY, O_SYNC contains O_DSYNC: the table lists the composite first only when complete.
  const rest = formatFlags(v & ~3n, [...O_FLAGS].sort((a, b) => (b[0] > a[0] ? 1 : -1)), '');
  return rest ? `${acc}|${rest}` : acc;
}

function mmapFlags(v: bigint): string {
  const type = MAP_TYPES.get(v & 0xfn) ?? `0x${(v & 0xfn).toString(16)}`;
  const rest = formatFlags(v & ~0xfn, MAP_FLAGS, '');
  return rest ? `${type}|${rest}` : type;
}

function signedOf(raw: bigint, type: string): bigint {
  // The kernel's `int` arguments arrive in 64-bit registers; only the low 32 bits count.
  const bits = /\b(long|loff_t|off_t|ssize_t|size_t|s64|u64|__s64|__u64)\b/.test(type) ? 64 : 32;
  return BigInt.asIntN(bits, raw);
}

function unsignedOf(raw: bigint, type: string): bigint {
  const bits = /\b(long|loff_t|off_t|size_t|ssize_t|s64|u64|__u64|__s64|aio_context_t|key_serial_t)\b/.test(type) ? 64 : 32;
  return BigInt.asUintN(bits, raw);
}

/** One decoded argument. */
export interface DecodedSyscallArg {
  readonly name: string;
  /** Its C type. */
  readonly type: string;
  /** The register value. */
  readonly raw: bigint;
  /** strace's rendering: `"/etc/passwd"`, `O_RDONLY|O_CLOEXEC`, `AT_FDCWD`, `0x7ffd...`, `42`. */
  readonly text: string;
  /** The string(s) read from the tracee, for string arguments. */
  readonly string?: string;
  readonly strings?: readonly string[];
}

/** Options of {@link decodeSyscallArgs}. */
export interface SyscallDecodeOptions {
  /** Longest string shown (strace's -s; default 32). */
  readonly stringLimit?: number;
  /** Most array elements shown (default 16). */
  readonly arrayLimit?: number;
}

function quote(s: string, limit: number): string {
  const cut = s.length > limit;
  const body = (cut ? s.slice(0, limit) : s).replace(/[\\"\x00-\x1f\x7f]/g, (c) => {
    switch (c) {
      case '\\': return '\\\\';
      case '"': return '\\"';
      case '\n': return '\\n';
      case '\t': return '\\t';
      case '\r': return '\\r';
      default: return `\\${c.charCodeAt(0).toString(8)}`;
    }
  });
  return `"${body}"${cut ? '...' : ''}`;
}

const SIZE_NAMES = /^(count|len|size|nbytes|length|buflen|bufsiz)$/;

/**
 * Decodes the arguments of system call `nr` from its raw registers, reading
 * strings from `target` (paused). Numbers the table does not know get six
 * hex arguments.
 */
export async function decodeSyscallArgs(target: Target, nr: number, raw: readonly bigint[], opts: SyscallDecodeOptions = {}): Promise<DecodedSyscallArg[]> {
  const info = byNr.get(nr);
  const limit = opts.stringLimit ?? 32;
  if (!info?.args) return raw.slice(0, 6).map((r, i) => ({ name: `arg${i}`, type: 'long', raw: r, text: `0x${r.toString(16)}` }));
  const out: DecodedSyscallArg[] = [];
  for (let i = 0; i < info.args.length; i++) {
    const a = info.args[i]!;
    const r = raw[i] ?? 0n;
    const next = info.args[i + 1];
    out.push(await decodeArg(target, info, a, r, next && SIZE_NAMES.test(next.name) ? raw[i + 1] : undefined, limit, opts.arrayLimit ?? 16));
  }
  // open's mode means something only when a file may be created (strace leaves it out otherwise).
  if ((info.name === 'open' || info.name === 'openat') && out.length && out[out.length - 1]!.name === 'mode') {
    const flags = out.find((a) => a.name === 'flags')?.raw ?? 0n;
    if (!(flags & 0o100n) && (flags & 0o20200000n) !== 0o20200000n) out.pop();
  }
  return out;
}

async function decodeArg(target: Target, info: SyscallInfo, a: SyscallArg, r: bigint, length: bigint | undefined, limit: number, arrayLimit: number): Promise<DecodedSyscallArg> {
  const base = { name: a.name, type: a.type, raw: r };
  const special = specialText(info.name, a, r);
  if (special !== undefined) return { ...base, text: special };
  switch (a.kind) {
    case 'string': {
      if (r === 0n) return { ...base, text: 'NULL' };
      try {
        // A buffer with a length (write's buf) is not NUL-terminated: read exactly what it holds.
        const s = length !== undefined ? Buffer.from(await target.read(r, Math.min(Number(BigInt.asUintN(32, length)), limit + 1))).toString('latin1') : await target.readString(r, 4096);
        return { ...base, text: quote(s, limit), string: s };
      } catch {
        return { ...base, text: `0x${r.toString(16)}` };
      }
    }
    case 'strings': {
      if (r === 0n) return { ...base, text: 'NULL' };
      try {
        const items: string[] = [];
        let more = false;
        for (let k = 0; ; k++) {
          const p = await target.readPointer(r + BigInt(k * 8));
          if (p === 0n) break;
          if (k >= arrayLimit) {
            more = true;
            break;
          }
          items.push(await target.readString(p, 4096));
        }
        return { ...base, text: `[${items.map((s) => quote(s, limit)).join(', ')}${more ? ', ...' : ''}]`, strings: items };
      } catch {
        return { ...base, text: `0x${r.toString(16)}` };
      }
    }
    case 'pointer':
      return { ...base, text: r === 0n ? 'NULL' : `0x${r.toString(16)}` };
    case 'signed':
      return { ...base, text: signedOf(r, a.type).toString() };
    case 'unsigned':
      return { ...base, text: unsignedOf(r, a.type).toString() };
  }
}

/** Named constants and flags of common calls, by call and argument name. */
function specialText(call: string, a: SyscallArg, r: bigint): string | undefined {
  const v32 = BigInt.asIntN(32, r);
  if ((a.name === 'dfd' || a.name === 'olddfd' || a.name === 'newdfd' || a.name === 'dirfd') && v32 === AT_FDCWD) return 'AT_FDCWD';
  switch (call) {
    case 'open': case 'openat': case 'creat':
      if (a.name === 'flags') return openFlags(BigInt.asUintN(32, r));
      if (a.name === 'mode') return `0${BigInt.asUintN(32, r).toString(8)}`;
      break;
    case 'mmap': case 'mprotect': case 'pkey_mprotect':
      if (a.name === 'prot') return formatFlags(r, PROT_FLAGS, 'PROT_NONE');
      if (call === 'mmap' && a.name === 'flags') return mmapFlags(r);
      if (call === 'mmap' && a.name === 'fd') return BigInt.asIntN(32, r).toString();
      if (call === 'mmap' && a.name === 'off') return r === 0n ? '0' : `0x${r.toString(16)}`;
      if (a.name === 'addr' || a.name === 'start') return r === 0n ? 'NULL' : `0x${r.toString(16)}`;
      break;
    case 'munmap': case 'brk': case 'mremap': case 'madvise':
      if (a.name === 'addr' || a.name === 'brk') return r === 0n ? 'NULL' : `0x${r.toString(16)}`;
      break;
    case 'access': case 'faccessat': case 'faccessat2':
      if (a.name === 'mode') return r === 0n ? 'F_OK' : formatFlags(r, ACCESS_FLAGS);
      if (a.name === 'flags') return formatFlags(BigInt.asUintN(32, r), AT_FLAGS);
      break;
    case 'newfstatat': case 'fchownat': case 'linkat': case 'unlinkat': case 'statx': case 'utimensat':
      if (a.name === 'flag' || a.name === 'flags') return formatFlags(BigInt.asUintN(32, r), AT_FLAGS);
      break;
    case 'arch_prctl':
      if (a.name === 'option') return ARCH_PRCTL.get(BigInt.asUintN(32, r)) ?? r.toString();
      if (a.name === 'arg2') return `0x${r.toString(16)}`;
      break;
    case 'lseek':
      if (a.name === 'whence') return WHENCE[Number(r)] ?? r.toString();
      break;
    case 'kill': case 'tkill': case 'tgkill': case 'rt_sigaction': case 'rt_sigqueueinfo': case 'rt_tgsigqueueinfo': case 'pidfd_send_signal':
      if (a.name === 'sig') return signalName(Number(v32));
      break;
    case 'mkdir': case 'mkdirat': case 'chmod': case 'fchmod': case 'fchmodat': case 'mknod': case 'mknodat':
      if (a.name === 'mode') return `0${BigInt.asUintN(32, r).toString(8)}`;
      break;
  }
  return undefined;
}

/** What a system call returned, as strace shows it. */
export interface DecodedSyscallReturn {
  readonly value: bigint;
  /** `3`, `0x7f12...` (for calls returning addresses), `-1 ENOENT (No such file or directory)`. */
  readonly text: string;
  /** The errno name for a failed call. */
  readonly errno?: string;
}

const ADDRESS_RETURNS = new Set(['mmap', 'brk', 'mremap', 'shmat']);

/** Decodes a system call's return value (negative errno values become names, addresses hex). */
export function decodeSyscallReturn(nr: number, ret: bigint): DecodedSyscallReturn {
  const v = BigInt.asIntN(64, ret);
  if (v < 0n && v >= -4095n) {
    const e = Number(-v);
    const name = errnoName(e);
    if (name) return { value: v, text: `-1 ${name} (${errnoMessage(e)})`, errno: name };
    return { value: v, text: `-1 (errno ${e})` };
  }
  const name = byNr.get(nr)?.name;
  if (name && ADDRESS_RETURNS.has(name)) return { value: v, text: `0x${BigInt.asUintN(64, ret).toString(16)}` };
  return { value: v, text: v.toString() };
}

/** `openat(AT_FDCWD, "/etc/passwd", O_RDONLY)`. */
export function formatSyscallCall(nr: number, args: readonly DecodedSyscallArg[]): string {
  return `${syscallName(nr)}(${args.map((a) => a.text).join(', ')})`;
}
