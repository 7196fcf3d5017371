/** The evaluator on synthesized expressions, one group of operations at a time. */
import test from 'ava';
import { DwarfError } from '../errors.js';
import { evaluate } from './evaluate.js';
import { DW_OP } from './ops.js';
import type { LocationEnv, LocationResult, UnitEnv } from './types.js';

const uleb = (v: number | bigint): number[] => {
  let x = BigInt(v);
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return out;
};
const sleb = (v: number | bigint): number[] => {
  let x = BigInt(v);
  const out: number[] = [];
  for (;;) {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    if ((x === 0n && !(b & 0x40)) || (x === -1n && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const le = (v: bigint | number, size: number): number[] => {
  let x = BigInt.asUintN(size * 8, BigInt(v));
  return Array.from({ length: size }, () => {
    const b = Number(x & 0xffn);
    x >>= 8n;
    return b;
  });
};

const lit = (n: number) => DW_OP.lit0 + n;

// Base types of the synthetic unit: 0x30 int (4, signed), 0x40 unsigned char (1), 0x50 double (8), 0x60 long (8, signed), 0x70 float (4).
const TYPES = new Map([[0x30, { size: 4, encoding: 5 }], [0x40, { size: 1, encoding: 8 }], [0x50, { size: 8, encoding: 4 }], [0x60, { size: 8, encoding: 5 }], [0x70, { size: 4, encoding: 4 }]]);
const CALLS = new Map<number, Uint8Array>([[0x1000 + 0x80, new Uint8Array([lit(5), DW_OP.plus])], [0x2000, new Uint8Array([lit(1), DW_OP.shl])]]);
const unit: UnitEnv = {
  version: 5,
  addressSize: 8,
  offsetSize: 4,
  littleEndian: true,
  bias: 0x10000n,
  unitOffset: 0x1000,
  addrx: (i) => 0x400000n + BigInt(i) * 8n,
  baseType: (off) => TYPES.get(off),
  callTarget: (off) => CALLS.get(off),
};

const MEM_BASE = 0x7000n;
const memory = new Uint8Array(64).map((_, i) => i + 1);
const env: LocationEnv = {
  register: async (n) => (n === 7 ? 0x7ff0n : n === 6 ? 0x7010n : n === 0 ? 0x1_0000_0002n : n === 17 ? 0x4009_21fb_5444_2d18n : undefined),
  memory: async (addr, size) => {
    const off = Number(addr - MEM_BASE);
    if (off < 0 || off + size > memory.length) throw new Error('unmapped');
    return memory.subarray(off, off + size);
  },
  frameBase: async () => 0x7020n,
  cfa: async () => 0x7ff8n,
  entryValue: async (e) => (e.length === 1 && e[0] === DW_OP.reg0 + 5 ? 77n : undefined),
  tlsAddress: async (off) => 0x9000n + off,
  objectAddress: 0x5000n,
  parameterValue: async (off) => (off === 0x44 ? 5n : undefined),
  variableValue: async (off) => (off === 0x99 ? 123n : undefined),
};

const ev = (bytes: number[], e: LocationEnv = env, u: UnitEnv = unit) => evaluate(new Uint8Array(bytes), u, e);
/** Evaluates `bytes; DW_OP_stack_value` and returns the value as a bigint. */
async function value(bytes: number[], u: UnitEnv = unit): Promise<bigint> {
  const r = await ev([...bytes, DW_OP.stack_value], env, u);
  if (r.kind !== 'value') throw new Error(`not a value: ${JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  let v = 0n;
  for (let i = r.bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(r.bytes[i]!);
  return v;
}
const signed64 = (v: bigint) => BigInt.asIntN(64, v);

test('empty expressions are optimized out; memory, register and stack values', async (t) => {
  t.deepEqual(await ev([]), { kind: 'optimized-out' });
  t.deepEqual(await ev([DW_OP.fbreg, ...sleb(-20)]), { kind: 'memory', address: 0x7020n - 20n });
  t.deepEqual(await ev([DW_OP.reg0 + 5]), { kind: 'register', dwarf: 5 });
  t.deepEqual(await ev([DW_OP.regx, ...uleb(33)]), { kind: 'register', dwarf: 33 });
  t.deepEqual(await ev([DW_OP.lit0 + 9, DW_OP.stack_value]), { kind: 'value', bytes: new Uint8Array(le(9, 8)) });
  t.deepEqual(await ev([DW_OP.implicit_value, 3, 1, 2, 3]), { kind: 'value', bytes: new Uint8Array([1, 2, 3]) });
});

test('constants: lit, const1u..const8s, constu/consts, addr (biased), addrx/constx', async (t) => {
  t.is(await value([DW_OP.lit31]), 31n);
  t.is(await value([DW_OP.const1u, 0xff]), 0xffn);
  t.is(signed64(await value([DW_OP.const1s, 0xff])), -1n);
  t.is(await value([DW_OP.const2u, ...le(0xbeef, 2)]), 0xbeefn);
  t.is(signed64(await value([DW_OP.const2s, ...le(-2, 2)])), -2n);
  t.is(await value([DW_OP.const4u, ...le(0xdeadbeef, 4)]), 0xdeadbeefn);
  t.is(signed64(await value([DW_OP.const4s, ...le(-3, 4)])), -3n);
  t.is(await value([DW_OP.const8u, ...le(0xffff_ffff_ffff_fffen, 8)]), 0xffff_ffff_ffff_fffen);
  t.is(signed64(await value([DW_OP.const8s, ...le(-4n, 8)])), -4n);
  t.is(await value([DW_OP.constu, ...uleb(0xffff_ffff_ffffn)]), 0xffff_ffff_ffffn);
  t.is(signed64(await value([DW_OP.consts, ...sleb(-123456)])), -123456n);
  t.deepEqual(await ev([DW_OP.addr, ...le(0x601040, 8)]), { kind: 'memory', address: 0x611040n });
  t.deepEqual(await ev([DW_OP.addrx, ...uleb(2)]), { kind: 'memory', address: 0x400010n + 0x10000n });
  t.is(await value([DW_OP.constx, ...uleb(2)]), 0x400010n);
  t.is(await value([DW_OP.GNU_addr_index, ...uleb(1)]), 0x400008n + 0x10000n);
  t.is(await value([DW_OP.GNU_const_index, ...uleb(1)]), 0x400008n);
});

test('stack operations: dup drop over pick swap rot', async (t) => {
  t.is(await value([lit(1), DW_OP.dup, DW_OP.plus]), 2n);
  t.is(await value([lit(1), lit(2), DW_OP.drop]), 1n);
  t.is(await value([lit(1), lit(2), DW_OP.over]), 1n);
  t.is(await value([lit(1), lit(2), lit(3), DW_OP.pick, 2]), 1n);
  t.is(await value([lit(1), lit(2), DW_OP.swap]), 1n);
  // rot: (1 2 3) -> (3 1 2), top is 2.
  t.is(await value([lit(1), lit(2), lit(3), DW_OP.rot]), 2n);
  t.is(await value([lit(1), lit(2), lit(3), DW_OP.rot, DW_OP.drop]), 1n);
  t.is(await value([lit(1), lit(2), lit(3), DW_OP.rot, DW_OP.drop, DW_OP.drop]), 3n);
});

test('arithmetic and logic on the generic type (64-bit wraparound, signed division, unsigned modulo)', async (t) => {
  t.is(await value([lit(5), lit(3), DW_OP.minus]), 2n);
  t.is(signed64(await value([lit(3), lit(5), DW_OP.minus])), -2n);
  t.is(await value([lit(6), lit(7), DW_OP.mul]), 42n);
  t.is(signed64(await value([DW_OP.consts, ...sleb(-7), lit(2), DW_OP.div])), -3n);
  t.is(await value([DW_OP.consts, ...sleb(-1), lit(3), DW_OP.mod]), (2n ** 64n - 1n) % 3n);
  t.is(await value([lit(6), lit(3), DW_OP.and]), 2n);
  t.is(await value([lit(6), lit(3), DW_OP.or]), 7n);
  t.is(await value([lit(6), lit(3), DW_OP.xor]), 5n);
  t.is(await value([DW_OP.lit0, DW_OP.not]), 2n ** 64n - 1n);
  t.is(signed64(await value([lit(5), DW_OP.neg])), -5n);
  t.is(await value([DW_OP.consts, ...sleb(-5), DW_OP.abs]), 5n);
  t.is(await value([lit(1), DW_OP.plus_uconst, ...uleb(1000)]), 1001n);
  t.is(await value([DW_OP.const8u, ...le(2n ** 64n - 1n, 8), lit(2), DW_OP.plus]), 1n);
  t.is(await value([lit(1), DW_OP.lit31, DW_OP.lit31, DW_OP.plus, lit(2), DW_OP.plus, DW_OP.shl]), 2n ** 64n - 2n ** 64n + 0n);
  t.is(await value([lit(1), lit(4), DW_OP.shl]), 16n);
  t.is(await value([DW_OP.consts, ...sleb(-16), lit(2), DW_OP.shr]), (2n ** 64n - 16n) >> 2n);
  t.is(signed64(await value([DW_OP.consts, ...sleb(-16), lit(2), DW_OP.shra])), -4n);
});

test('comparisons are signed on the generic type; skip and bra branch by bytes', async (t) => {
  t.is(await value([DW_OP.consts, ...sleb(-1), DW_OP.lit0, DW_OP.lt]), 1n);
  t.is(await value([lit(2), lit(2), DW_OP.eq]), 1n);
  t.is(await value([lit(2), lit(2), DW_OP.ne]), 0n);
  t.is(await value([lit(3), lit(2), DW_OP.gt]), 1n);
  t.is(await value([lit(3), lit(3), DW_OP.ge]), 1n);
  t.is(await value([lit(3), lit(2), DW_OP.le]), 0n);
  // if (1) 10 else 20
  t.is(await value([lit(1), DW_OP.bra, ...le(4, 2), lit(20), DW_OP.skip, ...le(1, 2), lit(10)]), 10n);
  t.is(await value([DW_OP.lit0, DW_OP.bra, ...le(4, 2), lit(20), DW_OP.skip, ...le(1, 2), lit(10)]), 20n);
  // A countdown loop: n = 5; while (n) n--; (uses bra backwards)
  t.is(await value([lit(5), DW_OP.dup, DW_OP.bra, ...le(3, 2), DW_OP.skip, ...le(5, 2), lit(1), DW_OP.minus, DW_OP.skip, ...le(-12, 2)]), 0n);
});

test('registers, frame base, CFA; a missing register makes the result unavailable, not an error', async (t) => {
  t.deepEqual(await ev([DW_OP.breg0 + 7, ...sleb(8)]), { kind: 'memory', address: 0x7ff8n });
  t.deepEqual(await ev([DW_OP.bregx, ...uleb(6), ...sleb(-16)]), { kind: 'memory', address: 0x7000n });
  t.deepEqual(await ev([DW_OP.call_frame_cfa]), { kind: 'memory', address: 0x7ff8n });
  const r = await ev([DW_OP.breg0 + 3, 0]);
  t.is(r.kind, 'unavailable');
  t.regex((r as { reason: string }).reason, /register 3/);
  t.is((await ev([DW_OP.fbreg, 0], { register: env.register, memory: env.memory })).kind, 'unavailable');
  t.is((await ev([DW_OP.call_frame_cfa], { register: env.register, memory: env.memory })).kind, 'unavailable');
});

test('memory: deref, deref_size, xderef; unreadable memory is unavailable', async (t) => {
  t.is(await value([DW_OP.const2u, ...le(0x7000, 2), DW_OP.deref]), 0x0807060504030201n);
  t.is(await value([DW_OP.const2u, ...le(0x7004, 2), DW_OP.deref_size, 2]), 0x0605n);
  t.is(await value([DW_OP.lit0, DW_OP.const2u, ...le(0x7000, 2), DW_OP.xderef]), 0x0807060504030201n);
  t.is(await value([DW_OP.lit0, DW_OP.const2u, ...le(0x7000, 2), DW_OP.xderef_size, 1]), 1n);
  t.is((await ev([lit(1), DW_OP.const2u, ...le(0x7000, 2), DW_OP.xderef, DW_OP.stack_value])).kind, 'unavailable');
  const r = await ev([DW_OP.const2u, ...le(0x100, 2), DW_OP.deref]);
  t.deepEqual(r, { kind: 'unavailable', reason: 'cannot read memory at 0x100' });
  await t.throwsAsync(ev([DW_OP.lit0, DW_OP.deref_size, 9]), { code: 'ERR_DWARF_EXPR' });
});

test('pieces and bit pieces: registers, memory, values, optimized-out and unavailable pieces', async (t) => {
  const r = await ev([DW_OP.reg0 + 3, DW_OP.piece, 4, DW_OP.piece, 4, DW_OP.fbreg, 0, DW_OP.piece, 8, lit(7), DW_OP.stack_value, DW_OP.bit_piece, 3, 2, DW_OP.breg0 + 4, 0, DW_OP.piece, 8]);
  t.deepEqual(r, {
    kind: 'pieces',
    pieces: [
      { location: { kind: 'register', dwarf: 3 }, bitSize: 32, bitOffset: 0 },
      { location: { kind: 'optimized-out' }, bitSize: 32, bitOffset: 0 },
      { location: { kind: 'memory', address: 0x7020n }, bitSize: 64, bitOffset: 0 },
      { location: { kind: 'value', bytes: new Uint8Array(le(7, 8)) }, bitSize: 3, bitOffset: 2 },
      { location: { kind: 'unavailable', reason: 'register 4 is not available in this frame' }, bitSize: 64, bitOffset: 0 },
    ],
  } satisfies LocationResult);
  await t.throwsAsync(ev([DW_OP.reg0, lit(1)]), { code: 'ERR_DWARF_EXPR' });
  await t.throwsAsync(ev([DW_OP.reg0, DW_OP.piece, 8, lit(1)]), { code: 'ERR_DWARF_EXPR' });
});

test('implicit pointers, entry values, parameter refs, variable values, TLS, object address', async (t) => {
  t.deepEqual(await ev([DW_OP.implicit_pointer, ...le(0x1234, 4), ...sleb(-8)]), { kind: 'implicit-pointer', die: 0x1234, offset: -8n });
  t.deepEqual(await ev([DW_OP.GNU_implicit_pointer, ...le(0x1234, 4), 0]), { kind: 'implicit-pointer', die: 0x1234, offset: 0n });
  t.is(await value([DW_OP.entry_value, 1, DW_OP.reg0 + 5]), 77n);
  t.is(await value([DW_OP.GNU_entry_value, 1, DW_OP.reg0 + 5, lit(1), DW_OP.plus]), 78n);
  t.deepEqual(await ev([DW_OP.entry_value, 1, DW_OP.reg0 + 4, DW_OP.stack_value]), { kind: 'unavailable', reason: 'the value on entry to the function is not known' });
  t.is(await value([DW_OP.GNU_parameter_ref, ...le(0x44, 4)]), 5n);
  t.is((await ev([DW_OP.GNU_parameter_ref, ...le(0x45, 4), DW_OP.stack_value])).kind, 'unavailable');
  t.is(await value([DW_OP.GNU_variable_value, ...le(0x99, 4)]), 123n);
  t.deepEqual(await ev([DW_OP.const1u, 0x10, DW_OP.form_tls_address]), { kind: 'memory', address: 0x9010n });
  t.deepEqual(await ev([DW_OP.const8u, ...le(0x20, 8), DW_OP.GNU_push_tls_address]), { kind: 'memory', address: 0x9020n });
  t.deepEqual(await ev([DW_OP.push_object_address, DW_OP.plus_uconst, 8]), { kind: 'memory', address: 0x5008n });
  t.is((await ev([DW_OP.push_object_address], { register: env.register, memory: env.memory })).kind, 'unavailable');
  t.deepEqual(await evaluate(new Uint8Array([DW_OP.plus_uconst, 16]), unit, env, { initialStack: [0x8000n] }), { kind: 'memory', address: 0x8010n });
});

test('calls: call2/call4 are unit-relative, call_ref section-relative; a DIE without a location is a no-op', async (t) => {
  t.is(await value([lit(1), DW_OP.call2, ...le(0x80, 2)]), 6n);
  t.is(await value([lit(1), DW_OP.call4, ...le(0x80, 4)]), 6n);
  t.is(await value([lit(3), DW_OP.call_ref, ...le(0x2000, 4)]), 6n);
  t.is(await value([lit(3), DW_OP.call_ref, ...le(0x3000, 4)]), 3n);
  const loopUnit: UnitEnv = { ...unit, callTarget: () => new Uint8Array([DW_OP.call_ref, ...le(0x2000, 4)]) };
  await t.throwsAsync(ev([DW_OP.call_ref, ...le(0x2000, 4)], env, loopUnit), { code: 'ERR_DWARF_EXPR' });
});

test('typed stack: const_type, regval_type, deref_type, convert, reinterpret, typed arithmetic', async (t) => {
  // int -1 converted to long stays -1; unsigned char 0xff converted to generic is 255.
  t.is(signed64(await value([DW_OP.const_type, 0x30, 4, ...le(-1, 4), DW_OP.convert, 0x60, DW_OP.convert, 0], unit)), -1n);
  t.is(await value([DW_OP.const_type, 0x40, 1, 0xff, DW_OP.convert, 0]), 255n);
  // int arithmetic wraps at 32 bits: 0x7fffffff + 1 = INT_MIN, and compares below 0.
  t.is(await value([DW_OP.const_type, 0x30, 4, ...le(0x7fffffff, 4), DW_OP.const_type, 0x30, 4, ...le(1, 4), DW_OP.plus, DW_OP.const_type, 0x30, 4, ...le(0, 4), DW_OP.lt]), 1n);
  // The register holds a double (pi): double * 2.0 and converted to long gives 6.
  const two = new DataView(new ArrayBuffer(8));
  two.setFloat64(0, 2.0, true);
  t.is(await value([DW_OP.regval_type, 17, 0x50, DW_OP.const_type, 0x50, 8, ...new Uint8Array(two.buffer), DW_OP.mul, DW_OP.convert, 0x60]), 6n);
  t.is(await value([DW_OP.GNU_regval_type, 17, 0x50, DW_OP.GNU_reinterpret, 0x60, DW_OP.GNU_convert, 0]), 0x4009_21fb_5444_2d18n);
  // Typed stack value: its bytes are the type's size.
  const r = await ev([DW_OP.regval_type, 0, 0x30, DW_OP.stack_value]);
  t.deepEqual(r, { kind: 'value', bytes: new Uint8Array(le(2, 4)) });
  t.is(await value([DW_OP.const2u, ...le(0x7000, 2), DW_OP.deref_type, 2, 0x30, DW_OP.convert, 0]), 0x0201n);
  t.is(await value([DW_OP.const2u, ...le(0x7000, 2), DW_OP.GNU_deref_type, 1, 0x40, DW_OP.GNU_convert, 0]), 1n);
  t.is(await value([DW_OP.lit0, DW_OP.const2u, ...le(0x7000, 2), DW_OP.xderef_type, 1, 0x40, DW_OP.convert, 0]), 1n);
  // float <-> int conversions.
  t.is(await value([lit(7), DW_OP.convert, 0x70, DW_OP.const_type, 0x70, 4, ...le(0x40000000, 4), DW_OP.div, DW_OP.convert, 0x30, DW_OP.convert, 0]), 3n);
  await t.throwsAsync(ev([DW_OP.const_type, 0x30, 4, 0, 0, 0, 0, lit(1), DW_OP.plus, DW_OP.stack_value]), { code: 'ERR_DWARF_EXPR' });
  await t.throwsAsync(ev([DW_OP.const_type, 0x33, 4, 0, 0, 0, 0, DW_OP.stack_value]), { code: 'ERR_DWARF_EXPR' });
  await t.throwsAsync(ev([lit(1), DW_OP.reinterpret, 0x30, DW_OP.stack_value]), { code: 'ERR_DWARF_EXPR' });
});

test('nop and GNU_uninit are no-ops', async (t) => {
  t.is(await value([DW_OP.nop, lit(4), DW_OP.GNU_uninit, DW_OP.nop]), 4n);
});

test('limits and malformed input: typed errors with offsets, never hangs', async (t) => {
  const loop = await t.throwsAsync(ev([DW_OP.skip, ...le(-3, 2)]), { instanceOf: DwarfError });
  t.is(loop?.code, 'ERR_DWARF_EXPR');
  t.is(loop?.offset, 0);
  const deep = await t.throwsAsync(evaluate(new Uint8Array([lit(1), DW_OP.dup, DW_OP.skip, ...le(-4, 2)]), unit, env, { maxStack: 100 }), { instanceOf: DwarfError });
  t.regex(deep?.message ?? '', /stack deeper/);
  await t.throwsAsync(ev([DW_OP.plus]), { code: 'ERR_DWARF_EXPR', message: /underflow/ });
  await t.throwsAsync(ev([lit(1), DW_OP.lit0, DW_OP.div]), { message: /division by zero/ });
  await t.throwsAsync(ev([DW_OP.const4u, 1, 2]), { code: 'ERR_TRUNCATED' });
  await t.throwsAsync(ev([0xff]), { code: 'ERR_BAD_DATA' });
  await t.throwsAsync(ev([lit(1), DW_OP.bra, ...le(1, 2), DW_OP.const1u, 5]), { message: /not the start of an operation/ });
  await t.throwsAsync(ev([DW_OP.nop]), { message: /nothing on the stack/ });
  const e = await t.throwsAsync(evaluate(new Uint8Array([lit(1), DW_OP.plus]), unit, env, { origin: { file: 'f.debug', section: '.debug_loclists', base: 0x100 } }), { instanceOf: DwarfError });
  t.is(e?.offset, 0x101);
  t.is(e?.file, 'f.debug');
});

test('32-bit units: the generic type is 4 bytes wide', async (t) => {
  const u32: UnitEnv = { ...unit, addressSize: 4, bias: 0n };
  t.is(await value([DW_OP.lit0, lit(1), DW_OP.minus], u32), 0xffffffffn);
  t.deepEqual(await ev([DW_OP.addr, ...le(0x8049000, 4)], env, u32), { kind: 'memory', address: 0x8049000n });
  t.deepEqual(await ev([lit(1), DW_OP.stack_value], env, u32), { kind: 'value', bytes: new Uint8Array([1, 0, 0, 0]) });
});
