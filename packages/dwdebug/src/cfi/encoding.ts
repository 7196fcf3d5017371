import type { ByteReader } from '../elf/byte-reader.js';
import { DW_EH_PE } from './constants.js';

/** What relative pointer encodings are relative to. */
export interface PointerContext {
  /** Link-time address of the reader's `data[0]` (for `pcrel`). */
  readonly sectionAddress: bigint;
  /** Size of an `absptr` (4 or 8). */
  readonly addressSize: number;
  /** Base for `textrel` (the start of `.text`). */
  readonly textBase?: bigint;
  /** Base for `datarel` (`.eh_frame_hdr` start in that section; the GOT on i386). */
  readonly dataBase?: bigint;
  /** Base for `funcrel` (the FDE's start address). */
  readonly funcBase?: bigint;
}

/** A decoded pointer. `indirect` means it is the address of the real pointer (`DW_EH_PE_indirect`). */
export interface EncodedPointer {
  readonly value: bigint;
  readonly indirect: boolean;
}

/** The size in bytes of a fixed-size pointer encoding, or undefined for LEB128 and `omit`. */
export function encodedSize(enc: number, addressSize: number): number | undefined {
  if (enc === DW_EH_PE.omit) return undefined;
  switch (enc & 0x0f) {
    case DW_EH_PE.absptr: return addressSize;
    case DW_EH_PE.udata2: case DW_EH_PE.sdata2: return 2;
    case DW_EH_PE.udata4: case DW_EH_PE.sdata4: return 4;
    case DW_EH_PE.udata8: case DW_EH_PE.sdata8: return 8;
    default: return undefined;
  }
}

/** Reads just the value format (no application), e.g. an FDE's address range. */
export function readEncodedValue(r: ByteReader, enc: number, addressSize: number): bigint {
  switch (enc & 0x0f) {
    case DW_EH_PE.absptr: return r.unsigned(addressSize);
    case DW_EH_PE.uleb128: return r.ulebBig();
    case DW_EH_PE.udata2: return BigInt(r.u16());
    case DW_EH_PE.udata4: return BigInt(r.u32());
    case DW_EH_PE.udata8: return r.u64();
    case DW_EH_PE.sleb128: return r.slebBig();
    case DW_EH_PE.sdata2: return BigInt(r.s16());
    case DW_EH_PE.sdata4: return BigInt(r.s32());
    case DW_EH_PE.sdata8: return r.s64();
    default: throw r.error(`unknown pointer encoding 0x${enc.toString(16)}`);
  }
}

/**
 * Reads a pointer in a `DW_EH_PE_*` encoding: the value format (low nibble),
 * then the application (`pcrel` relative to the field's own address,
 * `textrel`/`datarel`/`funcrel` to the bases in `ctx`, `aligned` to the
 * address size). Returns undefined for `DW_EH_PE_omit`.
 */
export function readEncodedPointer(r: ByteReader, enc: number, ctx: PointerContext): EncodedPointer | undefined {
  if (enc === DW_EH_PE.omit) return undefined;
  const at = r.pos;
  const app = enc & 0x70;
  if (app === DW_EH_PE.aligned) r.seek(Math.min(r.data.length, Math.ceil(at / ctx.addressSize) * ctx.addressSize));
  let value = readEncodedValue(r, app === DW_EH_PE.aligned ? DW_EH_PE.absptr : enc, ctx.addressSize);
  switch (app) {
    case DW_EH_PE.absptr: case DW_EH_PE.aligned: break;
    case DW_EH_PE.pcrel: value += ctx.sectionAddress + BigInt(at); break;
    case DW_EH_PE.textrel:
      if (ctx.textBase === undefined) throw r.error('textrel pointer without a text base', at);
      value += ctx.textBase;
      break;
    case DW_EH_PE.datarel:
      if (ctx.dataBase === undefined) throw r.error('datarel pointer without a data base', at);
      value += ctx.dataBase;
      break;
    case DW_EH_PE.funcrel:
      if (ctx.funcBase === undefined) throw r.error('funcrel pointer outside an FDE', at);
      value += ctx.funcBase;
      break;
    default: throw r.error(`unknown pointer application 0x${app.toString(16)}`, at);
  }
  return { value: BigInt.asUintN(ctx.addressSize * 8, value), indirect: (enc & DW_EH_PE.indirect) !== 0 };
}
