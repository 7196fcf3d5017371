/** Signal numbers of x86-64 Linux used by the driver. */
export const SIG = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
  SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
} as const;

/** `PTRACE_EVENT_*` codes found in bits 16–23 of a stop status. */
export const PTRACE_EVENT = { FORK: 1, VFORK: 2, CLONE: 3, EXEC: 4, VFORK_DONE: 5, EXIT: 6, SECCOMP: 7, STOP: 128 } as const;

/** `si_code` values of SIGTRAP on x86-64. */
export const TRAP = { BRKPT: 1, TRACE: 2, BRANCH: 3, HWBKPT: 4, SI_KERNEL: 0x80 } as const;

/** A decoded waitpid status. */
export type WaitStatus =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'killed'; readonly signal: number; readonly core: boolean }
  /** A ptrace-stop: `event` is 0 or a PTRACE_EVENT code; `signal` may carry 0x80 (syscall stop with TRACESYSGOOD). */
  | { readonly kind: 'stopped'; readonly signal: number; readonly event: number }
  | { readonly kind: 'continued' };

/** Decodes a waitpid status word (the WIFEXITED/WIFSIGNALED/WIFSTOPPED macros). */
export function decodeWaitStatus(status: number): WaitStatus {
  const low = status & 0x7f;
  if (low === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  if ((status & 0xff) === 0x7f) return { kind: 'stopped', signal: (status >> 8) & 0xff, event: (status >> 16) & 0xff };
  if (status === 0xffff) return { kind: 'continued' };
  return { kind: 'killed', signal: low, core: (status & 0x80) !== 0 };
}

/** True for the signals that start a group-stop (job control). */
export function isStopSignal(sig: number): boolean {
  return sig === SIG.SIGSTOP || sig === SIG.SIGTSTP || sig === SIG.SIGTTIN || sig === SIG.SIGTTOU;
}
