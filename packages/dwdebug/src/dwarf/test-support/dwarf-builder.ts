/**
 * A small DWARF assembler for tests: builds `.debug_*` sections byte by byte
 * from a description of units and DIEs, so edge cases (every form, 64-bit
 * DWARF, DWARF 2-5 layouts, type units, supplementary references) can be
 * tested without a compiler that happens to emit them.
 */
import type { DwarfSections } from '../../sections.js';
import { DW_FORM } from '../constants.js';

/** A growable little-endian byte buffer. */
export class Bytes {
  readonly b: number[] = [];
  get length(): number {
    return this.b.length;
  }
  u8(v: number): this {
    this.b.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u24(v: number): this {
    return this.u16(v).u8(v >> 16);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(Math.floor(v / 65536));
  }
  u64(v: bigint | number): this {
    const x = BigInt(v);
    return this.u32(Number(x & 0xffffffffn)).u32(Number((x >> 32n) & 0xffffffffn));
  }
  uN(v: number | bigint, n: number): this {
    if (n === 1) return this.u8(Number(v));
    if (n === 2) return this.u16(Number(v));
    if (n === 3) return this.u24(Number(v));
    if (n === 4) return this.u32(Number(v));
    return this.u64(v);
  }
  sbyte(v: number): this {
    return this.u8(v & 0xff);
  }
  uleb(v: number | bigint): this {
    let x = BigInt(v);
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      this.u8(byte);
    } while (x !== 0n);
    return this;
  }
  sleb(v: number | bigint): this {
    let x = BigInt(v);
    for (;;) {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && !(byte & 0x40)) || (x === -1n && byte & 0x40);
      this.u8(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }
  cstr(s: string): this {
    for (const c of new TextEncoder().encode(s)) this.u8(c);
    return this.u8(0);
  }
  bytes(a: ArrayLike<number>): this {
    for (let i = 0; i < a.length; i++) this.u8(a[i]!);
    return this;
  }
  set32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.b[at + i] = (v >>> (8 * i)) & 0xff;
  }
  setN(at: number, v: number, n: number): void {
    for (let i = 0; i < n; i++) this.b[at + i] = Math.floor(v / 2 ** (8 * i)) & 0xff;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.b);
  }
}

/** An attribute value: a number/bigint/string/bytes, or a reference to a labelled DIE. */
export type Value = number | bigint | string | Uint8Array | { ref: string } | boolean | { indirect: number; value: Value };

/** A DIE to assemble. */
export interface DieSpec {
  readonly tag: number;
  readonly attrs?: readonly [at: number, form: number, value: Value][];
  readonly children?: readonly DieSpec[];
  /** A name other DIEs can reference with `{ ref: label }`. */
  readonly label?: string;
}

/** A unit to assemble. */
export interface UnitSpec {
  readonly version: 2 | 3 | 4 | 5;
  readonly offsetSize?: 4 | 8;
  readonly addressSize?: number;
  /** DW_UT_* for DWARF 5 (default compile). */
  readonly unitType?: number;
  /** For type units: the signature and the label of the type DIE. */
  readonly typeSignature?: bigint;
  readonly typeLabel?: string;
  /** Put the unit in `.debug_types` (DWARF 4 type units). */
  readonly inTypesSection?: boolean;
  readonly root: DieSpec;
}

/** Sections assembled so far, plus helpers to add raw sections. */
export class DwarfBuilder {
  readonly sections = new Map<string, Uint8Array>();
  private readonly str = new Bytes();
  private readonly strOffsets = new Map<string, number>();
  readonly labels = new Map<string, number>();

  /** Offset of a string in `.debug_str` (added once). */
  strp(s: string): number {
    let o = this.strOffsets.get(s);
    if (o === undefined) {
      o = this.str.length;
      this.str.cstr(s);
      this.strOffsets.set(s, o);
    }
    return o;
  }

