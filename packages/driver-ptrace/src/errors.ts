import { getSystemErrorMap } from 'node:util';
import { AttachError, StackdbError } from '@stackdb/core';

/**
 * Stable codes of the driver's errors and the exit status a command-line tool
 * uses for each (listed in the README).
 */
export const PTRACE_ERROR_EXIT_CODES = {
  /** The process does not exist (or has exited). */
  ERR_NO_PROCESS: 3,
  /** ptrace is not allowed: another user's process, or kernel.yama.ptrace_scope. */
  ERR_PERMISSION: 4,
  /** Another debugger (or this one) already traces the process. */
  ERR_ALREADY_TRACED: 5,
  /** The program could not be executed. */
  ERR_EXEC: 6,
  /** The process is a child_process of this very Node process, whose libuv would reap its stops. */
  ERR_CHILD_PROCESS: 7,
} as const;

/** Codes of {@link PtraceAttachError}. */
export type PtraceAttachCode = keyof typeof PTRACE_ERROR_EXIT_CODES;

/** Attaching or launching failed; `exitCode` is the tool's exit status for the `code`. */
export class PtraceAttachError extends AttachError {
  override readonly exitCode: number;

  constructor(code: PtraceAttachCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.exitCode = PTRACE_ERROR_EXIT_CODES[code];
  }
}

/** A ptrace request failed unexpectedly on an attached target (`ERR_PTRACE`). */
export class PtraceError extends StackdbError {
  /** The errno the kernel returned. */
  readonly errno: number;

  constructor(what: string, errno: number) {
    super('ERR_PTRACE', `${what}: ${errnoText(errno)}`);
    this.errno = errno;
  }
}

const errnoMap = getSystemErrorMap();

/** `ENOENT (no such file or directory)` for an errno. */
export function errnoText(errno: number): string {
  const e = errnoMap.get(-Math.abs(errno));
  return e ? `${e[0]} (${e[1]})` : `errno ${errno}`;
}

/** The symbolic name of an errno (`EPERM`). */
export function errnoName(errno: number): string {
  return errnoMap.get(-Math.abs(errno))?.[0] ?? `errno ${errno}`;
}

/** Linux errno values the driver tests for. */
export const ERRNO = { EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, EACCES: 13, EFAULT: 14, EBUSY: 16, ECHILD: 10, EINVAL: 22, ENOEXEC: 8 } as const;
