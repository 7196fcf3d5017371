import { RegisterSet, type Arch } from '@stackdb/core';
import type { KernelInfo, KernelMemory } from './kernel.js';
import type { LinuxTask } from './tasks.js';

/** `__KERNEL_CS` and `__KERNEL_DS` of x86-64. */
const KERNEL_CS = 0x10n;
const KERNEL_DS = 0x18n;

/** Our register names for `struct pt_regs` members. */
const PT_REGS: Readonly<Record<string, string>> = {
  r15: 'r15', r14: 'r14', r13: 'r13', r12: 'r12', bp: 'rbp', bx: 'rbx', r11: 'r11', r10: 'r10', r9: 'r9', r8: 'r8',
  ax: 'rax', cx: 'rcx', dx: 'rdx', si: 'rsi', di: 'rdi', orig_ax: 'orig_rax', ip: 'rip', cs: 'cs', flags: 'eflags', sp: 'rsp', ss: 'ss',
};

/** Our register names for `struct inactive_task_frame` members (what `__switch_to_asm` pushed). */
const SWITCH_FRAME: Readonly<Record<string, string>> = { r15: 'r15', r14: 'r14', r13: 'r13', r12: 'r12', bx: 'rbx', bp: 'rbp' };

/**
 * The kernel registers of a task switched out: `thread.sp` points at the
 * callee-saved registers `__switch_to_asm` pushed, above its return address
 * into `__schedule`. The task resumes there with the frame popped.
 */
export async function switchedOutRegisters(kernel: KernelInfo, mem: KernelMemory, arch: Arch, task: LinuxTask): Promise<RegisterSet> {
  const sp = await mem.u64(task.object + BigInt(kernel.struct('task_struct').offset('thread.sp')));
  const frame = kernel.struct('inactive_task_frame');
  const words = await mem.words(sp, frame.size / 8);
  const word = (m: string) => words[frame.offset(m) / 8]!;
  const regs = new RegisterSet(arch);
  for (const [member, reg] of Object.entries(SWITCH_FRAME)) regs.set(reg, word(member));
  regs.set('rip', word('ret_addr'));
  regs.set('rsp', sp + BigInt(frame.size));
  regs.set('cs', KERNEL_CS);
  regs.set('ss', KERNEL_DS);
  return regs;
}

/** THREAD_SIZE: the kernel stack's size, from the init task's stack bounds (16 KiB without KASAN). */
export async function threadSize(kernel: KernelInfo): Promise<bigint> {
  const start = await kernel.optionalSymbol('__start_init_task');
  const end = await kernel.optionalSymbol('__end_init_task');
  return start !== undefined && end !== undefined && end > start ? end - start : 0x4000n;
}

/**
 * The user registers of a task in the kernel: the `pt_regs` its entry saved at
 * the top of its kernel stack, with its FS and GS bases.
 */
export async function savedUserRegisters(kernel: KernelInfo, mem: KernelMemory, arch: Arch, task: LinuxTask): Promise<RegisterSet> {
  const pt = kernel.struct('pt_regs');
  const at = task.stack + (await threadSize(kernel)) - BigInt(pt.size);
  const words = await mem.words(at, pt.size / 8);
  const regs = new RegisterSet(arch);
  for (const [member, reg] of Object.entries(PT_REGS)) if (pt.has(member)) regs.set(reg, words[pt.offset(member) / 8]!);
  const ts = kernel.struct('task_struct');
  for (const [member, reg] of [['thread.fsbase', 'fs_base'], ['thread.gsbase', 'gs_base']] as const) {
    if (ts.has(member)) regs.set(reg, await mem.u64(task.object + BigInt(ts.offset(member))));
  }
  return regs;
}

/**
 * The CPU a vCPU is, from its per-CPU area base: GS base in the kernel, the
 * swapped-out KERNEL_GS_BASE in user mode. Undefined when neither matches.
 */
export function cpuOfRegisters(regs: RegisterSet, perCpuOffsets: readonly bigint[]): number | undefined {
  const kernelMode = ((regs.get('cs') ?? 0n) & 3n) === 0n;
  const base = kernelMode ? regs.get('gs_base') : regs.get('kernel_gs_base');
  if (base === undefined) return undefined;
  const cpu = perCpuOffsets.indexOf(base);
  return cpu < 0 ? undefined : cpu;
}
