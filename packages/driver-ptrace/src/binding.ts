import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `spawn()` succeeded: the child is seized and running towards execve. */
export interface SpawnOk {
  readonly pid: number;
  /** Read end of the pipe on which the child reports an execve failure. */
  readonly execErrorFd: number;
}

/** `spawn()` failed before the child could exec. */
export interface SpawnFailure {
  readonly error: number;
  /** What failed: stdin, stdout, stderr, pipe, fork, seize. */
  readonly stage: string;
}

/**
 * The native addon, typed. Every call is synchronous and runs on the calling
 * (tracer) thread; functions return an errno (0 on success) or a count/-errno
 * as stated. See src/native/ptrace.cc for the design.
 */
export interface PtraceBinding {
  /** Starts the waiter; `onNotice(pid)` runs on this thread when a tracee has news (pid 0: nothing left to wait for). */
  watcherStart(onNotice: (pid: number) => void): void;
  /** Arms or disarms the waiter; `ref` keeps the event loop alive while waiting. */
  watch(armed: boolean, ref: boolean): void;
  /** Adds (or removes) a tid the waiter reports without consulting /proc. */
  track(tid: number, on: boolean): void;
  /** Id of the calling thread: the tracer. */
  tracerTid(): number;
  spawn(file: string, argv: readonly string[], envp: readonly string[], stdin: string | null, stdout: string | null, stderr: string | null, options: number): SpawnOk | SpawnFailure;
  /** The child's execve errno, or 0 when the exec happened; closes `fd`. */
  readExecError(fd: number): number;
  seize(tid: number, options: number): number;
  interrupt(tid: number): number;
  /** mode: 0 PTRACE_CONT, 1 PTRACE_SYSCALL, 2 PTRACE_SINGLESTEP, 3 PTRACE_LISTEN. */
  restart(tid: number, mode: number, signal: number): number;
  detach(tid: number, signal: number): number;
  setOptions(tid: number, options: number): number;
  /** PTRACE_GETEVENTMSG, or -errno. */
  eventMsg(tid: number): number;
  /** Fills `out` with [signo, errno, code]; returns errno. */
  sigInfo(tid: number, out: Int32Array): number;
  /** Fills `buf` with struct ptrace_syscall_info; returns its size or -errno. */
  syscallInfo(tid: number, buf: Uint8Array): number;
  getRegs(tid: number, buf: Uint8Array): number;
  setRegs(tid: number, buf: Uint8Array): number;
  getFpRegs(tid: number, buf: Uint8Array): number;
  setFpRegs(tid: number, buf: Uint8Array): number;
  /** DR0..DR7 into `out` (DR4/5 zero); returns errno. */
  getDebugRegs(tid: number, out: BigUint64Array): number;
  /** One debug register, or an errno (a number) on failure. */
  getDebugReg(tid: number, index: number): bigint | number;
  setDebugReg(tid: number, index: number, value: bigint): number;
  /** waitpid(tid, __WALL [| WNOHANG]); status in out[0]; returns pid, 0 or -errno. */
  wait(tid: number, nohang: boolean, out: Int32Array): number;
  /** Polls the first `count` tids with WNOHANG and sched_yield for up to `budgetMicros`; returns a tid, 0, or -ECHILD. */
  waitSpin(tids: Int32Array, count: number, budgetMicros: number, out: Int32Array): number;
  /** Opens /proc/PID/mem; fd or -errno. */
  openMem(pid: number): number;
  closeFd(fd: number): number;
  /** Bytes read before the first fault. */
  readMem(pid: number, memFd: number, address: bigint, buf: Uint8Array): number;
  /** Bytes written before the first fault (`tid` > 0 allows a PTRACE_POKEDATA fallback). */
  writeMem(memFd: number, tid: number, address: bigint, buf: Uint8Array): number;
  kill(pid: number, signal: number): number;
  tgkill(tgid: number, tid: number, signal: number): number;
  readonly constants: {
    readonly PTRACE_O_TRACESYSGOOD: number;
    readonly PTRACE_O_TRACEFORK: number;
    readonly PTRACE_O_TRACEVFORK: number;
    readonly PTRACE_O_TRACECLONE: number;
    readonly PTRACE_O_TRACEEXEC: number;
    readonly PTRACE_O_TRACEVFORKDONE: number;
    readonly PTRACE_O_TRACEEXIT: number;
    readonly userRegsSize: number;
    readonly userFpRegsSize: number;
  };
}

/** The package root (where binding.gyp, build/ and prebuilds/ live). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let loaded: PtraceBinding | undefined;

/**
 * Loads the addon with node-gyp-build (a prebuild from `prebuilds/`, or the
 * local `build/`; `PREBUILDS_ONLY=1` accepts only the prebuild). The one
 * untyped boundary of the package.
 */
export function binding(): PtraceBinding {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => PtraceBinding;
    loaded = load(packageRoot);
  }
  return loaded;
}