  /** Assembles the units into `.debug_info` (and `.debug_types`), `.debug_abbrev`, `.debug_str`. */
  units(units: readonly UnitSpec[]): this {
    const info = new Bytes();
    const types = new Bytes();
    const abbrev = new Bytes();
    const fixups: { buf: Bytes; at: number; label: string; size: number; base: number }[] = [];
    let code = 1;
    for (const u of units) {
      const os = u.offsetSize ?? 4;
      const as = u.addressSize ?? 8;
      const buf = u.inTypesSection ? types : info;
      const abbrevOffset = abbrev.length;
      const unitStart = buf.length;
      if (os === 8) buf.u32(0xffffffff).u64(0);
      else buf.u32(0);
      const lenAt = buf.length - os;
      const afterLen = buf.length;
      buf.u16(u.version);
      let typeOffsetAt = -1;
      if (u.version >= 5) {
        buf.u8(u.unitType ?? 1).u8(as).uN(abbrevOffset, os);
        if (u.typeSignature !== undefined) {
          buf.u64(u.typeSignature);
          typeOffsetAt = buf.length;
          buf.uN(0, os);
        }
      } else {
        buf.uN(abbrevOffset, os).u8(as);
        if (u.typeSignature !== undefined) {
          buf.u64(u.typeSignature);
          typeOffsetAt = buf.length;
          buf.uN(0, os);
        }
      }
      const emit = (d: DieSpec) => {
        // Labels are unit-relative DIE offsets, what ref1-8 forms hold.
        if (d.label) this.labels.set(d.label, buf.length - unitStart);
        const my = code++;
        abbrev.uleb(my).uleb(d.tag).u8(d.children?.length ? 1 : 0);
        for (const [at, form, v] of d.attrs ?? []) {
          abbrev.uleb(at).uleb(form);
          if (form === DW_FORM.implicit_const) abbrev.sleb(v as number | bigint);
        }
        abbrev.u8(0).u8(0);
        buf.uleb(my);
        for (const [, form, v] of d.attrs ?? []) this.value(buf, form, v, os, as, u.version, unitStart, fixups);
        if (d.children?.length) {
          for (const c of d.children) emit(c);
          buf.u8(0);
        }
      };
      emit(u.root);
      abbrev.u8(0);
      const len = buf.length - afterLen;
      buf.setN(lenAt, len, os);
      if (typeOffsetAt >= 0) buf.setN(typeOffsetAt, this.labels.get(u.typeLabel!)!, os);
      for (const f of fixups.filter((x) => x.buf === buf && x.base === unitStart)) {
        const target = this.labels.get(f.label);
        if (target === undefined) throw new Error(`no DIE labelled ${f.label}`);
        if (f.size === -4) for (let i = 0; i < 4; i++) buf.b[f.at + i] = ((target >> (7 * i)) & 0x7f) | (i < 3 ? 0x80 : 0);
        else buf.setN(f.at, target, f.size);
      }
    }
    this.sections.set('.debug_info', info.done());
    if (types.length) this.sections.set('.debug_types', types.done());
    this.sections.set('.debug_abbrev', abbrev.done());
    this.sections.set('.debug_str', this.str.done());
    return this;
  }

  private value(buf: Bytes, form: number, v: Value, os: number, as: number, version: number, unitStart: number, fixups: { buf: Bytes; at: number; label: string; size: number; base: number }[]): void {
    const ref = (size: number) => {
      fixups.push({ buf, at: buf.length, label: (v as unknown as { ref: string }).ref, size, base: unitStart });
      buf.uN(0, size);
    };
    switch (form) {
      case DW_FORM.addr: buf.uN(v as number | bigint, as); break;
      case DW_FORM.data1: case DW_FORM.ref1: case DW_FORM.flag: case DW_FORM.strx1: case DW_FORM.addrx1:
        if (typeof v === 'object' && 'ref' in v) ref(1); else buf.u8(Number(v)); break;
      case DW_FORM.data2: case DW_FORM.ref2: case DW_FORM.strx2: case DW_FORM.addrx2:
        if (typeof v === 'object' && 'ref' in v) ref(2); else buf.u16(Number(v)); break;
      case DW_FORM.strx3: case DW_FORM.addrx3: buf.u24(Number(v)); break;
      case DW_FORM.data4: case DW_FORM.ref4: case DW_FORM.strx4: case DW_FORM.addrx4: case DW_FORM.ref_sup4:
        if (typeof v === 'object' && 'ref' in v) ref(4); else buf.u32(Number(v)); break;
      case DW_FORM.data8: case DW_FORM.ref8: case DW_FORM.ref_sig8: case DW_FORM.ref_sup8:
        if (typeof v === 'object' && 'ref' in v) ref(8); else buf.u64(v as number | bigint); break;
      case DW_FORM.data16: buf.bytes(v as Uint8Array); break;
      case DW_FORM.ref_udata:
        if (typeof v === 'object' && 'ref' in v) {
          // A reference not known yet: a ULEB128 padded to 4 bytes, patched later.
          fixups.push({ buf, at: buf.length, label: v.ref, size: -4, base: unitStart });
          buf.u32(0);
        } else buf.uleb(v as number | bigint);
        break;
      case DW_FORM.udata: case DW_FORM.strx: case DW_FORM.addrx: case DW_FORM.loclistx: case DW_FORM.rnglistx:
      case DW_FORM.GNU_addr_index: case DW_FORM.GNU_str_index:
        buf.uleb(v as number | bigint); break;
      case DW_FORM.sdata: buf.sleb(v as number | bigint); break;
      case DW_FORM.string: buf.cstr(v as string); break;
      case DW_FORM.strp: buf.uN(typeof v === 'string' ? this.strp(v) : (v as number), os); break;
      case DW_FORM.line_strp: case DW_FORM.sec_offset: case DW_FORM.strp_sup: case DW_FORM.GNU_strp_alt: case DW_FORM.GNU_ref_alt:
        buf.uN(v as number, os); break;
      case DW_FORM.ref_addr: buf.uN(v as number, version <= 2 ? as : os); break;
      case DW_FORM.flag_present: case DW_FORM.implicit_const: break;
      case DW_FORM.indirect: {
        const ind = v as { indirect: number; value: Value };
        buf.uleb(ind.indirect);
        this.value(buf, ind.indirect, ind.value, os, as, version, unitStart, fixups);
        break;
      }
      case DW_FORM.block1: buf.u8((v as Uint8Array).length).bytes(v as Uint8Array); break;
      case DW_FORM.block2: buf.u16((v as Uint8Array).length).bytes(v as Uint8Array); break;
      case DW_FORM.block4: buf.u32((v as Uint8Array).length).bytes(v as Uint8Array); break;
      case DW_FORM.block: case DW_FORM.exprloc: buf.uleb((v as Uint8Array).length).bytes(v as Uint8Array); break;
      default: throw new Error(`builder: form 0x${form.toString(16)} not supported`);
    }
  }

