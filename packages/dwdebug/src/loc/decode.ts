import { ByteReader } from '../elf/byte-reader.js';
import type { UnitEnv } from './types.js';
import { DW_OP, opName } from './ops.js';

/** One decoded operation with its operands. */
export interface DecodedOp {
  /** Byte offset of the opcode in the expression. */
  readonly offset: number;
  /** Offset just past the operation. */
  readonly end: number;
  readonly code: number;
  /** Numeric operands in order (registers, offsets, sizes, type offsets, constants). */
  readonly args: readonly bigint[];
  /** The block operand of implicit_value, entry_value and const_type. */
  readonly block?: Uint8Array;
}

/** The unit facts decoding needs (a subset of {@link UnitEnv}). */
export type DecodeUnit = Pick<UnitEnv, 'version' | 'addressSize' | 'offsetSize' | 'littleEndian'>;

/** Where an expression lives, for error messages. */
export interface ExprOrigin {
  readonly file?: string;
  readonly section?: string;
  /** Section offset of the expression's first byte. */
  readonly base?: number;
}

/**
 * Decodes an expression into operations, checking every operand against the
 * bytes available. Throws a DwarfError (with the offset) on malformed input.
 */
export function decodeExpression(expr: Uint8Array, unit: DecodeUnit, origin: ExprOrigin = {}): DecodedOp[] {
  const r = new ByteReader(expr, unit.littleEndian, { section: origin.section ?? 'location expression', ...(origin.file === undefined ? {} : { file: origin.file }), ...(origin.base === undefined ? {} : { base: origin.base }) });
  const ops: DecodedOp[] = [];
  // DWARF 2 encodes DIE references in call_ref/implicit_pointer as addresses.
  const refSize = unit.version <= 2 ? unit.addressSize : unit.offsetSize;
  const big = (n: number) => BigInt(n);
  while (!r.atEnd) {
    const offset = r.pos;
    const code = r.u8();
    let args: bigint[] = [];
    let block: Uint8Array | undefined;
    if ((code >= DW_OP.lit0 && code <= DW_OP.lit31) || (code >= DW_OP.reg0 && code <= DW_OP.reg31)) {
      // No operands.
    } else if (code >= DW_OP.breg0 && code <= DW_OP.breg31) {
      args = [r.slebBig()];
    } else {
      switch (code) {
        case DW_OP.addr: args = [r.unsigned(unit.addressSize)]; break;
        case DW_OP.const1u: case DW_OP.pick: case DW_OP.deref_size: case DW_OP.xderef_size: args = [big(r.u8())]; break;
        case DW_OP.const1s: args = [big(r.s8())]; break;
        case DW_OP.const2u: case DW_OP.call2: args = [big(r.u16())]; break;
        case DW_OP.const2s: case DW_OP.skip: case DW_OP.bra: args = [big(r.s16())]; break;
        case DW_OP.const4u: case DW_OP.call4: case DW_OP.GNU_parameter_ref: args = [big(r.u32())]; break;
        case DW_OP.const4s: args = [big(r.s32())]; break;
        case DW_OP.const8u: args = [r.u64()]; break;
        case DW_OP.const8s: args = [r.s64()]; break;
        case DW_OP.constu: case DW_OP.plus_uconst: case DW_OP.regx: case DW_OP.piece: case DW_OP.addrx: case DW_OP.constx:
        case DW_OP.GNU_addr_index: case DW_OP.GNU_const_index: case DW_OP.convert: case DW_OP.GNU_convert:
        case DW_OP.reinterpret: case DW_OP.GNU_reinterpret:
          args = [r.ulebBig()];
          break;
        case DW_OP.consts: case DW_OP.fbreg: args = [r.slebBig()]; break;
        case DW_OP.bregx: args = [r.ulebBig(), r.slebBig()]; break;
        case DW_OP.bit_piece: args = [r.ulebBig(), r.ulebBig()]; break;
        case DW_OP.call_ref: case DW_OP.GNU_variable_value: args = [r.unsigned(refSize)]; break;
        case DW_OP.implicit_pointer: case DW_OP.GNU_implicit_pointer: args = [r.unsigned(refSize), r.slebBig()]; break;
        case DW_OP.implicit_value: case DW_OP.entry_value: case DW_OP.GNU_entry_value: block = r.bytes(r.uleb()); break;
        case DW_OP.const_type: case DW_OP.GNU_const_type: {
          const type = r.ulebBig();
          const size = r.u8();
          args = [type, big(size)];
          block = r.bytes(size);
          break;
        }
        case DW_OP.regval_type: case DW_OP.GNU_regval_type: args = [r.ulebBig(), r.ulebBig()]; break;
        case DW_OP.deref_type: case DW_OP.GNU_deref_type: case DW_OP.xderef_type: {
          const size = r.u8();
          args = [big(size), r.ulebBig()];
          break;
        }
        case DW_OP.deref: case DW_OP.dup: case DW_OP.drop: case DW_OP.over: case DW_OP.swap: case DW_OP.rot: case DW_OP.xderef:
        case DW_OP.abs: case DW_OP.and: case DW_OP.div: case DW_OP.minus: case DW_OP.mod: case DW_OP.mul: case DW_OP.neg:
        case DW_OP.not: case DW_OP.or: case DW_OP.plus: case DW_OP.shl: case DW_OP.shr: case DW_OP.shra: case DW_OP.xor:
        case DW_OP.eq: case DW_OP.ge: case DW_OP.gt: case DW_OP.le: case DW_OP.lt: case DW_OP.ne: case DW_OP.nop:
        case DW_OP.push_object_address: case DW_OP.form_tls_address: case DW_OP.call_frame_cfa: case DW_OP.stack_value:
        case DW_OP.GNU_push_tls_address: case DW_OP.GNU_uninit:
          break;
        default:
          throw r.error(`unsupported expression operation ${opName(code)}`, offset);
      }
    }
    ops.push({ offset, end: r.pos, code, args, ...(block ? { block } : {}) });
  }
  return ops;
}
