/**
 * How a system call argument is shown: `signed`/`unsigned` integers, a
 * `pointer` (hex), a NUL-terminated `string` read from the tracee (`const char *`),
 * or a NULL-terminated array of strings (`strings`, execve's argv).
 */
export type SyscallArgKind = 'signed' | 'unsigned' | 'pointer' | 'string' | 'strings';

/** One argument of a system call, as the kernel declares it. */
export interface SyscallArg {
  readonly name: string;
  /** Its C type, as the kernel's DWARF names it (`const char *`, `umode_t`). */
  readonly type: string;
  readonly kind: SyscallArgKind;
}

/** One system call of the table. */
export interface SyscallInfo {
  readonly nr: number;
  /** The user-space name (`openat`, `stat`). */
  readonly name: string;
  /** The kernel's entry point (`sys_NAME` without `sys_`; `newstat` for stat); null when not implemented. */
  readonly entry: string | null;
  /** Its arguments; null when the kernel's debuginfo did not say (or not implemented). */
  readonly args: readonly SyscallArg[] | null;
}
