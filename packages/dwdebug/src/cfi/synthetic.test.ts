/**
 * CFI edge cases built byte by byte: every DW_CFA operation, 64-bit
 * .debug_frame, big-endian .eh_frame with zPLRS(B/G) augmentations, and
 * malformed input.
 */
import test from 'ava';
import { DwarfError } from '../errors.js';
import { DW_CFA, DW_EH_PE } from './constants.js';
import { CfiTable } from './table.js';

const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
const sleb = (v: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v = Math.floor(v / 128);
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const int = (v: bigint | number, size: number, le: boolean): number[] => {
  const out: number[] = [];
  let x = BigInt.asUintN(size * 8, BigInt(v));
  for (let i = 0; i < size; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return le ? out : out.reverse();
};
const str = (s: string) => [...new TextEncoder().encode(s), 0];

/** Wraps entry contents with a 32-bit or 64-bit initial length. */
function entry(body: number[], le: boolean, dwarf64 = false): number[] {
  return dwarf64 ? [...int(0xffffffff, 4, le), ...int(body.length, 8, le), ...body] : [...int(body.length, 4, le), ...body];
}

test('.debug_frame: every DW_CFA operation produces readelf-equivalent rules', (t) => {
  const le = true;
  const cie = entry([...int(0xffffffff, 4, le), 3, ...str(''), ...uleb(1), ...sleb(-8), ...uleb(16),
    DW_CFA.def_cfa, ...uleb(7), ...uleb(8), DW_CFA.offset | 16, ...uleb(1), DW_CFA.same_value, ...uleb(3)], le);
  const instr = [
    DW_CFA.advance_loc | 1, DW_CFA.def_cfa_offset, ...uleb(16), DW_CFA.offset | 6, ...uleb(2), // @1: rsp+16, rbp c-16
    DW_CFA.advance_loc1, 2, DW_CFA.def_cfa_register, ...uleb(6), // @3: rbp+16
    DW_CFA.advance_loc2, ...int(4, 2, le), DW_CFA.remember_state, DW_CFA.def_cfa, ...uleb(7), ...uleb(8), DW_CFA.restore | 6, // @7: rsp+8, rbp u
    DW_CFA.advance_loc4, ...int(2, 4, le), DW_CFA.restore_state, // @9: back to rbp+16, rbp c-16
    DW_CFA.advance_loc | 1, DW_CFA.val_offset, ...uleb(12), ...uleb(3), DW_CFA.val_offset_sf, ...uleb(13), ...sleb(1), // @10
    DW_CFA.offset_extended, ...uleb(14), ...uleb(4), DW_CFA.offset_extended_sf, ...uleb(15), ...sleb(-5),
    DW_CFA.register, ...uleb(1), ...uleb(2), DW_CFA.undefined, ...uleb(4), DW_CFA.GNU_args_size, ...uleb(32),
    DW_CFA.GNU_negative_offset_extended, ...uleb(5), ...uleb(1),
    DW_CFA.advance_loc | 1, DW_CFA.expression, ...uleb(12), ...uleb(2), 0x77, 0x08, DW_CFA.val_expression, ...uleb(13), ...uleb(1), 0x30, // @11
    DW_CFA.restore_extended, ...uleb(14), DW_CFA.restore_extended, ...uleb(3), DW_CFA.nop,
    DW_CFA.advance_loc | 1, DW_CFA.def_cfa_expression, ...uleb(3), 0x77, 0x10, 0x06, // @12: CFA expression
    DW_CFA.advance_loc | 1, DW_CFA.def_cfa_sf, ...uleb(7), ...sleb(-3), // @13: rsp+24
    DW_CFA.advance_loc | 1, DW_CFA.def_cfa_offset_sf, ...sleb(-4), // @14: rsp+32
    DW_CFA.set_loc, ...int(0x1010, 8, le), DW_CFA.GNU_window_save, // @0x10
    DW_CFA.MIPS_advance_loc8, ...int(1, 8, le), DW_CFA.nop, // @0x11
  ];
  const fde = entry([...int(0, 4, le), ...int(0x1000, 8, le), ...int(0x20, 8, le), ...instr], le);
  const table = CfiTable.fromSections({ debugFrame: new Uint8Array([...cie, ...fde]), littleEndian: le, addressSize: 8 });
  const at = (pc: number) => table.rowFor(0x1000n + BigInt(pc))!;
  const r0 = at(0);
  t.deepEqual([r0.start, r0.end], [0x1000n, 0x1001n]);
  t.deepEqual(r0.cfa, { kind: 'reg-offset', reg: 7, offset: 8 });
  t.deepEqual(r0.registers.get(16), { kind: 'offset', offset: -8 });
  t.deepEqual(r0.registers.get(3), { kind: 'same-value' });
  t.deepEqual(at(1).cfa, { kind: 'reg-offset', reg: 7, offset: 16 });
  t.deepEqual(at(2).registers.get(6), { kind: 'offset', offset: -16 });
  t.deepEqual(at(3).cfa, { kind: 'reg-offset', reg: 6, offset: 16 });
  t.deepEqual(at(7).cfa, { kind: 'reg-offset', reg: 7, offset: 8 });
  t.is(at(7).registers.get(6), undefined);
  t.deepEqual(at(9).cfa, { kind: 'reg-offset', reg: 6, offset: 16 });
  t.deepEqual(at(9).registers.get(6), { kind: 'offset', offset: -16 });
  const r10 = at(10);
  t.deepEqual(r10.registers.get(12), { kind: 'val-offset', offset: -24 });
  t.deepEqual(r10.registers.get(13), { kind: 'val-offset', offset: -8 });
  t.deepEqual(r10.registers.get(14), { kind: 'offset', offset: -32 });
  t.deepEqual(r10.registers.get(15), { kind: 'offset', offset: 40 });
  t.deepEqual(r10.registers.get(1), { kind: 'register', reg: 2 });
  t.deepEqual(r10.registers.get(4), { kind: 'undefined' });
  t.deepEqual(r10.registers.get(5), { kind: 'offset', offset: 8 });
  t.is(r10.argsSize, 32);
  const r11 = at(11);
  t.deepEqual(r11.registers.get(12), { kind: 'expression', expr: new Uint8Array([0x77, 0x08]) });
  t.deepEqual(r11.registers.get(13), { kind: 'val-expression', expr: new Uint8Array([0x30]) });
  t.is(r11.registers.get(14), undefined, 'restore_extended of a register the CIE does not set');
  t.deepEqual(r11.registers.get(3), { kind: 'same-value' }, 'restore_extended back to the CIE rule');
  t.deepEqual(at(12).cfa, { kind: 'expression', expr: new Uint8Array([0x77, 0x10, 0x06]) });
  t.deepEqual(at(13).cfa, { kind: 'reg-offset', reg: 7, offset: 24 });
  t.deepEqual(at(14).cfa, { kind: 'reg-offset', reg: 7, offset: 32 });
  t.is(at(0x10).start, 0x1010n);
  t.deepEqual([at(0x11).start, at(0x11).end], [0x1011n, 0x1020n]);
  t.is(table.rowFor(0x1020n), undefined);
});

test('.debug_frame in the 64-bit DWARF format', (t) => {
  const le = true;
  const cie = entry([...int(-1n, 8, le), 4, ...str(''), 8, 0, ...uleb(1), ...sleb(-8), ...uleb(16), DW_CFA.def_cfa, ...uleb(7), ...uleb(8)], le, true);
  const fde = entry([...int(0, 8, le), ...int(0xffffffff81000000n, 8, le), ...int(0x10, 8, le), DW_CFA.advance_loc | 4, DW_CFA.def_cfa_offset, ...uleb(16)], le, true);
  const table = CfiTable.fromSections({ debugFrame: new Uint8Array([...cie, ...fde]), littleEndian: le, addressSize: 8 });
  t.deepEqual(table.rowFor(0xffffffff81000004n)!.cfa, { kind: 'reg-offset', reg: 7, offset: 16 });
  t.is(table.rowFor(0xffffffff81000004n)!.fde.cie.version, 4);
});

test('big-endian .eh_frame with zPLRSBG augmentation and pcrel/indirect pointers', (t) => {
  const le = false;
  const sectionAddress = 0x2000n;
  // CIE at 0: augmentation data = P (indirect|pcrel|sdata4 personality), L (pcrel sdata4), R (pcrel sdata4).
  const augStart = 4 + 4 + 1 + 8 + 1 + 1 + 1; // length, id, version, "zPLRSBG\0", caf, daf, ra
  const persEnc = DW_EH_PE.indirect | DW_EH_PE.pcrel | DW_EH_PE.sdata4;
  const pcrel4 = DW_EH_PE.pcrel | DW_EH_PE.sdata4;
  const augData = [persEnc, ...int(0x100 - (augStart + 2), 4, le), pcrel4, pcrel4];
  const cieBody = [...int(0, 4, le), 1, ...str('zPLRSBG'), ...uleb(1), ...sleb(-4), 8, ...uleb(augData.length), ...augData, DW_CFA.def_cfa, ...uleb(4), ...uleb(4), DW_CFA.offset | 8, ...uleb(1)];
  const cie = entry(cieBody, le);
  const fdeOffset = cie.length;
  // FDE fields: CIE pointer (relative to itself), pc begin (pcrel), range, aug data (LSDA, pcrel).
  const pcBeginField = fdeOffset + 8;
  const lsdaField = pcBeginField + 8 + 1;
  const fdeBody = [...int(fdeOffset + 4, 4, le), ...int(0x1000 - (Number(sectionAddress) + pcBeginField) + 0x2000 - 0x1000, 4, le), ...int(0x40, 4, le), 4, ...int(0x3000 - (Number(sectionAddress) + lsdaField), 4, le),
    DW_CFA.advance_loc | 2, DW_CFA.def_cfa_offset, ...uleb(8)];
  const data = new Uint8Array([...cie, ...entry(fdeBody, le), 0, 0, 0, 0]);
  const table = CfiTable.fromSections({ ehFrame: { data, address: sectionAddress }, littleEndian: le, addressSize: 4 });
  const row = table.rowFor(0x2002n)!;
  t.truthy(row);
  t.is(row.fde.start, 0x2000n);
  t.is(row.fde.end, 0x2040n);
  t.is(row.fde.lsda, 0x3000n);
  t.true(row.signalFrame);
  t.is(row.fde.cie.personality, undefined, 'an indirect personality is not dereferenced');
  t.deepEqual(row.cfa, { kind: 'reg-offset', reg: 4, offset: 8 });
  t.deepEqual(table.rowFor(0x2000n)!.registers.get(8), { kind: 'offset', offset: -4 });
});

test('malformed CFI gives typed errors naming the section and offset', (t) => {
  const le = true;
  const cie = entry([...int(0xffffffff, 4, le), 1, ...str(''), ...uleb(1), ...sleb(-8), 16, DW_CFA.def_cfa, 7, 8], le);
  const build = (instr: number[]) => {
    const fde = entry([...int(0, 4, le), ...int(0x1000, 8, le), ...int(0x10, 8, le), ...instr], le);
    return CfiTable.fromSections({ debugFrame: new Uint8Array([...cie, ...fde]), littleEndian: le, addressSize: 8, path: 'synthetic' });
  };
  const e1 = t.throws(() => build([DW_CFA.restore_state]).rowFor(0x1000n), { instanceOf: DwarfError });
  t.is(e1?.section, '.debug_frame');
  t.is(e1?.file, 'synthetic');
  t.throws(() => build([0x3f]).rowFor(0x1000n), { code: 'ERR_BAD_DATA' });
  t.throws(() => build([DW_CFA.def_cfa_expression, 5, 1]).rowFor(0x1000n), { code: 'ERR_TRUNCATED' });
  t.throws(() => build([DW_CFA.def_cfa_expression, 0, DW_CFA.def_cfa_offset, 8]).rowFor(0x1000n), { code: 'ERR_BAD_DATA' });
  const bad = new Uint8Array([...cie, ...int(0x1000, 4, le)]);
  t.throws(() => CfiTable.fromSections({ debugFrame: bad, littleEndian: le, addressSize: 8 }).rowFor(0n), { instanceOf: DwarfError });
});
