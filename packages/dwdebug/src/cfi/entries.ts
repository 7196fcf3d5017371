import { ByteReader } from '../elf/byte-reader.js';
import { DW_EH_PE } from './constants.js';
import { readEncodedPointer, readEncodedValue } from './encoding.js';
import type { PointerContext } from './encoding.js';
import type { Cie, Fde } from './types.js';

/** One frame section as the parser needs it. */
export interface FrameSection {
  readonly kind: '.eh_frame' | '.debug_frame';
  readonly data: Uint8Array;
  /** Link-time address of the section (pcrel pointers); 0 for `.debug_frame`. */
  readonly address: bigint;
  readonly littleEndian: boolean;
  /** Address size of the file (ELF class); `.debug_frame` v4 CIEs state their own. */
  readonly addressSize: number;
  readonly textBase?: bigint;
  readonly dataBase?: bigint;
  readonly file?: string;
}

/** The header of any entry: where its contents end and what it is. */
interface EntryHeader {
  readonly offset: number;
  /** Offset just past the entry. */
  readonly end: number;
  readonly offsetSize: 4 | 8;
  /** 0 for the terminator (`.eh_frame` zero length). */
  readonly isTerminator: boolean;
  readonly isCie: boolean;
  /** For an FDE: the section offset of its CIE. */
  readonly ciePointer: number;
  /** Position after the CIE id / CIE pointer field. */
  readonly bodyStart: number;
}

/**
 * Parsing of `.eh_frame` and `.debug_frame` entries. The two formats differ in
 * small ways this class hides: the CIE id (0 vs all-ones), what an FDE's CIE
 * pointer is relative to (the field itself vs the section start), pointer
 * encodings (augmentation `R` vs plain addresses), and the terminator
 * (a zero length in `.eh_frame`). CIEs are cached by offset.
 */
export class FrameParser {
  private readonly cies = new Map<number, Cie>();
  readonly reader: ByteReader;

  constructor(readonly section: FrameSection) {
    this.reader = new ByteReader(section.data, section.littleEndian, { ...(section.file === undefined ? {} : { file: section.file }), section: section.kind });
  }

  private header(offset: number): EntryHeader {
    const r = this.reader;
    r.seek(offset);
    let len = r.u32();
    let offsetSize: 4 | 8 = 4;
    if (len === 0xffffffff) {
      offsetSize = 8;
      len = r.offset(8);
    } else if (len >= 0xfffffff0) {
      throw r.error(`reserved entry length 0x${len.toString(16)}`, offset);
    }
    const contentStart = r.pos;
    if (len === 0) return { offset, end: contentStart, offsetSize, isTerminator: true, isCie: false, ciePointer: 0, bodyStart: contentStart };
    if (len > r.data.length - contentStart) throw r.error(`entry length 0x${len.toString(16)} runs past the section`, offset, 'ERR_TRUNCATED');
    const end = contentStart + len;
    const idPos = r.pos;
    let id: number;
    let allOnes: boolean;
    if (offsetSize === 4) {
      id = r.u32();
      allOnes = id === 0xffffffff;
    } else {
      const v = r.u64();
      allOnes = v === 0xffffffffffffffffn;
      if (!allOnes && v >= BigInt(Number.MAX_SAFE_INTEGER)) throw r.error(`CIE pointer 0x${v.toString(16)} too large`, idPos);
      id = allOnes ? 0 : Number(v);
    }
    const eh = this.section.kind === '.eh_frame';
    // .eh_frame: CIE id 0, FDE pointer relative to the field; .debug_frame: all ones, absolute.
    const cie = eh ? id === 0 : allOnes;
    const ciePointer = cie ? 0 : eh ? idPos - id : id;
    return { offset, end, offsetSize, isTerminator: false, isCie: cie, ciePointer, bodyStart: r.pos };
  }

  /** Offset of the entry following the one at `offset`, and whether it was a terminator. */
  next(offset: number): { next: number; terminator: boolean } {
    const h = this.header(offset);
    return { next: h.end, terminator: h.isTerminator };
  }

  /** True when the entry at `offset` is a CIE. */
  isCie(offset: number): boolean {
    return this.header(offset).isCie;
  }

