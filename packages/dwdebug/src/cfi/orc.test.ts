import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { Binfile } from '../elf/binfile.js';
import { kernelRelease, ORC_REG, OrcTable, orcVersionForRelease } from './orc.js';
import { CfiTable } from './table.js';

const VMLINUX_DIR = '/usr/lib/debug/boot';
const vmlinux = () => (fs.existsSync(VMLINUX_DIR) ? fs.readdirSync(VMLINUX_DIR).find((f) => f.startsWith('vmlinux-')) : undefined);
const needs = [{ check: () => (vmlinux() ? undefined : 'no debug vmlinux'), what: 'linux-image-amd64-dbg' }];

test('ORC layout version by kernel release', (t) => {
  t.is(orcVersionForRelease('6.1.0-56-amd64'), 1);
  t.is(orcVersionForRelease('4.19.0'), 1);
  t.is(orcVersionForRelease('6.3.1'), 2);
  t.is(orcVersionForRelease('6.4.0'), 3);
  t.is(orcVersionForRelease('6.12.7'), 3);
});

test('synthetic table: lookup, bit fields of each layout, unsorted input', (t) => {
  // Three entries at 0x1000, 0x1010, 0x1008 (unsorted), ip table at 0x5000.
  const ips = new DataView(new ArrayBuffer(12));
  [0x1000, 0x1010, 0x1008].forEach((ip, i) => ips.setInt32(i * 4, ip - (0x5000 + i * 4), true));
  const ent = new DataView(new ArrayBuffer(18));
  const put = (i: number, sp: number, bp: number, bits: number) => {
    ent.setInt16(i * 6, sp, true);
    ent.setInt16(i * 6 + 2, bp, true);
    ent.setUint16(i * 6 + 4, bits, true);
  };
  put(0, 8, 0, ORC_REG.SP | (ORC_REG.UNDEFINED << 4) | (0 << 8));
  put(1, 0, 0, ORC_REG.UNDEFINED | (1 << 10));
  put(2, 16, -16, ORC_REG.SP | (ORC_REG.PREV_SP << 4) | (2 << 8));
  const v1 = OrcTable.fromSections({ unwindIp: { data: new Uint8Array(ips.buffer), address: 0x5000n }, unwind: new Uint8Array(ent.buffer), littleEndian: true, version: 1 });
  t.is(v1.entryFor(0xfffn), undefined);
  t.like(v1.entryFor(0x1004n), { ip: 0x1000n, end: 0x1008n, spReg: ORC_REG.SP, spOffset: 8, type: 'call', signal: false });
  t.like(v1.entryFor(0x1008n), { ip: 0x1008n, spOffset: 16, bpReg: ORC_REG.PREV_SP, bpOffset: -16, type: 'regs-partial', signal: true });
  t.like(v1.entryFor(0x2000n), { ip: 0x1010n, type: 'end-of-stack', endFlag: true });
  t.is(v1.entryFor(0x2000n)!.end, undefined);
  const v3 = OrcTable.fromSections({ unwindIp: { data: new Uint8Array(ips.buffer), address: 0x5000n }, unwind: new Uint8Array(ent.buffer), littleEndian: true, version: 3 });
  t.is(v3.entryFor(0x1004n)!.type, 'undefined');
  t.is(v3.entryFor(0x1008n)!.type, 'call');
});

systemTest(test, 'vmlinux ORC (Linux 6.1 layout): entry code, exception entries and ordinary functions', needs, async (t) => {
  const bin = await Binfile.open(path.join(VMLINUX_DIR, vmlinux()!), { noDebugSearch: true });
  t.teardown(() => bin.close());
  const release = kernelRelease(bin);
  t.regex(release ?? '', /^\d+\.\d+/);
  const orc = OrcTable.fromBinfile(bin)!;
  t.true(orc.count > 100_000);
  const at = (name: string, delta = 0n) => orc.entryFor(bin.symbolsNamed(name)[0]!.value + delta)!;
  // The syscall entry and the first kernel frame of a new task end the stack.
  t.is(at('entry_SYSCALL_64').type, 'end-of-stack');
  t.is(at('ret_from_fork').type, 'end-of-stack');
  // Exception entry: the CPU pushed an iret frame (partial pt_regs).
  t.like(at('asm_exc_page_fault'), { type: 'regs-partial', signal: true, spReg: ORC_REG.SP });
  // An ordinary function entry: CFA = sp + 8, bp untouched.
  for (const name of ['do_sys_open', '__schedule', 'schedule', 'vfs_read']) t.like(at(name), { type: 'call', spReg: ORC_REG.SP, spOffset: 8, bpReg: ORC_REG.UNDEFINED }, name);
  // After `push %rbp` in __schedule: CFA = sp + 16 and rbp saved at CFA - 16.
  t.like(at('__schedule', 1n), { spReg: ORC_REG.SP, spOffset: 16, bpReg: ORC_REG.PREV_SP, bpOffset: -16 });
});

systemTest(test, 'vmlinux ORC agrees with .debug_frame on the CFA and saved rbp of C functions', needs, async (t) => {
  const bin = await Binfile.open(path.join(VMLINUX_DIR, vmlinux()!), { noDebugSearch: true });
  t.teardown(() => bin.close());
  const orc = OrcTable.fromBinfile(bin)!;
  const cfi = CfiTable.fromBinfileSections(bin.unwindSections());
  const funcs = bin.symbols().filter((s) => s.type === 'func' && s.size > 16n && !s.name.includes('.cold'));
  let compared = 0;
  let agreed = 0;
  // Every 41st function: a deterministic spread over the whole kernel.
  for (let i = 0; i < funcs.length; i += 41) {
    const f = funcs[i]!;
    for (let pc = f.value; pc < f.value + f.size; ) {
      const e = orc.entryFor(pc);
      const row = cfi.rowFor(pc);
      if (!e || !row || e.type !== 'call' || e.spReg !== ORC_REG.SP || row.cfa.kind !== 'reg-offset') break;
      compared++;
      const rbp = row.registers.get(6);
      const bpOk = e.bpReg === ORC_REG.PREV_SP ? rbp?.kind === 'offset' && rbp.offset === e.bpOffset : rbp === undefined || rbp.kind !== 'offset';
      if (row.cfa.reg === 7 && row.cfa.offset === e.spOffset && bpOk) agreed++;
      pc = e.end !== undefined && e.end > pc ? e.end : pc + 1n;
    }
  }
  t.log(`${agreed}/${compared} ORC entries agree with .debug_frame`);
  t.true(compared > 5000, `${compared} compared`);
  // objtool and gcc describe the same instructions; a handful of spots differ legitimately (alternatives, hand-written asm).
  t.true(agreed / compared > 0.99, `${agreed}/${compared} agree`);
});
