import { evaluate, type CfiRow, type LocationResult, type RegisterRule, type UnitEnv } from '@stackdb/dwdebug';
import { RegisterSet } from '../../arch/register-set.js';
import type { ProgramSymbols } from '../../symbols/program.js';
import type { Frame, StepResult } from '../frame.js';
import type { FrameStepper } from '../stepper.js';

/** x86-64 psABI callee-saved registers (DWARF numbers): unspecified in CFI means "same value". */
const CALLEE_SAVED = new Set([3, 6, 12, 13, 14, 15]);

function unitFor(bias: bigint): UnitEnv {
  return {
    version: 4, addressSize: 8, offsetSize: 4, littleEndian: true, bias,
    addrx: () => {
      throw new Error('DW_OP_addrx in a CFI expression');
    },
    baseType: () => undefined,
  };
}

/**
 * Walks frames with DWARF call frame information (`.eh_frame`, then
 * `.debug_frame`) of the module covering the frame: the row for the frame's
 * lookup pc gives the CFA and how each register of the caller was saved. The
 * caller's sp is the CFA, its pc the saved return address; callee-saved
 * registers the row does not mention keep their values, caller-saved ones are
 * unknown in the caller.
 */
export class CfiStepper implements FrameStepper {
  readonly name = 'dwarf-cfi';
  readonly priority = 300;

  constructor(private readonly program: ProgramSymbols) {}

  async getCallerFrame(frame: Frame): Promise<StepResult> {
    const pc = frame.lookupPc;
    const module = await this.program.moduleAt(pc);
    if (!module) return { status: 'not-me' };
    const table = await this.program.cfiTable(module);
    const row = table?.rowFor(pc - module.bias);
    if (!row) return { status: 'not-me' };
    return this.step(frame, row, module.bias);
  }

  private async step(frame: Frame, row: CfiRow, bias: bigint): Promise<StepResult> {
    const target = frame.thread.target;
    const regs = frame.registers;
    const arch = regs.arch;
    const unit = unitFor(bias);
    const env = {
      register: async (n: number) => (arch.findRegister(n) ? regs.get(n) : undefined),
      memory: (address: bigint, size: number) => target.read(address, size),
    };
    const asAddress = (r: LocationResult): bigint | undefined => (r.kind === 'memory' ? r.address : undefined);

    let cfa: bigint | undefined;
    if (row.cfa.kind === 'reg-offset') {
      const base = arch.findRegister(row.cfa.reg) ? regs.get(row.cfa.reg) : undefined;
      if (base !== undefined) cfa = BigInt.asUintN(64, base + BigInt(row.cfa.offset));
    } else {
      cfa = asAddress(await evaluate(row.cfa.expr, unit, env));
    }
    if (cfa === undefined) return { status: 'error', message: `cannot compute the CFA at 0x${frame.pc.toString(16)}` };

    const raRule = row.registers.get(row.returnAddressRegister);
    if (!raRule || raRule.kind === 'undefined') return { status: 'bottom' };

    const caller = new RegisterSet(arch);
    let raLocation: bigint | undefined;
    const recover = async (n: number, rule: RegisterRule | undefined): Promise<bigint | undefined> => {
      if (!rule) return CALLEE_SAVED.has(n) ? regs.get(n) : undefined;
      switch (rule.kind) {
        case 'undefined':
          return undefined;
        case 'same-value':
          return regs.get(n);
        case 'offset': {
          const at = BigInt.asUintN(64, cfa! + BigInt(rule.offset));
          if (n === row.returnAddressRegister) raLocation = at;
          return target.readPointer(at);
        }
        case 'val-offset':
          return BigInt.asUintN(64, cfa! + BigInt(rule.offset));
        case 'register':
          return arch.findRegister(rule.reg) ? regs.get(rule.reg) : undefined;
        case 'expression': {
          const at = asAddress(await evaluate(rule.expr, unit, env, { initialStack: [cfa!] }));
          if (at === undefined) return undefined;
          if (n === row.returnAddressRegister) raLocation = at;
          return target.readPointer(at);
        }
        case 'val-expression':
          return asAddress(await evaluate(rule.expr, unit, env, { initialStack: [cfa!] }));
      }
    };
    for (const r of arch.registers) {
      if (r.dwarf === undefined || r.dwarf > 16 || r === arch.sp) continue;
      const value = await recover(r.dwarf, row.registers.get(r.dwarf)).catch(() => undefined);
      if (value !== undefined) caller.set(r, value);
    }
    caller.set(arch.sp, cfa);
    const ra = await recover(row.returnAddressRegister, raRule).catch(() => undefined);
    if (ra === undefined) return { status: 'error', message: `cannot read the return address at 0x${frame.pc.toString(16)}` };
    caller.set(arch.pc, ra);
    return {
      status: 'success',
      registers: caller,
      cfa,
      returnAddress: raLocation !== undefined ? { kind: 'memory', address: raLocation } : { kind: 'register', register: arch.register(row.returnAddressRegister).name },
    };
  }
}
