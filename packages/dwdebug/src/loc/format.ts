import { decodeExpression } from './decode.js';
import type { DecodeUnit, DecodedOp } from './decode.js';
import { DW_OP, opName } from './ops.js';

/** Options of {@link disassemble}. */
export interface DisassembleOptions {
  /** Register names by DWARF number, shown after the number (`DW_OP_reg5 (rdi)`). */
  readonly regName?: (dwarf: number) => string | undefined;
  /** Section offset of the unit: base-type and parameter references print as section offsets, as readelf does. */
  readonly unitOffset?: number;
}

const X86_64_REGS = [
  'rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip',
  ...Array.from({ length: 16 }, (_, i) => `xmm${i}`), ...Array.from({ length: 8 }, (_, i) => `st${i}`),
  ...Array.from({ length: 8 }, (_, i) => `mm${i}`), 'rflags', 'es', 'cs', 'ss', 'ds', 'fs', 'gs', undefined, undefined,
  'fs.base', 'gs.base', undefined, undefined, 'tr', 'ldtr', 'mxcsr', 'fcw', 'fsw',
  ...Array.from({ length: 16 }, (_, i) => `xmm${i + 16}`),
];

/** x86-64 DWARF register names (System V psABI numbering, AVX-512 mask registers at 118–125). */
export function x86_64RegisterName(dwarf: number): string | undefined {
  if (dwarf >= 118 && dwarf <= 125) return `k${dwarf - 118}`;
  return X86_64_REGS[dwarf];
}

const hex = (v: bigint | number) => v.toString(16);

function blockText(b: Uint8Array): string {
  return `${b.length} byte block: ${[...b].map((x) => x.toString(16)).join(' ')} `;
}

/**
 * A readable listing of an expression in binutils readelf's notation
 * (`DW_OP_breg7 (rsp): 8; DW_OP_deref`), so dumps can be compared with
 * readelf's. Malformed input throws a DwarfError like evaluation does.
 */
export function disassemble(expr: Uint8Array, unit: DecodeUnit, opts: DisassembleOptions = {}): string {
  return decodeExpression(expr, unit).map((op) => opText(op, unit, opts)).join('; ');
}

function opText(op: DecodedOp, unit: DecodeUnit, opts: DisassembleOptions): string {
  const c = op.code;
  const a = op.args;
  const reg = (n: bigint | number) => `${n} (${opts.regName?.(Number(n)) ?? `r${n}`})`;
  const ref = (off: bigint) => `<0x${hex(off + BigInt(opts.unitOffset ?? 0))}>`;
  const name = opName(c);
  if (c >= DW_OP.reg0 && c <= DW_OP.reg31) return `${name} (${opts.regName?.(c - DW_OP.reg0) ?? `r${c - DW_OP.reg0}`})`;
  if (c >= DW_OP.breg0 && c <= DW_OP.breg31) return `${name} (${opts.regName?.(c - DW_OP.breg0) ?? `r${c - DW_OP.breg0}`}): ${a[0]}`;
  switch (c) {
    case DW_OP.addr: return `${name}: ${hex(a[0]!)}`;
    case DW_OP.const1u: case DW_OP.const1s: case DW_OP.const2u: case DW_OP.const2s: case DW_OP.const4u: case DW_OP.const4s:
    case DW_OP.const8u: case DW_OP.const8s: case DW_OP.constu: case DW_OP.consts: case DW_OP.pick: case DW_OP.plus_uconst:
    case DW_OP.skip: case DW_OP.bra: case DW_OP.fbreg: case DW_OP.piece: case DW_OP.deref_size: case DW_OP.xderef_size:
      return `${name}: ${a[0]}`;
    case DW_OP.regx: return `${name}: ${reg(a[0]!)}`;
    case DW_OP.bregx: return `${name}: ${reg(a[0]!)} ${a[1]}`;
    case DW_OP.bit_piece: return `${name}: size: ${a[0]} offset: ${a[1]} `;
    case DW_OP.call2: case DW_OP.call4: return `${name}: ${ref(a[0]!)}`;
    case DW_OP.call_ref: case DW_OP.GNU_variable_value: return `${name}: <0x${hex(a[0]!)}>`;
    case DW_OP.implicit_value: return `${name} ${blockText(op.block!)}`;
    case DW_OP.entry_value: case DW_OP.GNU_entry_value: return `${name}: (${disassemble(op.block!, unit, opts)})`;
    case DW_OP.implicit_pointer: case DW_OP.GNU_implicit_pointer: return `${name}: <0x${hex(a[0]!)}> ${a[1]}`;
    case DW_OP.const_type: case DW_OP.GNU_const_type: return `${name}: ${ref(a[0]!)}  ${blockText(op.block!)}`;
    case DW_OP.regval_type: case DW_OP.GNU_regval_type: return `${name}: ${reg(a[0]!)} ${ref(a[1]!)}`;
    case DW_OP.deref_type: case DW_OP.GNU_deref_type: case DW_OP.xderef_type: return `${name}: ${a[0]} ${ref(a[1]!)}`;
    case DW_OP.convert: case DW_OP.GNU_convert: case DW_OP.reinterpret: case DW_OP.GNU_reinterpret:
      return a[0] === 0n ? `${name} <0>` : `${name} ${ref(a[0]!)}`;
    case DW_OP.GNU_parameter_ref: return `${name}: ${ref(a[0]!)}`;
    case DW_OP.addrx: case DW_OP.constx: case DW_OP.GNU_addr_index: case DW_OP.GNU_const_index: return `${name} <0x${hex(a[0]!)}>`;
    case DW_OP.GNU_push_tls_address: return `${name} or DW_OP_HP_unknown`;
    default: return name;
  }
}

/**
 * The compact notation of the original Stackdb's dumps: `R5` (in a
 * register), `R7+8` (register plus offset), `FB-20` (frame base plus
 * offset), `0x601040` (a static address), and anything else as
 * `RUNTIMEDATA(length,bytes)` with each byte in unpadded hex, as the seed
 * printed it (`RUNTIMEDATA(4,f31559f)` for `f3 01 55 9f`).
 */
export function formatLocationShort(expr: Uint8Array, unit: DecodeUnit): string {
  let ops: DecodedOp[] | undefined;
  try {
    ops = decodeExpression(expr, unit);
  } catch {
    ops = undefined;
  }
  if (ops && ops.length === 1) {
    const op = ops[0]!;
    const c = op.code;
    const signed = (v: bigint) => (v < 0n ? `${v}` : `+${v}`);
    if (c >= DW_OP.reg0 && c <= DW_OP.reg31) return `R${c - DW_OP.reg0}`;
    if (c === DW_OP.regx) return `R${op.args[0]}`;
    if (c >= DW_OP.breg0 && c <= DW_OP.breg31) return `R${c - DW_OP.breg0}${signed(op.args[0]!)}`;
    if (c === DW_OP.bregx) return `R${op.args[0]}${signed(op.args[1]!)}`;
    if (c === DW_OP.fbreg) return `FB${signed(op.args[0]!)}`;
    if (c === DW_OP.addr) return `0x${hex(op.args[0]!)}`;
    if (c === DW_OP.call_frame_cfa) return 'CFA';
  }
  return `RUNTIMEDATA(${expr.length},${[...expr].map((b) => b.toString(16)).join('')})`;
}
