import { DwarfError } from '../errors.js';
import type { Binfile } from '../elf/binfile.js';
import { stringAt } from '../elf/byte-reader.js';
import type { AddressedSection } from './table.js';

/** ORC base registers (arch/x86/include/asm/orc_types.h). */
export const ORC_REG = {
  UNDEFINED: 0, PREV_SP: 1, DX: 2, DI: 3, BP: 4, SP: 5, R10: 6, R13: 7, BP_INDIRECT: 8, SP_INDIRECT: 9,
} as const;

/** What an ORC entry says about the frame at its ip. */
export type OrcType = 'undefined' | 'end-of-stack' | 'call' | 'regs' | 'regs-partial';

/**
 * Layout generations of `struct orc_entry`'s bit fields (numbering as drgn's):
 * 1 — v4.14 to v6.2 (type:2 CALL/REGS/REGS_PARTIAL, end:1), which includes
 * Linux 6.1; 2 — v6.3 (adds signal:1 before end); 3 — v6.4 on (type:3 with
 * UNDEFINED and END_OF_STACK, signal:1, no end bit).
 */
export type OrcVersion = 1 | 2 | 3;

/** One decoded ORC entry. */
export interface OrcEntry {
  /** First address the entry covers. */
  readonly ip: bigint;
  /** The next entry's ip (exclusive end), or undefined for the last one. */
  readonly end?: bigint;
  readonly spReg: number;
  readonly spOffset: number;
  readonly bpReg: number;
  readonly bpOffset: number;
  /** Normalised to the v6.4 meaning: an undefined sp_reg in older layouts is `undefined` or, with `end`, `end-of-stack`. */
  readonly type: OrcType;
  /** The frame is a signal/exception frame (the pc is not a return address). Older layouts: REGS and REGS_PARTIAL frames are. */
  readonly signal: boolean;
  /** The raw end-of-stack bit (versions 1 and 2). */
  readonly endFlag: boolean;
}

/** Inputs of {@link OrcTable.fromSections}. */
export interface OrcSources {
  /** `.orc_unwind_ip`: s32 offsets, each relative to its own address. */
  readonly unwindIp: AddressedSection;
  /** `.orc_unwind`: 6-byte entries parallel to the ip table. */
  readonly unwind: Uint8Array;
  readonly littleEndian: boolean;
  readonly version: OrcVersion;
  readonly path?: string;
}

const ENTRY_SIZE = 6;

/** The ORC layout for a kernel release string such as `6.1.0-56-amd64`. */
export function orcVersionForRelease(release: string): OrcVersion {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return 3;
  const v = Number(m[1]) * 1000 + Number(m[2]);
  return v < 6003 ? 1 : v < 6004 ? 2 : 3;
}

/**
 * The kernel's ORC unwind table. Entries are sorted by ip at build time
 * (scripts/sorttable; the kernel's own lookup relies on it); the table is
 * searched in place by binary search over `4*i + ip_offset[i]` (each ip
 * relative to the section start, exact in a double), with a sorted
 * permutation built only if the data turns out unsorted.
 */
export class OrcTable {
  readonly count: number;
  private readonly ipView: DataView;
  private readonly entryView: DataView;
  private readonly order?: Uint32Array;

  private constructor(private readonly src: OrcSources) {
    const ip = src.unwindIp.data;
    this.count = Math.floor(ip.length / 4);
    if (src.unwind.length < this.count * ENTRY_SIZE) {
      throw new DwarfError('ERR_BAD_DATA', `.orc_unwind has ${Math.floor(src.unwind.length / ENTRY_SIZE)} entries, .orc_unwind_ip ${this.count}`, { ...(src.path === undefined ? {} : { file: src.path }), section: '.orc_unwind' });
    }
    this.ipView = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
    this.entryView = new DataView(src.unwind.buffer, src.unwind.byteOffset, src.unwind.byteLength);
    let sorted = true;
    for (let i = 1; i < this.count && sorted; i++) if (this.rel(i) < this.rel(i - 1)) sorted = false;
    if (!sorted) {
      const order = new Uint32Array(this.count);
      for (let i = 0; i < this.count; i++) order[i] = i;
      const rels = Float64Array.from(order, (i) => this.rel(i));
      order.sort((a, b) => rels[a]! - rels[b]!);
      this.order = order;
    }
  }