  /** Adds a raw section. */
  raw(name: string, bytes: Uint8Array): this {
    this.sections.set(name, bytes);
    return this;
  }

  /** The sections as {@link DwarfSections}. */
  build(path = 'synthetic', supplementary?: DwarfSections): DwarfSections {
    const secs = new Map(this.sections);
    return { path, littleEndian: true, is64: true, section: (n) => secs.get(n), ...(supplementary ? { supplementary } : {}) };
  }
}

/** Builds a `.debug_str_offsets` (DWARF 5) table for strings of `.debug_str`; returns bytes and the base. */
export function strOffsetsTable(offsets: readonly number[], offsetSize: 4 | 8 = 4): { bytes: Uint8Array; base: number } {
  const b = new Bytes();
  const header = offsetSize === 8 ? 16 : 8;
  if (offsetSize === 8) b.u32(0xffffffff).u64(offsets.length * 8 + 4);
  else b.u32(offsets.length * 4 + 4);
  b.u16(5).u16(0);
  for (const o of offsets) b.uN(o, offsetSize);
  return { bytes: b.done(), base: header };
}

/** Builds a `.debug_addr` (DWARF 5) table; returns bytes and the base. */
export function addrTable(addrs: readonly bigint[], offsetSize: 4 | 8 = 4): { bytes: Uint8Array; base: number } {
  const b = new Bytes();
  if (offsetSize === 8) b.u32(0xffffffff).u64(addrs.length * 8 + 4);
  else b.u32(addrs.length * 8 + 4);
  b.u16(5).u8(8).u8(0);
  for (const a of addrs) b.u64(a);
  return { bytes: b.done(), base: offsetSize === 8 ? 16 : 8 };
}

/** Builds a DWARF 5 list section (`.debug_rnglists`/`.debug_loclists`) with an offsets array; each list is raw entry bytes. */
export function listsTable(lists: readonly Uint8Array[], offsetSize: 4 | 8 = 4): { bytes: Uint8Array; base: number; offsets: number[] } {
  const body = new Bytes();
  const rel: number[] = [];
  const arr = lists.length * offsetSize;
  for (const l of lists) {
    rel.push(arr + body.length);
    body.bytes(l);
  }
  const b = new Bytes();
  const len = 2 + 1 + 1 + 4 + arr + body.length;
  if (offsetSize === 8) b.u32(0xffffffff).u64(len);
  else b.u32(len);
  b.u16(5).u8(8).u8(0).u32(lists.length);
  const base = b.length;
  for (const r of rel) b.uN(r, offsetSize);
  b.bytes(body.b);
  return { bytes: b.done(), base, offsets: rel.map((r) => base + r) };
}
