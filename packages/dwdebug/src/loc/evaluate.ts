import { DwarfError } from '../errors.js';
import { decodeExpression } from './decode.js';
import type { DecodedOp, ExprOrigin } from './decode.js';
import { DW_OP, opName } from './ops.js';
import type { LocationEnv, LocationPiece, LocationResult, SimpleLocation, UnitEnv } from './types.js';

/** Limits and inputs of {@link evaluate}. */
export interface EvaluateOptions {
  /** Values pushed before the first operation (e.g. the object address for `DW_AT_data_member_location`). */
  readonly initialStack?: readonly bigint[];
  /** Operations executed before giving up (loops through DW_OP_bra/skip); default 100,000. */
  readonly maxSteps?: number;
  /** Deepest stack allowed; default 1,024. */
  readonly maxStack?: number;
  /** Deepest DW_OP_call nesting; default 16. */
  readonly maxCallDepth?: number;
  /** Where the expression comes from, for error messages. */
  readonly origin?: ExprOrigin;
}

/** A base type of the typed stack (DWARF 5 §2.5.1). `undefined` stands for the generic type. */
interface StackType {
  readonly offset: number;
  readonly size: number;
  readonly encoding: number;
}

interface StackValue {
  readonly v: bigint;
  readonly type?: StackType;
}

// DW_ATE_* encodings the evaluator distinguishes.
const ATE_FLOAT = 0x04;
const ATE_SIGNED = 0x05;
const ATE_SIGNED_CHAR = 0x06;
const ATE_SIGNED_FIXED = 0x0d;

/** Signals that a value is not available in this frame; caught per piece or at the top. */
class Unavailable {
  constructor(readonly reason: string) {}
}

/** A location an operation named, waiting for DW_OP_piece or the end. */
type Pending = { kind: 'register'; dwarf: number } | { kind: 'value'; bytes: Uint8Array } | { kind: 'implicit-pointer'; die: number; offset: bigint };

/**
 * Evaluates a DWARF location description or DWARF expression (DWARF 5 §2.5,
 * §2.6) against a frame. The machine: a stack of (value, type) pairs where
 * type is the generic address-sized integer or a base type of the unit;
 * every operation of DWARF 5 and the GNU extensions gcc emits.
 *
 * Results distinguish "optimized out" (an empty expression or piece: the
 * value does not exist here) from "unavailable" (it exists but this frame
 * cannot produce it: a register the unwinder could not recover, unreadable
 * memory, an unknown entry value). In a composite location only the piece
 * that hit the problem becomes unavailable.
 *
 * Malformed bytes, type mismatches, stack underflow, division by zero and
 * exhausted limits throw {@link DwarfError} (code `ERR_DWARF_EXPR` or a
 * decode code) naming the offset; nothing else is thrown.
 */
export async function evaluate(expr: Uint8Array, unit: UnitEnv, env: LocationEnv, opts: EvaluateOptions = {}): Promise<LocationResult> {
  if (expr.length === 0) return { kind: 'optimized-out' };
  const m = new Machine(unit, env, opts);
  return m.run(decodeExpression(expr, unit, opts.origin ?? {}));
}

class Machine {
  private stack: StackValue[] = [];
  private steps = 0;
  private readonly maxSteps: number;
  private readonly maxStack: number;
  private readonly maxCallDepth: number;
  private readonly addrBits: bigint;
  private readonly origin: ExprOrigin;

  constructor(
    private readonly unit: UnitEnv,
    private readonly env: LocationEnv,
    opts: EvaluateOptions,
  ) {
    this.maxSteps = opts.maxSteps ?? 100_000;
    this.maxStack = opts.maxStack ?? 1024;
    this.maxCallDepth = opts.maxCallDepth ?? 16;
    this.addrBits = BigInt(unit.addressSize * 8);
    this.origin = opts.origin ?? {};
    for (const v of opts.initialStack ?? []) this.stack.push({ v: BigInt.asUintN(Number(this.addrBits), v) });
  }

  private fail(message: string, op?: DecodedOp): DwarfError {
    const where: { file?: string; section?: string; offset?: number } = { section: this.origin.section ?? 'location expression' };
    if (this.origin.file !== undefined) where.file = this.origin.file;
    if (op) where.offset = (this.origin.base ?? 0) + op.offset;
    return new DwarfError('ERR_DWARF_EXPR', op ? `${opName(op.code)}: ${message}` : message, where);
  }

