import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { parseInfoRegisters } from './registers.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/qemu/fixtures');
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8');

test('long-mode info registers of QEMU 7.2 (the test VM, vCPU 0)', (t) => {
  const regs = parseInfoRegisters(fixture('info-registers-long-mode.txt')).get(0)!;
  t.is(regs.rax, 0x1ad40n);
  t.is(regs.r8, 0x23000n);
  t.is(regs.rip, 0xffffffff81a592ebn);
  t.is(regs.eflags, 0x246n);
  t.is(regs.cs, 0x10n);
  t.is(regs.gs, 0n);
  t.is(regs.gs_base, 0xffff88801f200000n);
  t.is(regs.fs_base, 0n);
  t.is(regs.tr_base, 0xfffffe0000003000n);
  t.is(regs.gdt_base, 0xfffffe0000001000n);
  t.is(regs.idt_limit, 0xfffn);
  t.is(regs.cr0, 0x80050033n);
  t.is(regs.cr3, 0x5fb0000n);
  t.is(regs.cr4, 0x6f0n);
  t.is(regs.efer, 0xd01n);
  t.is(regs.dr7, 0x400n);
  t.is(regs.mxcsr, 0x1f80n);
  t.is(regs.fctrl, 0x37fn);
  t.is(regs.cpl, 0n);
  t.false('xmm00' in regs || 'fpr0' in regs || 'st' in regs);
});

test('info registers -a: one section per vCPU; 32-bit names map to 64-bit registers', (t) => {
  const all = parseInfoRegisters(fixture('info-registers-all-reset.txt'));
  t.deepEqual([...all.keys()], [0, 1]);
  const cpu1 = all.get(1)!;
  t.is(cpu1.rip, 0xfff0n);
  t.is(cpu1.rdx, 0x60fb1n);
  t.is(cpu1.cs, 0xf000n);
  t.is(cpu1.cs_base, 0xffff0000n);
  t.is(cpu1.cr0, 0x60000010n);
  t.is(cpu1.efer, 0n);
});

test('output without registers is an error', (t) => {
  t.throws(() => parseInfoRegisters('unknown command\n'), { code: 'ERR_QEMU_REGISTERS' } as never);
  t.is(parseInfoRegisters('RAX=0000000000000007', 3).get(3)!.rax, 7n);
});
