/** Synthetic DWARF shared by tests. */
import { DW_AT, DW_FORM, DW_LLE, DW_RLE, DW_TAG, DW_UT } from '../constants.js';
import { Bytes, DwarfBuilder, addrTable, listsTable, strOffsetsTable } from './dwarf-builder.js';

const A = DW_AT;
const F = DW_FORM;
const T = DW_TAG;

/** A DWARF 5, 64-bit-offset compile unit using every indexed form, plus a 32-bit type unit. */
export function sampleDwarf5(): DwarfBuilder {
  const b = new DwarfBuilder();
  const names = ['cu.c', 'int', 'sig_var', 'fn', 'p', 'e', 'E_NEG', 'E_BIG', '/src'];
  const strOff = strOffsetsTable(names.map((n) => b.strp(n)), 8);
  const addr = addrTable([0x1000n, 0x2000n, 0x1100n, 0x3000n], 8);
  // List 0: the unit's code; list 1: a lexical block inside fn.
  const rl0 = new Bytes().u8(DW_RLE.base_addressx).uleb(0).u8(DW_RLE.offset_pair).uleb(0x100).uleb(0x200).u8(DW_RLE.end_of_list).done();
  const rl1 = new Bytes().u8(DW_RLE.startx_length).uleb(2).uleb(0x10).u8(DW_RLE.start_end).u64(0x1140).u64(0x1150).u8(DW_RLE.end_of_list).done();
  const rng = listsTable([rl0, rl1], 8);
  const ll0 = new Bytes()
    .u8(DW_LLE.startx_length).uleb(2).uleb(0x20).uleb(1).u8(0x55) // DW_OP_reg5
    .u8(DW_LLE.offset_pair).uleb(0x120).uleb(0x140).uleb(2).u8(0x91).sleb(-20) // DW_OP_fbreg -20
    .u8(DW_LLE.default_location).uleb(1).u8(0x50) // DW_OP_reg0
    .u8(DW_LLE.end_of_list).done();
  const loc = listsTable([ll0], 8);
  const sig = 0x1122334455667788n;
  b.units([
    {
      version: 5, unitType: DW_UT.type, typeSignature: sig, typeLabel: 'tu_struct',
      root: { tag: T.type_unit, attrs: [[A.language, F.data1, 0x1d]], children: [
        { tag: T.base_type, label: 'tu_int', attrs: [[A.name, F.strp, 'int'], [A.byte_size, F.data1, 4], [A.encoding, F.data1, 5]] },
        { tag: T.structure_type, label: 'tu_struct', attrs: [[A.name, F.strp, 'tu_struct'], [A.byte_size, F.data1, 8]], children: [
          { tag: T.member, attrs: [[A.name, F.strp, 'm'], [A.type, F.ref4, { ref: 'tu_int' }], [A.data_member_location, F.data1, 4]] },
        ] },
      ] },
    },
    {
      version: 5, offsetSize: 8,
      root: { tag: T.compile_unit, attrs: [
        [A.str_offsets_base, F.sec_offset, strOff.base], [A.addr_base, F.sec_offset, addr.base],
        [A.rnglists_base, F.sec_offset, rng.base], [A.loclists_base, F.sec_offset, loc.base],
        [A.name, F.strx1, 0], [A.comp_dir, F.strx, 8], [A.language, F.data2, 0x1d], [A.low_pc, F.addrx, 0], [A.ranges, F.rnglistx, 0],
      ], children: [
        { tag: T.base_type, label: 'int', attrs: [[A.name, F.strx2, 1], [A.byte_size, F.data1, 4], [A.encoding, F.data1, 5]] },
        { tag: T.variable, attrs: [[A.name, F.strx3, 2], [A.type, F.ref_sig8, sig], [A.external, F.flag, 1], [A.location, F.exprloc, Uint8Array.of(0xa1, 1)]] },
        { tag: T.subprogram, label: 'fn', attrs: [
          [A.name, F.strx4, 3], [A.low_pc, F.addrx1, 2], [A.high_pc, F.data4, 0x100], [A.external, F.flag_present, true],
          [A.decl_line, F.implicit_const, 42], [A.type, F.ref4, { ref: 'int' }], [A.frame_base, F.exprloc, Uint8Array.of(0x9c)],
        ], children: [
          { tag: T.formal_parameter, attrs: [[A.name, F.strx, 4], [A.type, F.ref_udata, { ref: 'int' }], [A.location, F.loclistx, 0]] },
          { tag: T.lexical_block, attrs: [[A.ranges, F.rnglistx, 1]], children: [
            { tag: T.variable, attrs: [[A.name, F.indirect, { indirect: F.string, value: 'inner' }], [A.type, F.ref2, { ref: 'int' }], [A.const_value, F.data16, new Uint8Array(16).fill(7)]] },
          ] },
        ] },
        { tag: T.enumeration_type, attrs: [[A.name, F.strx1, 5], [A.byte_size, F.data1, 4], [A.type, F.ref1, { ref: 'int' }]], children: [
          { tag: T.enumerator, attrs: [[A.name, F.strx1, 6], [A.const_value, F.sdata, -5]] },
          { tag: T.enumerator, attrs: [[A.name, F.strx1, 7], [A.const_value, F.udata, 300]] },
        ] },
        { tag: T.variable, attrs: [[A.name, F.string, 'blocky'], [A.type, F.ref4, { ref: 'int' }], [A.location, F.block2, Uint8Array.of(0x03, 0, 0x30, 0, 0, 0, 0, 0, 0)]] },
      ] },
    },
  ]);
  return b.raw('.debug_str_offsets', strOff.bytes).raw('.debug_addr', addr.bytes).raw('.debug_rnglists', rng.bytes).raw('.debug_loclists', loc.bytes);
}