  async run(ops: DecodedOp[]): Promise<LocationResult> {
    const pieces: LocationPiece[] = [];
    let pieceStart = 0;
    let i = 0;
    // Index of the next DW_OP_piece/bit_piece at or after each op (to skip an unavailable piece).
    const nextPiece: number[] = new Array<number>(ops.length + 1).fill(-1);
    for (let k = ops.length - 1; k >= 0; k--) nextPiece[k] = isPiece(ops[k]!.code) ? k : nextPiece[k + 1]!;
    let pending: Pending | undefined;
    let unavailable: string | undefined;
    while (i < ops.length) {
      const op = ops[i]!;
      if (isPiece(op.code)) {
        const bitSize = op.code === DW_OP.piece ? Number(op.args[0]!) * 8 : Number(op.args[0]!);
        const bitOffset = op.code === DW_OP.bit_piece ? Number(op.args[1]!) : 0;
        let location: SimpleLocation;
        if (unavailable !== undefined) location = { kind: 'unavailable', reason: unavailable };
        else if (pending) location = pending;
        else if (i === pieceStart) location = { kind: 'optimized-out' };
        else location = { kind: 'memory', address: this.pop(op).v };
        pieces.push({ location, bitSize, bitOffset });
        pending = undefined;
        unavailable = undefined;
        pieceStart = i + 1;
        i++;
        continue;
      }
      if (pending) throw this.fail('only DW_OP_piece may follow a register, implicit value or implicit pointer', op);
      try {
        const r = await this.step(op, ops, 0);
        if (typeof r === 'number') i = r;
        else {
          if (r) pending = r;
          i++;
        }
      } catch (err) {
        if (!(err instanceof Unavailable)) throw err;
        const np = nextPiece[i]!;
        if (np < 0) return { kind: 'unavailable', reason: err.reason };
        unavailable = err.reason;
        i = np;
      }
    }
    if (pieces.length > 0) {
      if (pieceStart < ops.length) throw this.fail('operations after the last DW_OP_piece', ops[pieceStart]);
      return { kind: 'pieces', pieces };
    }
    if (pending) return pending;
    if (this.stack.length === 0) throw this.fail('the expression leaves nothing on the stack', ops[ops.length - 1]);
    const top = this.stack[this.stack.length - 1]!;
    return { kind: 'memory', address: top.v };
  }

  private push(op: DecodedOp, v: StackValue): void {
    if (this.stack.length >= this.maxStack) throw this.fail(`stack deeper than ${this.maxStack}`, op);
    this.stack.push(v);
  }

  private pop(op: DecodedOp): StackValue {
    const v = this.stack.pop();
    if (!v) throw this.fail('stack underflow', op);
    return v;
  }

  private peek(op: DecodedOp, depth: number): StackValue {
    const v = this.stack[this.stack.length - 1 - depth];
    if (!v) throw this.fail('stack underflow', op);
    return v;
  }

  private generic(v: bigint): StackValue {
    return { v: BigInt.asUintN(Number(this.addrBits), v) };
  }

  private typed(v: bigint, type: StackType | undefined): StackValue {
    return type ? { v: BigInt.asUintN(type.size * 8, v), type } : this.generic(v);
  }

  private baseType(op: DecodedOp, offset: bigint): StackType | undefined {
    if (offset === 0n) return undefined;
    const t = this.unit.baseType(Number(offset));
    if (!t) throw this.fail(`no base type at unit offset 0x${offset.toString(16)}`, op);
    if (t.size < 1 || t.size > 8) throw this.fail(`base type of ${t.size} bytes is not supported on the stack`, op);
    return { offset: Number(offset), size: t.size, encoding: t.encoding };
  }

  private async register(reg: number): Promise<bigint> {
    const v = await this.env.register(reg);
    if (v === undefined) throw new Unavailable(`register ${reg} is not available in this frame`);
    return v;
  }

  private async read(address: bigint, size: number): Promise<bigint> {
    let bytes: Uint8Array;
    try {
      bytes = await this.env.memory(address, size);
    } catch {
      throw new Unavailable(`cannot read memory at 0x${address.toString(16)}`);
    }
    if (bytes.length < size) throw new Unavailable(`cannot read memory at 0x${(address + BigInt(bytes.length)).toString(16)}`);
    return fromBytes(bytes.subarray(0, size), this.unit.littleEndian);
  }

