import { RegisterSet } from '../../arch/register-set.js';
import type { Frame, StepResult } from '../frame.js';
import type { FrameStepper } from '../stepper.js';

/**
 * Walks a frame through its frame pointer: `push %rbp; mov %rsp,%rbp` leaves the
 * caller's rbp at [rbp] and the return address at [rbp+8]. Only the caller's pc,
 * sp and rbp are recovered; other registers are unknown.
 */
export class FramePointerStepper implements FrameStepper {
  readonly name = 'frame-pointer';
  readonly priority = 400;

  async getCallerFrame(frame: Frame): Promise<StepResult> {
    const arch = frame.registers.arch;
    const fp = frame.registers.get(arch.fp);
    if (fp === undefined || fp === 0n || fp % 8n !== 0n || fp < frame.sp || fp - frame.sp > 0x1000000n) return { status: 'not-me' };
    const target = frame.thread.target;
    let savedFp: bigint, ra: bigint;
    try {
      savedFp = await target.readPointer(fp);
      ra = await target.readPointer(fp + 8n);
    } catch {
      return { status: 'not-me' };
    }
    if (ra === 0n) return { status: 'bottom' };
    const regs = new RegisterSet(arch);
    regs.set(arch.pc, ra);
    regs.set(arch.sp, fp + 16n);
    regs.set(arch.fp, savedFp);
    return { status: 'success', registers: regs, cfa: fp + 16n, returnAddress: { kind: 'memory', address: fp + 8n } };
  }
}
