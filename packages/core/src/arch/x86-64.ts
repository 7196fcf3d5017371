import { RegisterError } from '../errors.js';

/** Register groups, used for display and for deciding what a driver must fetch. */
export type RegisterGroup = 'general' | 'segment' | 'control' | 'debug' | 'fp' | 'vector';

/** One architectural register. */
export interface RegisterDesc {
  /** Canonical lower-case name (`rax`, `rip`, `fs_base`, `xmm0`, `dr7`, `cr3`). */
  readonly name: string;
  /** Dense index into a {@link RegisterSet}. */
  readonly index: number;
  /** DWARF register number (System V x86-64 psABI), when it has one. */
  readonly dwarf?: number;
  /** Width in bytes. */
  readonly size: number;
  readonly group: RegisterGroup;
}

/** An architecture: its registers and the few roles the unwinder and probes need. */
export interface Arch {
  readonly name: string;
  readonly wordSize: number;
  readonly littleEndian: boolean;
  readonly registers: readonly RegisterDesc[];
  readonly pc: RegisterDesc;
  readonly sp: RegisterDesc;
  readonly fp: RegisterDesc;
  /** DWARF column holding the return address in CFI. */
  readonly returnAddressColumn: number;
  /** The software breakpoint instruction. */
  readonly breakpointInstruction: Uint8Array;
  /** Bytes the PC has advanced past a software breakpoint when the trap is reported. */
  readonly breakpointPcAdjust: number;
  /** Looks a register up by name (aliases allowed: `pc`, `sp`, `fp`, `rflags`) or DWARF number. */
  register(id: string | number): RegisterDesc;
  /** Like {@link register}, but returns undefined for unknown ids. */
  findRegister(id: string | number): RegisterDesc | undefined;
}

const GPR_DWARF: [string, number][] = [
  ['rax', 0], ['rdx', 1], ['rcx', 2], ['rbx', 3], ['rsi', 4], ['rdi', 5], ['rbp', 6], ['rsp', 7],
  ['r8', 8], ['r9', 9], ['r10', 10], ['r11', 11], ['r12', 12], ['r13', 13], ['r14', 14], ['r15', 15],
  ['rip', 16],
];

function buildX86_64(): Arch {
  const regs: RegisterDesc[] = [];
  const add = (name: string, size: number, group: RegisterGroup, dwarf?: number) => {
    regs.push(dwarf === undefined ? { name, index: regs.length, size, group } : { name, index: regs.length, size, group, dwarf });
  };
  for (const [n, d] of GPR_DWARF) add(n, 8, 'general', d);
  add('eflags', 8, 'general', 49);
  add('orig_rax', 8, 'general');
  add('es', 2, 'segment', 50);
  add('cs', 2, 'segment', 51);
  add('ss', 2, 'segment', 52);
  add('ds', 2, 'segment', 53);
  add('fs', 2, 'segment', 54);
  add('gs', 2, 'segment', 55);
  add('fs_base', 8, 'segment', 58);
  add('gs_base', 8, 'segment', 59);
  add('kernel_gs_base', 8, 'segment');
  for (const c of ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer']) add(c, 8, 'control');
  for (let i = 0; i < 8; i++) if (i !== 4 && i !== 5) add(`dr${i}`, 8, 'debug');
  for (let i = 0; i < 8; i++) add(`st${i}`, 10, 'fp', 33 + i);
  add('fctrl', 2, 'fp', 65);
  add('fstat', 2, 'fp', 66);
  add('mxcsr', 4, 'fp', 64);
  for (let i = 0; i < 16; i++) add(`xmm${i}`, 16, 'vector', 17 + i);

  const byName = new Map(regs.map((r) => [r.name, r]));
  const aliases: Record<string, string> = { pc: 'rip', sp: 'rsp', fp: 'rbp', rflags: 'eflags', fs_base: 'fs_base', 'fs.base': 'fs_base', 'gs.base': 'gs_base' };
  for (const [a, n] of Object.entries(aliases)) byName.set(a, byName.get(n)!);
  const byDwarf = new Map<number, RegisterDesc>();
  for (const r of regs) if (r.dwarf !== undefined) byDwarf.set(r.dwarf, r);

  const findRegister = (id: string | number) => (typeof id === 'number' ? byDwarf.get(id) : byName.get(id.toLowerCase()));
  return {
    name: 'x86-64',
    wordSize: 8,
    littleEndian: true,
    registers: regs,
    pc: byName.get('rip')!,
    sp: byName.get('rsp')!,
    fp: byName.get('rbp')!,
    returnAddressColumn: 16,
    breakpointInstruction: Uint8Array.of(0xcc),
    breakpointPcAdjust: 1,
    findRegister,
    register(id) {
      const r = findRegister(id);
      if (!r) throw new RegisterError(typeof id === 'number' ? `no x86-64 register with DWARF number ${id}` : `unknown x86-64 register ${id}`);
      return r;
    },
  };
}

/** The x86-64 architecture. */
export const X86_64: Arch = buildX86_64();