  private signed(x: StackValue): bigint {
    const bits = x.type ? x.type.size * 8 : Number(this.addrBits);
    return BigInt.asIntN(bits, x.v);
  }

  /** Signed interpretation for ordering and division: the generic type counts as signed (DWARF 5 §2.5.1.4). */
  private isSigned(x: StackValue): boolean {
    if (!x.type) return true;
    return x.type.encoding === ATE_SIGNED || x.type.encoding === ATE_SIGNED_CHAR || x.type.encoding === ATE_SIGNED_FIXED;
  }

  private isFloat(x: StackValue): boolean {
    return x.type?.encoding === ATE_FLOAT;
  }

  private sameType(op: DecodedOp, a: StackValue, b: StackValue): void {
    if ((a.type?.offset ?? 0) !== (b.type?.offset ?? 0)) throw this.fail('operands have different types', op);
  }

  private toFloat(op: DecodedOp, x: StackValue): number {
    const size = x.type!.size;
    const dv = new DataView(new ArrayBuffer(8));
    if (size === 4) {
      dv.setUint32(0, Number(x.v));
      return dv.getFloat32(0);
    }
    if (size === 8) {
      dv.setBigUint64(0, x.v);
      return dv.getFloat64(0);
    }
    throw this.fail(`floating-point type of ${size} bytes is not supported`, op);
  }

  private fromFloat(op: DecodedOp, f: number, type: StackType): StackValue {
    const dv = new DataView(new ArrayBuffer(8));
    if (type.size === 4) {
      dv.setFloat32(0, f);
      return { v: BigInt(dv.getUint32(0)), type };
    }
    if (type.size === 8) {
      dv.setFloat64(0, f);
      return { v: dv.getBigUint64(0), type };
    }
    throw this.fail(`floating-point type of ${type.size} bytes is not supported`, op);
  }

  /** Converts a value to another type (DW_OP_convert): integer extension by the source's signedness, int/float conversion. */
  private convert(op: DecodedOp, x: StackValue, to: StackType | undefined): StackValue {
    const fromFloat = this.isFloat(x);
    const toFloat = to?.encoding === ATE_FLOAT;
    if (fromFloat && toFloat) return this.fromFloat(op, this.toFloat(op, x), to!);
    if (fromFloat) {
      const f = this.toFloat(op, x);
      if (!Number.isFinite(f)) throw this.fail('cannot convert a non-finite float to an integer', op);
      return this.typed(BigInt(Math.trunc(f)), to);
    }
    const n = this.isSigned(x) && x.type ? this.signed(x) : x.v;
    if (toFloat) return this.fromFloat(op, Number(n), to!);
    return this.typed(n, to);
  }

