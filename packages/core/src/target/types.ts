/** A target address: always a bigint, never a number. */
export type Addr = bigint;

/** Where a target is in its life. */
export type TargetStatus = 'new' | 'paused' | 'running' | 'exited' | 'detached' | 'closed' | 'error';

/** What a thread is doing, as far as the driver can tell. */
export type ThreadState = 'stopped' | 'running' | 'sleeping' | 'zombie' | 'exited' | 'unknown';

/**
 * A driver's capability manifest (after Level's `db.supports`). Tools and the
 * conformance suite read it to decide what to offer and what to test; calling an
 * unsupported operation throws {@link NotSupportedError}.
 */
export interface TargetCapabilities {
  /** Can start a program (ptrace `-b`/`--`). */
  readonly launch: boolean;
  /** Memory and registers can never be written (core files). */
  readonly readOnly: boolean;
  /** Registers can be written. */
  readonly writeRegisters: boolean;
  /** Can resume and run (false for a core file). */
  readonly execution: boolean;
  /** Software breakpoints (int3 or the stub's Z0). */
  readonly swBreakpoints: boolean;
  /** Hardware breakpoint/watchpoint slots per thread; 0 when none. */
  readonly hwDebugSlots: number;
  /** Single-stepping one thread while the others stay stopped. */
  readonly singleStep: boolean;
  /** Reports thread creation and exit. */
  readonly threadEvents: boolean;
  /** Reports fork/vfork/exec. */
  readonly processEvents: boolean;
  /** Reports system call entry and exit. */
  readonly syscallEvents: boolean;
  /** Has a physical address space besides the virtual one. */
  readonly physicalMemory: boolean;
  /** Can be killed. */
  readonly kill: boolean;
}

/** What a driver reports about one thread. */
export interface ThreadInfo {
  readonly tid: number;
  readonly name?: string;
  readonly state: ThreadState;
  /** For OS targets: the context the thread's registers describe. */
  readonly context?: 'kernel' | 'user';
  /** Parent thread or process id, where known. */
  readonly ptid?: number;
  /** Process (thread group) id, where known. */
  readonly pid?: number;
}

/** Access kinds of a hardware debug slot. */
export type DebugAccess = 'exec' | 'write' | 'readwrite';

/** A hardware breakpoint or watchpoint request for one debug slot. */
export interface HwDebugSpec {
  readonly address: Addr;
  readonly access: DebugAccess;
  /** 1, 2, 4 or 8; 1 for execute breakpoints. */
  readonly length: 1 | 2 | 4 | 8;
}

/**
 * One memory region of an address space (a `/proc/PID/maps` line, a kernel
 * segment, a core's PT_LOAD), with the file mapped there when there is one.
 */
export interface Region {
  readonly start: Addr;
  /** Exclusive. */
  readonly end: Addr;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  /** Offset into `path` of `start`, for file mappings. */
  readonly offset: bigint;
  /** The mapped file, or a pseudo-name such as `[stack]`, or undefined for anonymous memory. */
  readonly path?: string;
}

/**
 * A loaded object: an executable, a shared library, a kernel or a kernel module,
 * with the bias added to its link-time addresses.
 */
export interface LoadedModule {
  /** Path of the file as the target names it (before `-R` prefixing). */
  readonly path: string;
  /** Short name (`libc.so.6`, `vmlinux`, `ext4`). */
  readonly name: string;
  /** Load bias: runtime address minus link-time address. */
  readonly bias: Addr;
  /** Runtime ranges it covers, [start, end). */
  readonly ranges: readonly (readonly [Addr, Addr])[];
  /** True for the main program or kernel. */
  readonly main?: boolean;
}

/** Process exit or death. */
export interface ExitStatus {
  /** Exit code when it exited normally. */
  readonly code?: number;
  /** Signal number when a signal killed it. */
  readonly signal?: number;
}

/**
 * A raw stop reported by a driver's `_wait()`. When `_wait()` returns the whole
 * target is paused (all-stop); several threads may report at once.
 */
export type StopEvent =
  | { readonly kind: 'breakpoint'; readonly tid: number; readonly address: Addr }
  | { readonly kind: 'hw-debug'; readonly tid: number; readonly slot: number; readonly address: Addr; readonly access: DebugAccess }
  | { readonly kind: 'step'; readonly tid: number }
  | { readonly kind: 'signal'; readonly tid: number; readonly signal: number }
  | { readonly kind: 'syscall-enter'; readonly tid: number; readonly nr: number; readonly args: readonly bigint[] }
  | { readonly kind: 'syscall-exit'; readonly tid: number; readonly nr: number; readonly ret: bigint }
  | { readonly kind: 'thread-created'; readonly tid: number; readonly parentTid: number }
  | { readonly kind: 'thread-exited'; readonly tid: number; readonly status?: ExitStatus }
  | { readonly kind: 'fork' | 'vfork'; readonly tid: number; readonly childPid: number }
  | { readonly kind: 'exec'; readonly tid: number; readonly path?: string }
  | { readonly kind: 'exited'; readonly status: ExitStatus }
  | { readonly kind: 'interrupted'; readonly tid?: number };

/** Kinds of {@link StopEvent}. */
export type StopKind = StopEvent['kind'];

/** Events a driver can be asked to report beyond breakpoints and signals. */
export type EventInterest = 'thread' | 'fork' | 'exec' | 'syscall' | 'exit';
