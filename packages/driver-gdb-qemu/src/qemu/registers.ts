import { QEMU_ERROR, QemuHelperError } from './errors.js';

/*
 * Parses the text of HMP `info registers` (x86, QEMU 2.x–7.x): `NAME=HEX` pairs
 * such as `RAX=…`, `R8 =…`, `CR3=…`, `EFER=…`; segment lines
 * `FS =SEL BASE LIMIT FLAGS …`; descriptor tables `GDT=     BASE LIMIT`. Names
 * come out lower-case in core's x86-64 spelling (`eflags`, `fs_base`, `fctrl`);
 * 32-bit names (`EAX`, `EIP`, `EFL`) map to their 64-bit registers. `info
 * registers -a` prints one `CPU#N` section per vCPU.
 */

const RENAME: Readonly<Record<string, string>> = {
  rfl: 'eflags', efl: 'eflags', fcw: 'fctrl', fsw: 'fstat', ftw: 'ftag',
  eax: 'rax', ebx: 'rbx', ecx: 'rcx', edx: 'rdx', esi: 'rsi', edi: 'rdi', ebp: 'rbp', esp: 'rsp', eip: 'rip',
};

const SEGMENT = /^(ES|CS|SS|DS|FS|GS|LDT|TR)\s*=([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)/i;
const TABLE = /^(GDT|IDT)\s*=\s*([0-9a-f]+) ([0-9a-f]+)/i;
const PAIR = /(?:^|\s)([A-Z][A-Z0-9]*)\s*=([0-9a-f]+)(?=\s|$)/g;
/** Wide values printed as two words (`FPR0=… …`, `XMM00=… …`): not registers we take from here. */
const WIDE = /^(FPR|XMM|YMM|ZMM|K|BND|Opmask)\d/i;

function parseSection(lines: readonly string[]): Record<string, bigint> {
  const regs: Record<string, bigint> = {};
  for (const raw of lines) {
    const line = raw.replace(/\[[^\]]*\]/g, ' ').trimEnd();
    const seg = SEGMENT.exec(line);
    if (seg) {
      const n = seg[1]!.toLowerCase();
      regs[n === 'ldt' ? 'ldtr' : n] = BigInt('0x' + seg[2]);
      regs[`${n}_base`] = BigInt('0x' + seg[3]);
      regs[`${n}_limit`] = BigInt('0x' + seg[4]);
      regs[`${n}_flags`] = BigInt('0x' + seg[5]);
      continue;
    }
    const table = TABLE.exec(line);
    if (table) {
      const n = table[1]!.toLowerCase();
      regs[`${n}_base`] = BigInt('0x' + table[2]);
      regs[`${n}_limit`] = BigInt('0x' + table[3]);
      continue;
    }
    for (const m of line.matchAll(PAIR)) {
      if (WIDE.test(m[1]!)) continue;
      const n = m[1]!.toLowerCase();
      regs[RENAME[n] ?? n] = BigInt('0x' + m[2]);
    }
  }
  return regs;
}

/**
 * Registers by vCPU index from `info registers` (one CPU, as with `cpu-index`) or
 * `info registers -a` (all). Output without a `CPU#N` header is taken as `cpu`.
 * Throws `ERR_QEMU_REGISTERS` when no register is found.
 */
export function parseInfoRegisters(text: string, cpu = 0): Map<number, Record<string, bigint>> {
  const out = new Map<number, Record<string, bigint>>();
  let current = cpu;
  let lines: string[] = [];
  const flush = () => {
    const regs = parseSection(lines);
    if (Object.keys(regs).length > 0) out.set(current, regs);
    lines = [];
  };
  for (const line of text.replaceAll('\r', '').split('\n')) {
    const header = /^CPU#(\d+)/.exec(line.trim());
    if (header) {
      flush();
      current = Number(header[1]);
    } else {
      lines.push(line);
    }
  }
  flush();
  if (out.size === 0) throw new QemuHelperError(QEMU_ERROR.REGISTERS, `the monitor's info registers output has no registers: ${text.trim().slice(0, 80)}`);
  return out;
}