  /**
   * Executes one operation. Returns the next op index for branches, a
   * pending location for operations that name one, or undefined.
   */
  private async step(op: DecodedOp, ops: DecodedOp[], depth: number): Promise<number | Pending | undefined> {
    if (++this.steps > this.maxSteps) throw this.fail(`more than ${this.maxSteps} operations executed (a loop?)`, op);
    const c = op.code;
    const a = op.args;
    if (c >= DW_OP.lit0 && c <= DW_OP.lit31) {
      this.push(op, this.generic(BigInt(c - DW_OP.lit0)));
      return undefined;
    }
    if (c >= DW_OP.reg0 && c <= DW_OP.reg31) return { kind: 'register', dwarf: c - DW_OP.reg0 };
    if (c >= DW_OP.breg0 && c <= DW_OP.breg31) {
      this.push(op, this.generic((await this.register(c - DW_OP.breg0)) + a[0]!));
      return undefined;
    }
    switch (c) {
      case DW_OP.addr: this.push(op, this.generic(a[0]! + this.unit.bias)); return undefined;
      case DW_OP.addrx: case DW_OP.GNU_addr_index: this.push(op, this.generic(this.unit.addrx(Number(a[0]!)) + this.unit.bias)); return undefined;
      case DW_OP.constx: case DW_OP.GNU_const_index: this.push(op, this.generic(this.unit.addrx(Number(a[0]!)))); return undefined;
      case DW_OP.const1u: case DW_OP.const1s: case DW_OP.const2u: case DW_OP.const2s: case DW_OP.const4u: case DW_OP.const4s:
      case DW_OP.const8u: case DW_OP.const8s: case DW_OP.constu: case DW_OP.consts:
        this.push(op, this.generic(a[0]!));
        return undefined;
      case DW_OP.dup: this.push(op, this.peek(op, 0)); return undefined;
      case DW_OP.drop: this.pop(op); return undefined;
      case DW_OP.over: this.push(op, this.peek(op, 1)); return undefined;
      case DW_OP.pick: this.push(op, this.peek(op, Number(a[0]!))); return undefined;
      case DW_OP.swap: {
        const x = this.pop(op);
        const y = this.pop(op);
        this.stack.push(x, y);
        return undefined;
      }
      case DW_OP.rot: {
        const x = this.pop(op);
        const y = this.pop(op);
        const z = this.pop(op);
        this.stack.push(x, z, y);
        return undefined;
      }
      case DW_OP.deref: this.push(op, this.generic(await this.read(this.pop(op).v, this.unit.addressSize))); return undefined;
      case DW_OP.deref_size: {
        const size = Number(a[0]!);
        if (size < 1 || size > this.unit.addressSize) throw this.fail(`bad size ${size}`, op);
        this.push(op, this.generic(await this.read(this.pop(op).v, size)));
        return undefined;
      }
      case DW_OP.xderef: case DW_OP.xderef_size: {
        const addr = this.pop(op).v;
        const space = this.pop(op).v;
        if (space !== 0n) throw new Unavailable(`address space ${space} is not accessible`);
        const size = c === DW_OP.xderef ? this.unit.addressSize : Number(a[0]!);
        if (size < 1 || size > this.unit.addressSize) throw this.fail(`bad size ${size}`, op);
        this.push(op, this.generic(await this.read(addr, size)));
        return undefined;
      }
      case DW_OP.deref_type: case DW_OP.GNU_deref_type: case DW_OP.xderef_type: {
        const size = Number(a[0]!);
        const type = this.baseType(op, a[1]!);
        const addr = this.pop(op).v;
        if (c === DW_OP.xderef_type && this.pop(op).v !== 0n) throw new Unavailable('non-default address space is not accessible');
        if (type && size > type.size) throw this.fail(`size ${size} larger than its type`, op);
        this.push(op, this.typed(await this.read(addr, size), type));
        return undefined;
      }
      case DW_OP.abs: {
        const x = this.pop(op);
        if (this.isFloat(x)) this.push(op, this.fromFloat(op, Math.abs(this.toFloat(op, x)), x.type!));
        else this.push(op, this.isSigned(x) && this.signed(x) < 0n ? this.typed(-this.signed(x), x.type) : x);
        return undefined;
      }
      case DW_OP.neg: {
        const x = this.pop(op);
        this.push(op, this.isFloat(x) ? this.fromFloat(op, -this.toFloat(op, x), x.type!) : this.typed(-x.v, x.type));
        return undefined;
      }
      case DW_OP.not: {
        const x = this.pop(op);
        if (this.isFloat(x)) throw this.fail('bitwise operation on a float', op);
        this.push(op, this.typed(~x.v, x.type));
        return undefined;
      }
      case DW_OP.plus_uconst: {
        const x = this.pop(op);
        this.push(op, this.typed(x.v + a[0]!, x.type));
        return undefined;
      }
      case DW_OP.and: case DW_OP.or: case DW_OP.xor: case DW_OP.plus: case DW_OP.minus: case DW_OP.mul: case DW_OP.div: case DW_OP.mod:
        this.push(op, this.binary(op, this.pop(op), this.pop(op)));
        return undefined;
      case DW_OP.shl: case DW_OP.shr: case DW_OP.shra: {
        const amount = this.pop(op);
        const x = this.pop(op);
        if (this.isFloat(x) || this.isFloat(amount)) throw this.fail('shift of a float', op);
        const bits = BigInt(x.type ? x.type.size * 8 : Number(this.addrBits));
        const n = amount.v;
        let v: bigint;
        if (c === DW_OP.shl) v = n >= bits ? 0n : x.v << n;
        else if (c === DW_OP.shr) v = n >= bits ? 0n : x.v >> n;
        else v = this.signed(x) >> (n >= bits ? bits - 1n : n);
        this.push(op, this.typed(v, x.type));
        return undefined;
      }
      case DW_OP.eq: case DW_OP.ge: case DW_OP.gt: case DW_OP.le: case DW_OP.lt: case DW_OP.ne: {
        const b = this.pop(op);
        const x = this.pop(op);
        this.sameType(op, x, b);
        let l: bigint | number, r: bigint | number;
        if (this.isFloat(x)) {
          l = this.toFloat(op, x);
          r = this.toFloat(op, b);
        } else if (this.isSigned(x)) {
          l = this.signed(x);
          r = this.signed(b);
        } else {
          l = x.v;
          r = b.v;
        }
        const res = c === DW_OP.eq ? l === r : c === DW_OP.ne ? l !== r : c === DW_OP.lt ? l < r : c === DW_OP.le ? l <= r : c === DW_OP.gt ? l > r : l >= r;
        this.push(op, this.generic(res ? 1n : 0n));
        return undefined;
      }
      case DW_OP.skip: return this.jump(op, ops);
      case DW_OP.bra: return this.pop(op).v !== 0n ? this.jump(op, ops) : undefined;
      case DW_OP.regx: return { kind: 'register', dwarf: Number(a[0]!) };
      case DW_OP.bregx: this.push(op, this.generic((await this.register(Number(a[0]!))) + a[1]!)); return undefined;
      case DW_OP.fbreg: {
        const fb = this.env.frameBase ? await this.env.frameBase() : undefined;
        if (fb === undefined) throw new Unavailable('the frame base is not available');
        this.push(op, this.generic(fb + a[0]!));
        return undefined;
      }
      case DW_OP.call_frame_cfa: {
        const cfa = this.env.cfa ? await this.env.cfa() : undefined;
        if (cfa === undefined) throw new Unavailable('the canonical frame address is not available');
        this.push(op, this.generic(cfa));
        return undefined;
      }
      case DW_OP.push_object_address:
        if (this.env.objectAddress === undefined) throw new Unavailable('no object address in this context');
        this.push(op, this.generic(this.env.objectAddress));
        return undefined;
      case DW_OP.form_tls_address: case DW_OP.GNU_push_tls_address: {
        const offset = this.pop(op).v;
        const addr = this.env.tlsAddress ? await this.env.tlsAddress(offset) : undefined;
        if (addr === undefined) throw new Unavailable('the thread-local storage block is not known');
        this.push(op, this.generic(addr));
        return undefined;
      }
      case DW_OP.entry_value: case DW_OP.GNU_entry_value: {
        const v = this.env.entryValue ? await this.env.entryValue(op.block!) : undefined;
        if (v === undefined) throw new Unavailable('the value on entry to the function is not known');
        this.push(op, this.generic(v));
        return undefined;
      }
      case DW_OP.GNU_parameter_ref: {
        const v = this.env.parameterValue ? await this.env.parameterValue(Number(a[0]!)) : undefined;
        if (v === undefined) throw new Unavailable('the parameter value from the caller is not known');
        this.push(op, this.generic(v));
        return undefined;
      }
      case DW_OP.GNU_variable_value: {
        const v = this.env.variableValue ? await this.env.variableValue(Number(a[0]!)) : undefined;
        if (v === undefined) throw new Unavailable('the referenced variable has no value here');
        this.push(op, this.generic(v));
        return undefined;
      }
      case DW_OP.call2: case DW_OP.call4: case DW_OP.call_ref: {
        if (depth >= this.maxCallDepth) throw this.fail(`DW_OP_call nested deeper than ${this.maxCallDepth}`, op);
        if (!this.unit.callTarget) throw new Unavailable('DW_OP_call targets cannot be resolved here');
        const dieOffset = c === DW_OP.call_ref ? Number(a[0]!) : (this.unit.unitOffset ?? 0) + Number(a[0]!);
        const callee = this.unit.callTarget(dieOffset);
        // A DIE without a location attribute makes the call a no-op (DWARF 5 §2.5.1.5).
        if (!callee || callee.length === 0) return undefined;
        const sub = decodeExpression(callee, this.unit, {});
        for (let k = 0; k < sub.length; ) {
          const s = sub[k]!;
          if (isPiece(s.code)) throw this.fail('DW_OP_piece inside a called expression', s);
          const r = await this.step(s, sub, depth + 1);
          if (typeof r === 'number') k = r;
          else if (r) throw this.fail('a called expression must compute a value', s);
          else k++;
        }
        return undefined;
      }
      case DW_OP.implicit_value: return { kind: 'value', bytes: op.block! };
      case DW_OP.stack_value: {
        const x = this.pop(op);
        return { kind: 'value', bytes: toBytes(x.v, x.type ? x.type.size : this.unit.addressSize, this.unit.littleEndian) };
      }
      case DW_OP.implicit_pointer: case DW_OP.GNU_implicit_pointer: return { kind: 'implicit-pointer', die: Number(a[0]!), offset: a[1]! };
      case DW_OP.const_type: case DW_OP.GNU_const_type: {
        const type = this.baseType(op, a[0]!);
        if (type && op.block!.length !== type.size) throw this.fail(`constant of ${op.block!.length} bytes for a ${type.size}-byte type`, op);
        this.push(op, this.typed(fromBytes(op.block!, this.unit.littleEndian), type));
        return undefined;
      }
      case DW_OP.regval_type: case DW_OP.GNU_regval_type: {
        const type = this.baseType(op, a[1]!);
        this.push(op, this.typed(await this.register(Number(a[0]!)), type));
        return undefined;
      }
      case DW_OP.convert: case DW_OP.GNU_convert:
        this.push(op, this.convert(op, this.pop(op), this.baseType(op, a[0]!)));
        return undefined;
      case DW_OP.reinterpret: case DW_OP.GNU_reinterpret: {
        const x = this.pop(op);
        const type = this.baseType(op, a[0]!);
        const from = x.type ? x.type.size : this.unit.addressSize;
        const to = type ? type.size : this.unit.addressSize;
        if (from !== to) throw this.fail(`cannot reinterpret ${from} bytes as ${to}`, op);
        this.push(op, this.typed(x.v, type));
        return undefined;
      }
      case DW_OP.nop: case DW_OP.GNU_uninit: return undefined;
      default:
        throw this.fail('not supported by the evaluator', op);
    }
  }

