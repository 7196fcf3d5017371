import test from 'ava';
import { X86_64 } from '@stackdb/core';
import { USER_FPREGS_SIZE, USER_REGS_SIZE, fpFromSet, gprFromSet, pcOf, setPc, toRegisterSet, touchedGroups } from './registers.js';

test('user_regs_struct round-trips through a RegisterSet (27 fields, rip at 16)', (t) => {
  const gpr = new Uint8Array(USER_REGS_SIZE);
  const dv = new DataView(gpr.buffer);
  for (let i = 0; i < 27; i++) dv.setBigUint64(i * 8, BigInt(i + 1) * 0x1000n + 0xabn, true);
  const set = toRegisterSet(X86_64, gpr, undefined, undefined);
  t.is(set.get('r15'), 0x10abn);
  t.is(set.get('rip'), 17n * 0x1000n + 0xabn);
  t.is(pcOf(gpr), set.get('rip')!);
  t.is(set.get('fs_base'), 22n * 0x1000n + 0xabn);
  t.is(set.get('cs'), (18n * 0x1000n + 0xabn) & 0xffffn, 'segment registers are 16 bits');
  set.set('rbx', 0x1122334455667788n);
  const out = Uint8Array.from(gpr);
  gprFromSet(set, out);
  t.is(new DataView(out.buffer).getBigUint64(5 * 8, true), 0x1122334455667788n);
  setPc(out, 0xdeadn);
  t.is(pcOf(out), 0xdeadn);
});

test('FXSAVE image: control/status words, MXCSR, x87 stack (80-bit) and XMM registers', (t) => {
  const fp = new Uint8Array(USER_FPREGS_SIZE);
  const dv = new DataView(fp.buffer);
  dv.setUint16(0, 0x37f, true);
  dv.setUint32(24, 0x1f80, true);
  fp.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xee, 0xee], 32 + 16);
  dv.setFloat64(160 + 16 * 2, 1.5, true);
  const set = toRegisterSet(X86_64, new Uint8Array(USER_REGS_SIZE), fp, undefined);
  t.is(set.get('fctrl'), 0x37fn);
  t.is(set.get('mxcsr'), 0x1f80n);
  t.is(set.get('st1'), 0x0a090807060504030201n);
  t.is(set.get('xmm2')! & 0xffffffffffffffffn, 0x3ff8000000000000n);
  set.set('xmm15', (1n << 127n) | 5n);
  const out = Uint8Array.from(fp);
  fpFromSet(set, out);
  t.is(out[160 + 16 * 15], 5);
  t.is(out[160 + 16 * 15 + 15], 0x80);
  t.is(out[32 + 16 + 10], 0xee, 'padding of an x87 slot is untouched');
});

test('register names map to the kernel image that holds them', (t) => {
  t.deepEqual(touchedGroups(['rax', 'xmm1', 'dr7']), { gpr: true, fp: true, dr: [7] });
  t.throws(() => touchedGroups(['cr3']), { message: /cannot be written/ });
});
