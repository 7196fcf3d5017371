import { ElfError } from '../errors.js';
import { stringAt } from './byte-reader.js';
import { SHN, SHT, STB, STT } from './constants.js';
import type { ElfFile, ElfSection } from './elf-file.js';

/** What a symbol names (`STT_*`). */
export type ElfSymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls' | 'ifunc' | 'other';
/** How a symbol binds (`STB_*`). */
export type ElfSymbolBinding = 'local' | 'global' | 'weak' | 'unique' | 'other';

/** One entry of `.symtab`, `.dynsym` or a MiniDebugInfo symbol table. */
export interface ElfSymbol {
  readonly name: string;
  /** `st_value`: a link-time address; for `tls`, the offset in the TLS block; for ET_REL, section-relative. */
  readonly value: bigint;
  readonly size: bigint;
  readonly type: ElfSymbolType;
  readonly binding: ElfSymbolBinding;
  /** `STV_*` visibility. */
  readonly visibility: number;
  /** Section index (`SHN_UNDEF`, `SHN_ABS`, `SHN_COMMON` or a real index). */
  readonly shndx: number;
  /** Which table it came from. */
  readonly table: 'symtab' | 'dynsym' | 'minidebuginfo';
}

const TYPES: Record<number, ElfSymbolType> = {
  [STT.NOTYPE]: 'notype', [STT.OBJECT]: 'object', [STT.FUNC]: 'func', [STT.SECTION]: 'section', [STT.FILE]: 'file',
  [STT.COMMON]: 'common', [STT.TLS]: 'tls', [STT.GNU_IFUNC]: 'ifunc',
};
const BINDINGS: Record<number, ElfSymbolBinding> = { [STB.LOCAL]: 'local', [STB.GLOBAL]: 'global', [STB.WEAK]: 'weak', [STB.GNU_UNIQUE]: 'unique' };

/**
 * Decodes a symbol table section (`SHT_SYMTAB` / `SHT_DYNSYM`), names from its
 * linked string table. Extended section indices (`SHT_SYMTAB_SHNDX`) are
 * honoured. Entry 0 (the null symbol) is skipped.
 */
export function readSymbolTable(elf: ElfFile, sec: ElfSection, table: ElfSymbol['table']): ElfSymbol[] {
  const entsize = elf.is64 ? 24 : 16;
  if (sec.entsize !== 0 && sec.entsize < entsize) throw new ElfError(`bad symbol entry size ${sec.entsize}`, { file: elf.path, section: sec.name });
  const step = sec.entsize || entsize;
  const data = elf.sectionData(sec) ?? new Uint8Array(0);
  const strSec = elf.sections[sec.link];
  const strtab = strSec && strSec.type === SHT.STRTAB ? (elf.sectionData(strSec) ?? new Uint8Array(0)) : new Uint8Array(0);
  const shndxSec = elf.sections.find((s) => s.type === SHT.SYMTAB_SHNDX && s.link === sec.index);
  const shndxData = shndxSec ? elf.sectionData(shndxSec) : undefined;
  const shndxView = shndxData ? new DataView(shndxData.buffer, shndxData.byteOffset, shndxData.byteLength) : undefined;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = elf.littleEndian;
  const count = Math.floor(data.length / step);
  const out: ElfSymbol[] = [];
  for (let i = 1; i < count; i++) {
    const o = i * step;
    let nameOff: number, info: number, other: number, shndx: number, value: bigint, size: bigint;
    if (elf.is64) {
      nameOff = dv.getUint32(o, le);
      info = dv.getUint8(o + 4);
      other = dv.getUint8(o + 5);
      shndx = dv.getUint16(o + 6, le);
      value = dv.getBigUint64(o + 8, le);
      size = dv.getBigUint64(o + 16, le);
    } else {
      nameOff = dv.getUint32(o, le);
      value = BigInt(dv.getUint32(o + 4, le));
      size = BigInt(dv.getUint32(o + 8, le));
      info = dv.getUint8(o + 12);
      other = dv.getUint8(o + 13);
      shndx = dv.getUint16(o + 14, le);
    }
    if (shndx === SHN.XINDEX && shndxView && i * 4 + 4 <= shndxView.byteLength) shndx = shndxView.getUint32(i * 4, le);
    out.push({
      name: stringAt(strtab, nameOff) ?? '',
      value,
      size,
      type: TYPES[info & 0xf] ?? 'other',
      binding: BINDINGS[info >> 4] ?? 'other',
      visibility: other & 3,
      shndx,
      table,
    });
  }
  return out;
}