  /** The CIE at a section offset (cached). */
  cie(offset: number): Cie {
    const cached = this.cies.get(offset);
    if (cached) return cached;
    const h = this.header(offset);
    const r = this.reader;
    if (h.isTerminator || !h.isCie) throw r.error('expected a CIE here', offset);
    const version = r.u8();
    if (version !== 1 && version !== 3 && version !== 4) throw r.error(`unsupported CIE version ${version}`, offset);
    const augmentation = r.cstring();
    let addressSize = this.section.addressSize;
    let segmentSize = 0;
    // Old gcc ("eh"): an extra address-sized word (the exception table pointer).
    if (augmentation.includes('eh')) r.skip(addressSize);
    if (version >= 4) {
      addressSize = r.u8();
      segmentSize = r.u8();
      if (addressSize !== 2 && addressSize !== 4 && addressSize !== 8) throw r.error(`bad CIE address size ${addressSize}`, offset);
    }
    const codeAlign = r.uleb();
    const dataAlign = r.sleb();
    const returnAddressRegister = version === 1 ? r.u8() : r.uleb();
    let fdeEncoding: number = DW_EH_PE.absptr;
    let lsdaEncoding: number = DW_EH_PE.omit;
    let personality: bigint | undefined;
    let signalFrame = false;
    const hasAugmentationData = augmentation.startsWith('z');
    let instructionsStart = r.pos;
    if (hasAugmentationData) {
      const augLen = r.uleb();
      const augEnd = r.pos + augLen;
      if (augEnd > h.end) throw r.error('CIE augmentation data runs past the entry', offset);
      const ctx = this.pointerContext();
      for (const c of augmentation.slice(1)) {
        if (c === 'R') fdeEncoding = r.u8();
        else if (c === 'L') lsdaEncoding = r.u8();
        else if (c === 'P') {
          const enc = r.u8();
          const p = readEncodedPointer(r, enc, ctx);
          if (p && !p.indirect) personality = p.value;
        } else if (c === 'S') signalFrame = true;
        // 'B' (AArch64 BTI), 'G' (MTE) carry no data; anything else unknown
        // ends the interpretation — the length still lets us skip the rest.
        else if (c !== 'B' && c !== 'G') break;
      }
      instructionsStart = augEnd;
    } else if (augmentation !== '' && augmentation !== 'eh') {
      // Without 'z' the layout of unknown augmentations is unknowable: no instructions are usable.
      instructionsStart = h.end;
    }
    if (instructionsStart > h.end) throw r.error('CIE fields run past the entry', offset);
    const cie: Cie = {
      offset,
      section: this.section.kind,
      version,
      augmentation,
      addressSize,
      segmentSize,
      codeAlign,
      dataAlign,
      returnAddressRegister,
      fdeEncoding,
      lsdaEncoding,
      ...(personality === undefined ? {} : { personality }),
      signalFrame,
      hasAugmentationData,
      initialInstructions: r.data.subarray(instructionsStart, h.end),
      instructionsOffset: instructionsStart,
    };
    this.cies.set(offset, cie);
    return cie;
  }

  /** The FDE at a section offset, or undefined when the entry there is a CIE or terminator. */
  fde(offset: number): Fde | undefined {
    const h = this.header(offset);
    if (h.isTerminator || h.isCie) return undefined;
    const r = this.reader;
    if (h.ciePointer < 0 || h.ciePointer >= r.data.length) throw r.error(`FDE names a CIE at 0x${h.ciePointer.toString(16)} outside the section`, offset);
    const cie = this.cie(h.ciePointer);
    r.seek(h.bodyStart);
    if (cie.segmentSize > 0) r.skip(cie.segmentSize);
    const ctx = this.pointerContext();
    let start: bigint;
    let range: bigint;
    if (this.section.kind === '.eh_frame') {
      const p = readEncodedPointer(r, cie.fdeEncoding, ctx);
      if (!p) throw r.error('FDE with an omitted address', offset);
      start = p.value;
      range = readEncodedValue(r, cie.fdeEncoding, cie.addressSize);
    } else {
      start = r.unsigned(cie.addressSize);
      range = r.unsigned(cie.addressSize);
    }
    let lsda: bigint | undefined;
    let instructionsStart = r.pos;
    if (cie.hasAugmentationData) {
      const augLen = r.uleb();
      const augEnd = r.pos + augLen;
      if (augEnd > h.end) throw r.error('FDE augmentation data runs past the entry', offset);
      if (cie.lsdaEncoding !== DW_EH_PE.omit && augLen > 0) {
        const p = readEncodedPointer(r, cie.lsdaEncoding, { ...ctx, funcBase: start });
        if (p && !p.indirect) lsda = p.value;
      }
      instructionsStart = augEnd;
    }
    if (instructionsStart > h.end) throw r.error('FDE fields run past the entry', offset);
    return {
      offset,
      cie,
      start,
      end: start + range,
      ...(lsda === undefined ? {} : { lsda }),
      instructions: r.data.subarray(instructionsStart, h.end),
      instructionsOffset: instructionsStart,
    };
  }

  /** Every FDE of the section, in order (CIEs parsed on the way; a terminator ends `.eh_frame`). */
  *fdes(): Generator<Fde> {
    let off = 0;
    const len = this.section.data.length;
    while (off < len) {
      // Trailing padding shorter than a header ends the section.
      if (len - off < 4) break;
      const { next, terminator } = this.next(off);
      if (terminator && this.section.kind === '.eh_frame') break;
      if (!terminator) {
        const f = this.fde(off);
        if (f) yield f;
      }
      off = next;
    }
  }

  /** The pointer context for this section (pcrel relative to the section address). */
  pointerContext(): PointerContext {
    const s = this.section;
    return {
      sectionAddress: s.address,
      addressSize: s.addressSize,
      ...(s.textBase === undefined ? {} : { textBase: s.textBase }),
      ...(s.dataBase === undefined ? {} : { dataBase: s.dataBase }),
    };
  }
}