  /** A table from section bytes. */
  static fromSections(src: OrcSources): OrcTable {
    return new OrcTable(src);
  }

  /**
   * The table of a kernel image (debug vmlinux or a module), or undefined
   * when it has none. The layout version is `opts.version`, else 3 when an
   * `.orc_header` exists (v6.6+), else taken from the `linux_banner` release.
   */
  static fromBinfile(bin: Binfile, opts: { version?: OrcVersion } = {}): OrcTable | undefined {
    const s = bin.unwindSections();
    const ip = s.section('.orc_unwind_ip');
    const unwind = s.section('.orc_unwind');
    if (!ip || !unwind) return undefined;
    let version = opts.version;
    if (version === undefined && s.section('.orc_header')) version = 3;
    if (version === undefined) {
      const release = kernelRelease(bin);
      version = release ? orcVersionForRelease(release) : 3;
    }
    return new OrcTable({ unwindIp: { data: ip, address: s.sectionAddress('.orc_unwind_ip') ?? 0n }, unwind, littleEndian: s.littleEndian, version, path: s.path });
  }

  /** The ip of entry i relative to the ip section's address. */
  private rel(i: number): number {
    return i * 4 + this.ipView.getInt32(i * 4, this.src.littleEndian);
  }

  private sortedIndex(k: number): number {
    return this.order ? this.order[k]! : k;
  }

  /** The i-th entry in ip order. */
  entry(k: number): OrcEntry {
    const i = this.sortedIndex(k);
    const le = this.src.littleEndian;
    const base = this.src.unwindIp.address;
    const e = this.entryView;
    const o = i * ENTRY_SIZE;
    const spOffset = e.getInt16(o, le);
    const bpOffset = e.getInt16(o + 2, le);
    const bits = e.getUint16(o + 4, le);
    const spReg = bits & 0xf;
    const bpReg = (bits >> 4) & 0xf;
    let type: OrcType;
    let signal: boolean;
    let endFlag = false;
    if (this.src.version === 3) {
      type = (['undefined', 'end-of-stack', 'call', 'regs', 'regs-partial'] as const)[(bits >> 8) & 7] ?? 'undefined';
      signal = (bits & 0x800) !== 0;
    } else {
      const raw = (bits >> 8) & 3;
      endFlag = ((bits >> (this.src.version === 1 ? 10 : 11)) & 1) !== 0;
      const t = (['call', 'regs', 'regs-partial'] as const)[raw];
      signal = this.src.version === 2 ? ((bits >> 10) & 1) !== 0 : t === 'regs' || t === 'regs-partial';
      type = spReg === ORC_REG.UNDEFINED ? (endFlag ? 'end-of-stack' : 'undefined') : (t ?? 'undefined');
    }
    const ip = base + BigInt(this.rel(i));
    const next = k + 1 < this.count ? base + BigInt(this.rel(this.sortedIndex(k + 1))) : undefined;
    return { ip, ...(next === undefined ? {} : { end: next }), spReg, spOffset, bpReg, bpOffset, type, signal, endFlag };
  }

  /** The entry covering a pc (the last one whose ip is at or below it), or undefined before the first. */
  entryFor(pc: bigint): OrcEntry | undefined {
    const d = pc - this.src.unwindIp.address;
    if (d > 1n << 40n || d < -(1n << 40n) || this.count === 0) return undefined;
    const target = Number(d);
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel(this.sortedIndex(mid)) <= target) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : this.entry(lo - 1);
  }
}

/** The kernel release from `linux_banner` ("Linux version 6.1.0-56-amd64 ..."), if the image has it. */
export function kernelRelease(bin: Binfile): string | undefined {
  const sym = bin.symbolsNamed('linux_banner')[0];
  if (!sym) return undefined;
  for (const f of [bin.elf, bin.debugElf]) {
    if (!f) continue;
    const sec = f.sections.find((s) => (s.flags & 2n) !== 0n && s.addr <= sym.value && sym.value < s.addr + BigInt(s.size) && f.hasContents(s));
    if (!sec) continue;
    const data = f.sectionData(sec)!;
    const banner = stringAt(data.subarray(0, Math.min(data.length, Number(sym.value - sec.addr) + 256)), Number(sym.value - sec.addr));
    const m = banner && /^Linux version (\S+)/.exec(banner);
    if (m) return m[1];
  }
  return undefined;
}