/** True when a symbol names an address in the file's address space (what address lookups consider). */
export function isAddressSymbol(s: ElfSymbol): boolean {
  if (s.shndx === SHN.UNDEF || s.shndx === SHN.COMMON) return false;
  return s.type === 'func' || s.type === 'object' || s.type === 'ifunc' || s.type === 'notype';
}

/**
 * An index over symbols: sorted by address for containment lookups, and by
 * name. Built once from any number of tables; a symbol appearing in several
 * (`.symtab` and `.dynsym` both list exported functions) is kept once.
 *
 * Address lookup: binary search for the last symbol starting at or before the
 * address, then walk back while a running maximum of symbol ends says an
 * earlier symbol could still cover it (nested or overlapping symbols), and
 * pick the best covering one: sized over unsized, func/object over notype,
 * global over weak over local.
 */
export class SymbolIndex {
  /** Every symbol, in input order, duplicates removed. */
  readonly all: readonly ElfSymbol[];
  private readonly sorted: ElfSymbol[];
  private readonly maxEnd: bigint[];
  private readonly byName = new Map<string, ElfSymbol[]>();

  constructor(tables: readonly (readonly ElfSymbol[])[]) {
    const seen = new Set<string>();
    const all: ElfSymbol[] = [];
    for (const t of tables) {
      for (const s of t) {
        const key = `${s.name}\0${s.value}\0${s.type}`;
        if (seen.has(key)) continue;
        seen.add(key);
        all.push(s);
      }
    }
    this.all = all;
    for (const s of all) {
      if (!s.name || s.shndx === SHN.UNDEF || s.type === 'section' || s.type === 'file') continue;
      const list = this.byName.get(s.name);
      if (list) list.push(s);
      else this.byName.set(s.name, [s]);
    }
    this.sorted = all.filter(isAddressSymbol).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    this.maxEnd = new Array<bigint>(this.sorted.length);
    let m = 0n;
    for (let i = 0; i < this.sorted.length; i++) {
      const s = this.sorted[i]!;
      const end = s.value + (s.size > 0n ? s.size : 1n);
      if (end > m) m = end;
      this.maxEnd[i] = m;
    }
  }

  /** Defined symbols with this exact name (all tables, any binding). */
  named(name: string): readonly ElfSymbol[] {
    return this.byName.get(name) ?? [];
  }

  /**
   * The symbol covering a link-time address: `value <= addr < value + size`,
   * or an unsized symbol exactly at `addr`. With `nearest`, falls back to the
   * closest symbol starting before `addr` (for code without sizes).
   */
  at(addr: bigint, opts: { nearest?: boolean } = {}): ElfSymbol | undefined {
    const sorted = this.sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]!.value <= addr) lo = mid + 1;
      else hi = mid;
    }
    let best: ElfSymbol | undefined;
    let bestRank = -1;
    for (let i = lo - 1; i >= 0 && this.maxEnd[i]! > addr; i--) {
      const s = sorted[i]!;
      const covers = s.size > 0n ? addr < s.value + s.size : addr === s.value;
      if (!covers) continue;
      const rank = rankOf(s);
      // Prefer the innermost (latest-starting) symbol among equal ranks.
      if (rank > bestRank) {
        best = s;
        bestRank = rank;
      }
    }
    if (best || !opts.nearest || lo === 0) return best;
    return sorted[lo - 1];
  }

  /** Address-bearing symbols sorted by address. */
  byAddress(): readonly ElfSymbol[] {
    return this.sorted;
  }
}

function rankOf(s: ElfSymbol): number {
  const sized = s.size > 0n ? 8 : 0;
  const typed = s.type === 'notype' ? 0 : 4;
  const bind = s.binding === 'global' || s.binding === 'unique' ? 2 : s.binding === 'weak' ? 1 : 0;
  return sized + typed + bind;
}

/** A function's symbol: code one can call (an ifunc resolver's included). */
export function isFunctionSymbol(s: ElfSymbol): boolean {
  return s.type === 'func' || s.type === 'ifunc';
}
