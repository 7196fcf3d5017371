import { PT } from './constants.js';
import type { ElfFile } from './elf-file.js';

/**
 * The link-time address the file's image starts at: the lowest `PT_LOAD`
 * address minus its file offset (0 for PIE executables and shared libraries,
 * 0x400000 for a classic x86-64 executable). Undefined without `PT_LOAD`
 * segments (ET_REL, debug-only files whose headers were kept still have them).
 */
export function linkBaseOf(elf: ElfFile): bigint | undefined {
  let base: bigint | undefined;
  for (const s of elf.segments) {
    if (s.type !== PT.LOAD) continue;
    const b = s.vaddr - BigInt(s.offset);
    if (base === undefined || b < base) base = b;
  }
  return base;
}

/**
 * The load bias of a mapping: the runtime address `start` maps file offset
 * `offset`; the bias is what to add to a link-time address to get a runtime
 * one (0 for ET_EXEC). Undefined when no `PT_LOAD` covers that offset.
 */
export function loadBiasOf(elf: ElfFile, start: bigint, offset: bigint): bigint | undefined {
  for (const s of elf.segments) {
    if (s.type !== PT.LOAD) continue;
    const segStart = BigInt(s.offset);
    const pageStart = segStart - (segStart % 4096n);
    if (offset < pageStart || offset >= segStart + BigInt(Math.max(s.filesz, 1))) continue;
    return start - (s.vaddr - segStart + offset);
  }
  return undefined;
}

/**
 * The bias from where the image's lowest segment was mapped (the
 * `AT_PHDR`/link_map `l_addr` view): `runtimeBase - linkBase`.
 */
export function loadBiasFromBase(elf: ElfFile, runtimeBase: bigint): bigint | undefined {
  const base = linkBaseOf(elf);
  return base === undefined ? undefined : runtimeBase - base;
}
