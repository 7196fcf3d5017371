import { ORC_REG, type OrcEntry } from '@stackdb/dwdebug';
import { RegisterSet } from '../../arch/register-set.js';
import type { ProgramSymbols } from '../../symbols/program.js';
import type { Frame, StepResult } from '../frame.js';
import type { FrameStepper } from '../stepper.js';

/** `struct pt_regs` (x86-64) member order, 8 bytes each. */
const PT_REGS = ['r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss'] as const;
/** Offset of `ip` in `struct pt_regs`: where a partial (iret) frame starts. */
const IRET_FRAME_OFFSET = 16n * 8n;

/**
 * Walks Linux kernel frames with the kernel's own ORC tables, as the kernel's
 * unwind_orc.c does: the entry for the pc says where the previous stack pointer
 * is (from sp or bp, possibly indirect), whether the frame is a call (return
 * address just below it) or an exception frame (`pt_regs`, whole or only the
 * iret part), and where the previous bp was saved.
 */
export class OrcStepper implements FrameStepper {
  readonly name = 'orc';
  readonly priority = 350;

  constructor(private readonly program: ProgramSymbols) {}

  async getCallerFrame(frame: Frame): Promise<StepResult> {
    const module = await this.program.moduleAt(frame.lookupPc);
    if (!module) return { status: 'not-me' };
    const table = await this.program.orcTable(module);
    const entry = table?.entryFor(frame.lookupPc - module.bias);
    if (!entry) return { status: 'not-me' };
    return this.step(frame, entry);
  }

  private async step(frame: Frame, orc: OrcEntry): Promise<StepResult> {
    if (orc.type === 'end-of-stack') return { status: 'bottom' };
    if (orc.type === 'undefined') return { status: 'not-me' };
    const target = frame.thread.target;
    const regs = frame.registers;
    const word = (a: bigint) => target.readPointer(a);
    const reg = (name: string) => regs.get(name);

    let sp: bigint | undefined;
    let indirect = false;
    switch (orc.spReg) {
      case ORC_REG.SP: sp = add(reg('rsp'), orc.spOffset); break;
      case ORC_REG.BP: sp = add(reg('rbp'), orc.spOffset); break;
      case ORC_REG.SP_INDIRECT: sp = reg('rsp'); indirect = true; break;
      case ORC_REG.BP_INDIRECT: sp = add(reg('rbp'), orc.spOffset); indirect = true; break;
      case ORC_REG.R10: sp = reg('r10'); break;
      case ORC_REG.R13: sp = reg('r13'); break;
      case ORC_REG.DI: sp = reg('rdi'); break;
      case ORC_REG.DX: sp = reg('rdx'); break;
      default: return { status: 'not-me' };
    }
    if (sp === undefined) return { status: 'error', message: `ORC base register ${orc.spReg} is unknown at 0x${frame.pc.toString(16)}` };
    if (indirect) {
      sp = await word(sp);
      if (orc.spReg === ORC_REG.SP_INDIRECT) sp = add(sp, orc.spOffset)!;
    }

    // ORC tracks only sp and bp: other callee-saved registers are unknown in the caller
    // (the CFI stepper, tried first where .debug_frame covers the pc, recovers them).
    const caller = new RegisterSet(regs.arch);
    caller.set('rbp', regs.get('rbp'));
    let exactPc = false;
    let raAt: bigint;
    if (orc.type === 'call') {
      raAt = sp - 8n;
      caller.set('rip', await word(raAt));
      caller.set('rsp', sp);
    } else if (orc.type === 'regs') {
      const bytes = await target.read(sp, PT_REGS.length * 8);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // Registers saved on entry from user mode end the kernel stack (as the kernel's unwinder says).
      if ((dv.getBigUint64(17 * 8, true) & 3n) === 3n) return { status: 'bottom' };
      PT_REGS.forEach((n, i) => caller.set(n, dv.getBigUint64(i * 8, true)));
      raAt = sp + 16n * 8n;
      exactPc = true;
    } else {
      const base = sp - IRET_FRAME_OFFSET;
      raAt = base + 16n * 8n;
      caller.set('rip', await word(raAt));
      caller.set('rsp', await word(base + 19n * 8n));
      exactPc = true;
    }

    switch (orc.bpReg) {
      case ORC_REG.PREV_SP: caller.set('rbp', await word(sp + BigInt(orc.bpOffset))); break;
      case ORC_REG.BP: {
        const bp = reg('rbp');
        caller.set('rbp', bp === undefined ? undefined : await word(bp + BigInt(orc.bpOffset)));
        break;
      }
      default: break;
    }
    return { status: 'success', registers: caller, cfa: sp, returnAddress: { kind: 'memory', address: raAt }, exactPc };
  }
}

function add(v: bigint | undefined, off: number): bigint | undefined {
  return v === undefined ? undefined : BigInt.asUintN(64, v + BigInt(off));
}