  private binary(op: DecodedOp, b: StackValue, x: StackValue): StackValue {
    this.sameType(op, x, b);
    const c = op.code;
    if (this.isFloat(x)) {
      const l = this.toFloat(op, x);
      const r = this.toFloat(op, b);
      switch (c) {
        case DW_OP.plus: return this.fromFloat(op, l + r, x.type!);
        case DW_OP.minus: return this.fromFloat(op, l - r, x.type!);
        case DW_OP.mul: return this.fromFloat(op, l * r, x.type!);
        case DW_OP.div: return this.fromFloat(op, l / r, x.type!);
        default: throw this.fail('bitwise or modulo operation on a float', op);
      }
    }
    switch (c) {
      case DW_OP.and: return this.typed(x.v & b.v, x.type);
      case DW_OP.or: return this.typed(x.v | b.v, x.type);
      case DW_OP.xor: return this.typed(x.v ^ b.v, x.type);
      case DW_OP.plus: return this.typed(x.v + b.v, x.type);
      case DW_OP.minus: return this.typed(x.v - b.v, x.type);
      case DW_OP.mul: return this.typed(x.v * b.v, x.type);
      case DW_OP.div: {
        if (b.v === 0n) throw this.fail('division by zero', op);
        return this.isSigned(x) ? this.typed(this.signed(x) / this.signed(b), x.type) : this.typed(x.v / b.v, x.type);
      }
      default: {
        if (b.v === 0n) throw this.fail('division by zero', op);
        // DW_OP_mod is unsigned on the generic type (as gdb and the DWARF 2 text have it).
        return !x.type || !this.isSigned(x) ? this.typed(x.v % b.v, x.type) : this.typed(this.signed(x) % this.signed(b), x.type);
      }
    }
  }

  /** The op index a skip/bra lands on: its 2-byte operand counts bytes from the end of the branch. */
  private jump(op: DecodedOp, ops: DecodedOp[]): number {
    const target = op.end + Number(op.args[0]!);
    const last = ops[ops.length - 1]!;
    if (target === last.end) return ops.length;
    let lo = 0;
    let hi = ops.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const o = ops[mid]!.offset;
      if (o === target) return mid;
      if (o < target) lo = mid + 1;
      else hi = mid - 1;
    }
    throw this.fail(`branch to 0x${target.toString(16)}, not the start of an operation`, op);
  }
}

function isPiece(code: number): boolean {
  return code === DW_OP.piece || code === DW_OP.bit_piece;
}

/** An unsigned integer from bytes in the given order. */
function fromBytes(bytes: Uint8Array, littleEndian: boolean): bigint {
  let v = 0n;
  if (littleEndian) for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  else for (let i = 0; i < bytes.length; i++) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** The low `size` bytes of a value in the given order. */
function toBytes(v: bigint, size: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(size);
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out[littleEndian ? i : size - 1 - i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
