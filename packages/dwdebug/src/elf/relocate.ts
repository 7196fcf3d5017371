import { DwarfError } from '../errors.js';
import { EM, ET, R_386, R_X86_64, SHN, SHT } from './constants.js';
import type { ElfFile, ElfSection } from './elf-file.js';
import { readSymbolTable } from './symbols.js';
import type { ElfSymbol } from './symbols.js';

/** Options for relocating an ET_REL file's non-allocated sections. */
export interface RelocateOptions {
  /**
   * Where each section of the relocatable file sits (a kernel module's
   * `/sys/module/NAME/sections/*`). Sections not listed use their header
   * address, which is 0 in a `.o` or `.ko`.
   */
  readonly sectionAddresses?: ReadonlyMap<string, bigint>;
}

/**
 * The relocation sections (`SHT_RELA`/`SHT_REL`) that apply to a section,
 * found through their `sh_info`. Empty unless the file is `ET_REL`: an
 * executable's `.rela.debug_*` (the kernel's debug vmlinux carries hundreds of
 * MB of them) describe relocations the linker has already applied.
 */
export function relocationsFor(elf: ElfFile, target: ElfSection): ElfSection[] {
  if (elf.type !== ET.REL) return [];
  return elf.sections.filter((s) => (s.type === SHT.RELA || s.type === SHT.REL) && s.info === target.index && s.size > 0);
}

/**
 * Returns `data` (the target section's decompressed contents) with the
 * file's relocations applied, as a new buffer; `data` itself when there are
 * none. Supports the relocation types compilers emit in debug and unwind
 * sections on x86-64 and i386.
 *
 * S is the symbol's section address plus its section-relative `st_value`;
 * A the explicit addend (RELA) or the value in place (REL); P the address of
 * the patched field (target section address + offset).
 */
export function applyRelocations(elf: ElfFile, target: ElfSection, data: Uint8Array, opts: RelocateOptions = {}): Uint8Array {
  const relSecs = relocationsFor(elf, target);
  if (relSecs.length === 0) return data;
  const out = new Uint8Array(data);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const le = elf.littleEndian;
  const secAddr = (idx: number): bigint => {
    const s = elf.sections[idx];
    if (!s) return 0n;
    return opts.sectionAddresses?.get(s.name) ?? s.addr;
  };
  const symCache = new Map<number, ElfSymbol[]>();
  for (const rs of relSecs) {
    const symSec = elf.sections[rs.link];
    if (!symSec || (symSec.type !== SHT.SYMTAB && symSec.type !== SHT.DYNSYM)) {
      throw new DwarfError('ERR_RELOC', `relocation section has no symbol table`, { file: elf.path, section: rs.name });
    }
    let syms = symCache.get(symSec.index);
    if (!syms) {
      syms = readSymbolTable(elf, symSec, 'symtab');
      symCache.set(symSec.index, syms);
    }
    const isRela = rs.type === SHT.RELA;
    const entsize = rs.entsize || (elf.is64 ? (isRela ? 24 : 16) : isRela ? 12 : 8);
    const rel = elf.sectionData(rs) ?? new Uint8Array(0);
    const rv = new DataView(rel.buffer, rel.byteOffset, rel.byteLength);
    const P0 = secAddr(target.index);
    for (let o = 0; o + entsize <= rel.length; o += entsize) {
      let offset: number, symIdx: number, type: number, addend: bigint | undefined;
      if (elf.is64) {
        offset = Number(rv.getBigUint64(o, le));
        const info = rv.getBigUint64(o + 8, le);
        symIdx = Number(info >> 32n);
        type = Number(info & 0xffffffffn);
        if (isRela) addend = rv.getBigInt64(o + 16, le);
      } else {
        offset = rv.getUint32(o, le);
        const info = rv.getUint32(o + 4, le);
        symIdx = info >>> 8;
        type = info & 0xff;
        if (isRela) addend = BigInt(rv.getInt32(o + 8, le));
      }
      let S = 0n;
      if (symIdx !== 0) {
        const sym = syms[symIdx - 1];
        if (!sym) throw new DwarfError('ERR_RELOC', `relocation names symbol ${symIdx}, table has ${syms.length + 1}`, { file: elf.path, section: rs.name, offset: o });
        S = sym.shndx === SHN.UNDEF || sym.shndx === SHN.COMMON ? 0n : sym.shndx === SHN.ABS ? sym.value : sym.value + secAddr(sym.shndx);
      }
      const P = P0 + BigInt(offset);
      const fail = (msg: string) => new DwarfError('ERR_RELOC', msg, { file: elf.path, section: rs.name, offset: o });
      const patch = (size: number, value: bigint) => {
        if (offset < 0 || offset + size > out.length) throw fail(`relocation at 0x${offset.toString(16)} outside ${target.name}`);
        if (size === 8) dv.setBigUint64(offset, BigInt.asUintN(64, value), le);
        else if (size === 4) dv.setUint32(offset, Number(BigInt.asUintN(32, value)), le);
        else if (size === 2) dv.setUint16(offset, Number(BigInt.asUintN(16, value)), le);
        else dv.setUint8(offset, Number(BigInt.asUintN(8, value)));
      };
      const inPlace = (size: number): bigint => {
        if (offset < 0 || offset + size > out.length) throw fail(`relocation at 0x${offset.toString(16)} outside ${target.name}`);
        if (size === 8) return dv.getBigInt64(offset, le);
        if (size === 4) return BigInt(dv.getInt32(offset, le));
        if (size === 2) return BigInt(dv.getInt16(offset, le));
        return BigInt(dv.getInt8(offset));
      };
      if (elf.machine === EM.X86_64) {
        const A = addend ?? 0n;
        switch (type) {
          case R_X86_64.NONE: break;
          case R_X86_64.R64: case R_X86_64.DTPOFF64: patch(8, S + A); break;
          case R_X86_64.R32: case R_X86_64.R32S: case R_X86_64.DTPOFF32: patch(4, S + A); break;
          case R_X86_64.R16: patch(2, S + A); break;
          case R_X86_64.R8: patch(1, S + A); break;
          case R_X86_64.PC32: case R_X86_64.PLT32: patch(4, S + A - P); break;
          case R_X86_64.PC64: patch(8, S + A - P); break;
          case R_X86_64.PC16: patch(2, S + A - P); break;
          case R_X86_64.PC8: patch(1, S + A - P); break;
          default: throw fail(`unsupported x86-64 relocation type ${type}`);
        }
      } else if (elf.machine === EM.I386) {
        switch (type) {
          case R_386.NONE: break;
          case R_386.R32: case R_386.TLS_LDO_32: patch(4, S + (addend ?? inPlace(4))); break;
          case R_386.PC32: patch(4, S + (addend ?? inPlace(4)) - P); break;
          case R_386.R16: patch(2, S + (addend ?? inPlace(2))); break;
          case R_386.PC16: patch(2, S + (addend ?? inPlace(2)) - P); break;
          case R_386.R8: patch(1, S + (addend ?? inPlace(1))); break;
          case R_386.PC8: patch(1, S + (addend ?? inPlace(1)) - P); break;
          default: throw fail(`unsupported i386 relocation type ${type}`);
        }
      } else {
        throw fail(`relocations for machine ${elf.machine} are not supported`);
      }
    }
  }
  return out;
}
