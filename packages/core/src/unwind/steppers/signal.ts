import { RegisterSet } from '../../arch/register-set.js';
import type { Target } from '../../target/target.js';
import type { Addr } from '../../target/types.js';
import type { Frame, StepResult } from '../frame.js';
import type { FrameStepper } from '../stepper.js';

/** `mov $15,%rax; syscall`: glibc's and the kernel vDSO's x86-64 `__restore_rt`. */
const RESTORE_RT = Uint8Array.of(0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05);

/** Whether `pc` is the rt_sigreturn trampoline (recognised by its code, as gdb does). */
export async function isSigreturnTrampoline(target: Target, pc: Addr): Promise<boolean> {
  const buf = new Uint8Array(RESTORE_RT.length);
  let n: number;
  try {
    n = await target.readInto(pc, buf);
  } catch {
    return false;
  }
  return n === buf.length && buf.every((b, i) => b === RESTORE_RT[i]);
}

/** `struct sigcontext` (x86-64) register order, 8 bytes each, from the start of uc_mcontext. */
const SIGCONTEXT = ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip', 'eflags'] as const;
/** Offset of uc_mcontext in `struct ucontext`: uc_flags, uc_link, uc_stack (24 bytes). */
const UC_MCONTEXT = 40n;

/**
 * Walks through a signal trampoline frame: when a handler returns into
 * `__restore_rt`, the stack pointer points at the `ucontext` the kernel saved,
 * whose `uc_mcontext` holds every register of the interrupted frame.
 */
export class SignalFrameStepper implements FrameStepper {
  readonly name = 'signal';
  readonly priority = 100;

  claims(frame: Frame): boolean {
    return frame.isSignalTrampoline;
  }

  async getCallerFrame(frame: Frame): Promise<StepResult> {
    const target = frame.thread.target;
    const base = frame.sp + UC_MCONTEXT;
    const bytes = await target.read(base, SIGCONTEXT.length * 8);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const regs = new RegisterSet(frame.registers.arch);
    SIGCONTEXT.forEach((name, i) => regs.set(name, dv.getBigUint64(i * 8, true)));
    return { status: 'success', registers: regs, cfa: frame.sp, returnAddress: { kind: 'memory', address: base + 16n * 8n }, exactPc: true };
  }
}
