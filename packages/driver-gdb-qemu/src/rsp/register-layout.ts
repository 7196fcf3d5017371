import { X86_64, type Arch } from '@stackdb/core';
import type { XmlElement } from './xml.js';

/** One register as the stub numbers and lays it out. */
export interface StubRegister {
  /** The stub's name (`rax`, `k_gs_base`, `ymm0h`). */
  readonly name: string;
  /** GDB register number (for `p`/`P` and expedited registers). */
  readonly regnum: number;
  /** Width in bytes. */
  readonly size: number;
  /** Offset in the `g` packet. */
  readonly offset: number;
  /** The core architecture register it maps to, when there is one. */
  readonly archName?: string;
}

/** How a stub lays out registers: the `g` packet and register numbers. */
export interface RegisterLayout {
  /** Architecture name from the description (`i386:x86-64`), or `default`. */
  readonly architecture: string;
  /** Registers in `g` packet order. */
  readonly registers: readonly StubRegister[];
  /** Bytes in a full `g` packet. */
  readonly gSize: number;
  byNumber(regnum: number): StubRegister | undefined;
  /** By core architecture name. */
  byArchName(name: string): StubRegister | undefined;
}

/** Stub names that differ from core's x86-64 names. */
const RENAMES: Record<string, string> = { k_gs_base: 'kernel_gs_base' };

function mapName(arch: Arch, name: string): string | undefined {
  const n = RENAMES[name] ?? name;
  return arch.findRegister(n) && arch.register(n).name === n ? n : undefined;
}

/** Builds a layout from (name, bit size, regnum) entries in description order. */
export function buildLayout(architecture: string, regs: readonly { name: string; bits: number; regnum?: number }[], arch: Arch = X86_64): RegisterLayout {
  let next = 0;
  const numbered = regs.map((r) => {
    const regnum = r.regnum ?? next;
    next = regnum + 1;
    return { ...r, regnum };
  });
  // The g packet carries registers in register-number order.
  numbered.sort((a, b) => a.regnum - b.regnum);
  let offset = 0;
  const registers: StubRegister[] = [];
  for (const r of numbered) {
    const size = Math.ceil(r.bits / 8);
    const archName = mapName(arch, r.name);
    registers.push(archName ? { name: r.name, regnum: r.regnum, size, offset, archName } : { name: r.name, regnum: r.regnum, size, offset });
    offset += size;
  }
  const byNum = new Map(registers.map((r) => [r.regnum, r]));
  const byArch = new Map(registers.filter((r) => r.archName).map((r) => [r.archName!, r]));
  return {
    architecture,
    registers,
    gSize: offset,
    byNumber: (n) => byNum.get(n),
    byArchName: (n) => byArch.get(n),
  };
}

/**
 * GDB's built-in amd64 layout, used when the stub sends no target description:
 * 16 GPRs and rip (8 bytes), eflags and six segment registers (4), st0–st7
 * (10), eight x87 control registers (4), xmm0–15 (16), mxcsr (4).
 */
export function defaultX86_64Layout(): RegisterLayout {
  const regs: { name: string; bits: number }[] = [];
  for (const n of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip']) regs.push({ name: n, bits: 64 });
  for (const n of ['eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs']) regs.push({ name: n, bits: 32 });
  for (let i = 0; i < 8; i++) regs.push({ name: `st${i}`, bits: 80 });
  for (const n of ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop']) regs.push({ name: n, bits: 32 });
  for (let i = 0; i < 16; i++) regs.push({ name: `xmm${i}`, bits: 128 });
  regs.push({ name: 'mxcsr', bits: 32 });
  return buildLayout('default', regs);
}

/** Problems a target description can have. */
export class TargetDescriptionError extends Error {}

/**
 * Reads a target description: the `<architecture>` and every `<reg>` of every
 * `<feature>`, following `<xi:include href=…>` through `fetch` (which reads
 * another annex of `qXfer:features:read`). Throws TargetDescriptionError for a
 * description that is not x86-64 or that has no registers.
 */
export async function layoutFromDescription(root: XmlElement, fetch: (annex: string) => Promise<XmlElement>): Promise<RegisterLayout> {
  let architecture = '';
  const regs: { name: string; bits: number; regnum?: number }[] = [];
  const seen = new Set<string>();
  const visit = async (el: XmlElement): Promise<void> => {
    for (const c of el.children) {
      if (c.name === 'architecture') architecture = c.text.trim();
      else if (c.name === 'xi:include') {
        const href = c.attrs.href;
        if (!href || seen.has(href)) continue;
        seen.add(href);
        await visit({ name: 'include', attrs: {}, children: [await fetch(href)], text: '' });
      } else if (c.name === 'reg') {
        const bits = Number(c.attrs.bitsize);
        const name = c.attrs.name;
        if (!name || !Number.isInteger(bits) || bits <= 0) throw new TargetDescriptionError(`a <reg> without a name or bitsize (${JSON.stringify(c.attrs)})`);
        const regnum = c.attrs.regnum === undefined ? undefined : Number(c.attrs.regnum);
        regs.push(regnum === undefined || !Number.isInteger(regnum) ? { name, bits } : { name, bits, regnum });
      } else if (c.name === 'feature' || c.name === 'target' || c.name === 'include') {
        await visit(c);
      }
    }
  };
  await visit({ name: 'include', attrs: {}, children: [root], text: '' });
  if (architecture && architecture !== 'i386:x86-64') throw new TargetDescriptionError(`the stub describes a ${architecture} target; only x86-64 (i386:x86-64) is supported`);
  if (!regs.length) throw new TargetDescriptionError('the target description has no registers');
  const layout = buildLayout(architecture || 'i386:x86-64', regs);
  for (const need of ['rip', 'rsp']) {
    if (!layout.byArchName(need)) throw new TargetDescriptionError(`the target description has no ${need} register`);
  }
  return layout;
}
