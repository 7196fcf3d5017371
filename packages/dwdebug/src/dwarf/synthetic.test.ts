/**
 * Sections synthesised byte by byte: forms, layouts and producers' habits
 * the fixture compilers do not happen to emit, and corrupt input.
 */
import test from 'ava';
import { DwarfError } from '../errors.js';
import { DW_AT, DW_FORM, DW_LANG_NAMES, DW_LNCT, DW_TAG } from './constants.js';
import { DebugFile } from './debug-file.js';
import { typeName } from './model/format.js';
import { FunctionSymbol, ParameterSymbol, VariableSymbol } from './model/symbols.js';
import { EnumType, StructType, sizeOf, strip, type DwarfType } from './model/types.js';
import { Bytes, DwarfBuilder } from './test-support/dwarf-builder.js';
import { sampleDwarf5 } from './test-support/samples.js';
import { parseLineHeader, rowAddress, runLineProgram, fileAt } from './line.js';
import { Reader } from './reader.js';

const A = DW_AT;
const F = DW_FORM;
const T = DW_TAG;

test('DWARF 5: strx/addrx/rnglistx/loclistx/implicit_const/ref_sig8/data16/indirect, 64-bit offsets', async (t) => {
  const b = sampleDwarf5();
  const df = await DebugFile.load(b.build(), { workers: 0 });
  t.deepEqual(df.errors, []);
  const fn = df.lookupGlobals('fn')[0] as FunctionSymbol;
  t.is(fn.entryPc, 0x1100n);
  t.deepEqual(fn.ranges, [{ start: 0x1100n, end: 0x1200n }]);
  t.is(fn.declLine, 42);
  t.is(typeName(fn.type), 'int (int)');
  const v = df.lookupGlobals('sig_var')[0] as VariableSymbol;
  const ts = strip(v.type) as StructType;
  t.is(typeName(ts), 'struct tu_struct');
  t.deepEqual(ts.members.map((m) => [m.name, m.offset, typeName(m.type)]), [['m', 4, 'int']]);
  t.deepEqual(v.location, { kind: 'expr', expr: Uint8Array.of(0xa1, 1) });
  t.is(v.unit.name, 'cu.c');
  const cu = df.units().find((u) => u.name === 'cu.c')!;
  t.is(cu.env().addrx(1), 0x2000n);
  t.is(DW_LANG_NAMES[cu.language!], 'C11');
  t.deepEqual(cu.ranges, [{ start: 0x1100n, end: 0x1200n }]);
  t.is(df.unitsAt(0x1180n)[0]?.name, 'cu.c');
  // The lexical block's ranges come from rnglistx 1.
  const at1 = df.functionAt(0x1145n)!;
  t.deepEqual(at1.scopes.map((s) => s.kind), ['block', 'function']);
  t.deepEqual(at1.scopes[0]!.ranges, [{ start: 0x1100n, end: 0x1110n }, { start: 0x1140n, end: 0x1150n }]);
  t.deepEqual(df.variablesInScope(0x1145n).map((x) => x.symbol.name), ['inner', 'p']);
  t.deepEqual(df.variablesInScope(0x1130n).map((x) => x.symbol.name), ['p']);
  const inner = df.variablesInScope(0x1145n)[0]!.symbol as VariableSymbol;
  t.deepEqual(inner.constValue, new Uint8Array(16).fill(7));
  const p = fn.params[0] as ParameterSymbol;
  t.deepEqual(p.location, {
    kind: 'list', entries: [
      { start: 0x1100n, end: 0x1120n, expr: Uint8Array.of(0x55) },
      { start: 0x1120n, end: 0x1140n, expr: Uint8Array.of(0x91, 0x6c) },
      { start: 0n, end: 0xffffffffffffffffn, expr: Uint8Array.of(0x50), isDefault: true },
    ],
  });
  const e = df.lookupTypes('enum e')[0] as EnumType;
  t.deepEqual(e.enumerators, [{ name: 'E_NEG', value: -5n }, { name: 'E_BIG', value: 300n }]);
  t.is((df.lookupGlobals('E_NEG')[0] as { value: bigint }).value, -5n);
  t.deepEqual((df.lookupGlobals('blocky')[0] as VariableSymbol).location, { kind: 'expr', expr: Uint8Array.of(0x03, 0, 0x30, 0, 0, 0, 0, 0, 0) });
  t.is(df.variableAt(0x3002n)?.symbol.name, 'blocky');
  t.is(df.variableAt(0x3002n)?.offset, 2n);
});

test('DWARF 2 and 3: 4-byte addresses, ref_addr by address size, .debug_loc and .debug_ranges', async (t) => {
  const b = new DwarfBuilder();
  // .debug_loc, relative to the unit's base 0x8000: [0x8000,0x8010) reg0; then base 0x9000: [0x9000,0x9010) reg1.
  const loc = new Bytes().u32(0).u32(0x10).u16(1).u8(0x50).u32(0xffffffff).u32(0x9000).u32(0).u32(0x10).u16(1).u8(0x51).u32(0).u32(0).done();
  // .debug_ranges, relative to the unit's base 0x8000: [0x8020,0x8030) and [0x8038,0x803c).
  const ranges = new Bytes().u32(0x20).u32(0x30).u32(0x38).u32(0x3c).u32(0).u32(0).done();
  b.units([
    {
      version: 2, addressSize: 4,
      root: { tag: T.compile_unit, attrs: [[A.name, F.string, 'two.c'], [A.low_pc, F.addr, 0x8000], [A.high_pc, F.addr, 0x8040]], children: [
        { tag: T.base_type, label: 'int2', attrs: [[A.name, F.string, 'int'], [A.byte_size, F.data1, 4], [A.encoding, F.data1, 5]] },
        { tag: T.typedef, attrs: [[A.name, F.string, 'myint'], [A.type, F.ref_addr, 0x0b + 0]] },
        { tag: T.subprogram, attrs: [[A.name, F.string, 'f2'], [A.low_pc, F.addr, 0x8000], [A.high_pc, F.addr, 0x8040], [A.external, F.flag, 1]], children: [
          { tag: T.variable, attrs: [[A.name, F.string, 'v'], [A.type, F.ref4, { ref: 'int2' }], [A.location, F.data4, 0]] },
          { tag: T.variable, attrs: [[A.name, F.string, 'w'], [A.type, F.ref4, { ref: 'int2' }], [A.location, F.block1, Uint8Array.of(0x91, 0x78)]] },
        ] },
      ] },
    },
    {
      version: 3, addressSize: 4,
      root: { tag: T.compile_unit, attrs: [[A.name, F.string, 'three.c'], [A.low_pc, F.addr, 0x8000], [A.high_pc, F.addr, 0x8040]], children: [
        { tag: T.subprogram, attrs: [[A.name, F.string, 'f3'], [A.ranges, F.data4, 0]], children: [
          { tag: T.lexical_block, attrs: [[A.ranges, F.data4, 0]] },
        ] },
      ] },
    },
  ]);
  b.raw('.debug_loc', loc).raw('.debug_ranges', ranges);
  const df = await DebugFile.load(b.build(), { workers: 0 });
  t.deepEqual(df.errors, []);
  // The typedef's ref_addr points at the base type by section offset (the first unit starts at 0).
  const info = b.sections.get('.debug_info')!;
  const intOffset = b.labels.get('int2')!;
  t.is(intOffset, 0x0b + 0 + (info[0x0b] === undefined ? 0 : 0) + (intOffset - 0x0b));
  const my = df.lookupTypes('myint')[0]!;
  t.is(my.kind, 'typedef');
  const f2 = df.lookupGlobals('f2')[0] as FunctionSymbol;
  t.deepEqual(f2.ranges, [{ start: 0x8000n, end: 0x8040n }]);
  const v = f2.scope.symbols.find((s) => s.name === 'v') as VariableSymbol;
  t.deepEqual(v.location, { kind: 'list', entries: [{ start: 0x8000n, end: 0x8010n, expr: Uint8Array.of(0x50) }, { start: 0x9000n, end: 0x9010n, expr: Uint8Array.of(0x51) }] });
  const w = f2.scope.symbols.find((s) => s.name === 'w') as VariableSymbol;
  t.deepEqual(w.location, { kind: 'expr', expr: Uint8Array.of(0x91, 0x78) });
  const f3 = df.lookupGlobals('f3')[0] as FunctionSymbol;
  t.deepEqual(f3.ranges, [{ start: 0x8020n, end: 0x8030n }, { start: 0x8038n, end: 0x803cn }]);
  t.is(f3.entryPc, 0x8020n);
  t.is(df.units().map((u) => u.version).join(','), '2,3');
});

test('DWARF 4 type units in .debug_types, referenced by signature', async (t) => {
  const b = new DwarfBuilder();
  const sig = 0xdeadbeefcafef00dn;
  b.units([
    {
      version: 4, inTypesSection: true, typeSignature: sig, typeLabel: 's',
      root: { tag: T.type_unit, attrs: [[A.language, F.data1, 0x0c]], children: [
        { tag: T.structure_type, label: 's', attrs: [[A.name, F.string, 'point'], [A.byte_size, F.data1, 8]], children: [
          { tag: T.member, attrs: [[A.name, F.string, 'x'], [A.type, F.ref4, { ref: 'i' }], [A.data_member_location, F.data1, 0]] },
          { tag: T.member, attrs: [[A.name, F.string, 'y'], [A.type, F.ref4, { ref: 'i' }], [A.data_member_location, F.data1, 4]] },
        ] },
        { tag: T.base_type, label: 'i', attrs: [[A.name, F.string, 'int'], [A.byte_size, F.data1, 4], [A.encoding, F.data1, 5]] },
      ] },
    },
    {
      version: 4,
      root: { tag: T.compile_unit, attrs: [[A.name, F.string, 'four.c']], children: [
        { tag: T.variable, attrs: [[A.name, F.string, 'pt'], [A.type, F.ref_sig8, sig], [A.location, F.exprloc, Uint8Array.of(0x03, 0, 0x10, 0, 0, 0, 0, 0, 0)]] },
      ] },
    },
  ]);
  const df = await DebugFile.load(b.build(), { workers: 0 });
  t.deepEqual(df.errors, []);
  const pt = df.lookupGlobals('pt')[0] as VariableSymbol;
  t.is(typeName(pt.type), 'struct point');
  t.is(sizeOf(pt.type), 8);
  t.deepEqual(df.lookupChain('pt.y')!.steps.map((s) => s.bitOffset), [32]);
  // The type is also found by name from the type unit.
  t.is(df.lookupTypes('struct point').length, 1);
  t.is(df.units().find((u) => u.kind === 'type')?.header.section, 1);
});

test('supplementary (dwz) file: DW_FORM_GNU_ref_alt, DW_FORM_GNU_strp_alt, DWARF 5 ref_sup4/strp_sup', async (t) => {
  const sup = new DwarfBuilder();
  const altName = sup.strp('from_alt');
  sup.units([{
    version: 4,
    root: { tag: T.partial_unit, children: [
      { tag: T.base_type, label: 'alt_int', attrs: [[A.name, F.strp, 'long'], [A.byte_size, F.data1, 8], [A.encoding, F.data1, 5]] },
    ] },
  }]);
  const altInt = sup.labels.get('alt_int')!;
  const supSections = sup.build('sup.debug');
  const main = new DwarfBuilder();
  main.units([
    {
      version: 4,
      root: { tag: T.compile_unit, attrs: [[A.name, F.string, 'main.c']], children: [
        { tag: T.variable, attrs: [[A.name, F.GNU_strp_alt, altName], [A.type, F.GNU_ref_alt, altInt], [A.location, F.exprloc, Uint8Array.of(0x03, 8, 0, 0, 0, 0, 0, 0, 0)]] },
      ] },
    },
    {
      version: 5,
      root: { tag: T.compile_unit, attrs: [[A.name, F.string, 'five.c']], children: [
        { tag: T.variable, attrs: [[A.name, F.strp_sup, altName], [A.type, F.ref_sup4, altInt], [A.declaration, F.flag_present, true]] },
      ] },
    },
  ]);
  const df = await DebugFile.load(main.build('main.debug', supSections), { workers: 0 });
  t.deepEqual(df.errors, []);
  const hits = df.lookupGlobals('from_alt');
  t.is(hits.length, 1, 'the definition wins over the declaration');
  t.is(typeName((hits[0] as VariableSymbol).type), 'long');
  t.is(df.lookupTypes('long').length, 1, 'types of the supplementary file are indexed');
});

test('line programs: DWARF 5 with MD5 and discriminators, DWARF 2 with define_file', (t) => {
  // DWARF 5 header: directories and files with (path: string, dir: udata, MD5: data16).
  const md5 = Uint8Array.from({ length: 16 }, (_, i) => i);
  const hdr = new Bytes()
    .u8(1).u8(1).u8(1).sbyte(-5).u8(14).u8(13).bytes([0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1])
    .u8(1).uleb(DW_LNCT.path).uleb(F.string).uleb(2).cstr('/build').cstr('inc')
    .u8(3).uleb(DW_LNCT.path).uleb(F.string).uleb(DW_LNCT.directory_index).uleb(F.udata).uleb(DW_LNCT.MD5).uleb(F.data16)
    .uleb(2).cstr('a.c').uleb(0).bytes(md5).cstr('b.h').uleb(1).bytes(md5);
  const prog = new Bytes()
    .u8(0).uleb(9).u8(2).u64(0x400000) // set_address
    .u8(1) // copy: a.c:1
    .u8(0).uleb(2).u8(4).uleb(3) // set_discriminator 3
    .u8(3).sleb(9).u8(2).uleb(4).u8(1) // line 10 at +4
    .u8(4).uleb(1).u8(2).uleb(4).u8(1) // file 1 (b.h) at +8
    .u8(2).uleb(4).u8(0).uleb(1).u8(1); // end_sequence at +12
  const body = new Bytes().u16(5).u8(8).u8(0).u32(hdr.length).bytes(hdr.b).bytes(prog.b);
  const lt = new Bytes().u32(body.length).bytes(body.b).done();
  const r = new Reader(lt, { file: 'x', section: '.debug_line' }, true);
  const h = parseLineHeader(r, {}, '/build')!;
  t.truthy(h);
  t.deepEqual(h.files.map((f) => f.path), ['/build/a.c', '/build/inc/b.h']);
  t.deepEqual(fileAt(h, 0)!.md5, md5);
  const rows = runLineProgram(r, h, 8);
  t.is(r.error, undefined);
  t.deepEqual(Array.from({ length: rows.length }, (_, i) => rowAddress(rows, i)), [0x400000n, 0x400004n, 0x400008n, 0x40000cn]);
  t.deepEqual([...rows.line], [1, 10, 10, 10]);
  t.deepEqual([...rows.file], [1, 1, 1, 1].map((x, i) => (i >= 2 ? 1 : x)));
  t.deepEqual([...rows.discriminator], [0, 3, 0, 0]);

  // DWARF 2: include_directories and file_names as strings.
  const hdr2 = new Bytes().u8(1).u8(1).sbyte(-5).u8(14).u8(10).bytes([0, 1, 1, 1, 1, 0, 0, 0, 1])
    .cstr('sub').u8(0).cstr('x.c').uleb(0).uleb(0).uleb(0).cstr('y.h').uleb(1).uleb(0).uleb(0).u8(0);
  const prog2 = new Bytes().u8(0).uleb(5).u8(2).u32(0x1000).u8(0x14).u8(0).uleb(1).u8(1);
  const body2 = new Bytes().u16(2).u32(hdr2.length).bytes(hdr2.b).bytes(prog2.b);
  const lt2 = new Bytes().u32(body2.length).bytes(body2.b).done();
  const r2 = new Reader(lt2, { file: 'x', section: '.debug_line' }, true);
  const h2 = parseLineHeader(r2, {}, '/cwd')!;
  t.deepEqual(h2.files.map((f) => f.path), ['/cwd/x.c', '/cwd/sub/y.h']);
  const rows2 = runLineProgram(r2, h2, 4);
  t.deepEqual(Array.from({ length: rows2.length }, (_, i) => rowAddress(rows2, i)), [0x1000n, 0x1000n]);
  t.deepEqual([...rows2.line], [6, 6]);
});

test('corrupt input: typed errors with section and offset, bounded sizes, cycles end', async (t) => {
  const b = new DwarfBuilder();
  b.units([{
    version: 4,
    root: { tag: T.compile_unit, attrs: [[A.name, F.string, 'bad.c']], children: [
      { tag: T.typedef, label: 'a', attrs: [[A.name, F.string, 'loop_a'], [A.type, F.ref4, { ref: 'b' }]] },
      { tag: T.typedef, label: 'b', attrs: [[A.name, F.string, 'loop_b'], [A.type, F.ref4, { ref: 'a' }]] },
      { tag: T.structure_type, label: 'huge', attrs: [[A.name, F.string, 'huge'], [A.byte_size, F.data8, 2n ** 60n]] },
      { tag: T.array_type, label: 'arr', attrs: [[A.type, F.ref4, { ref: 'huge' }]], children: [
        { tag: T.subrange_type, attrs: [[A.count, F.data8, 2n ** 62n]] },
      ] },
      { tag: T.variable, attrs: [[A.name, F.string, 'big_array'], [A.type, F.ref4, { ref: 'arr' }]] },
      { tag: T.variable, attrs: [[A.name, F.string, 'self'], [A.specification, F.ref4, { ref: 'selfref' }]], label: 'selfref' },
    ] },
  }]);
  const df = await DebugFile.load(b.build(), { workers: 0 });
  const a = df.lookupTypes('loop_a')[0]!;
  t.is(sizeOf(a), undefined);
  t.notThrows(() => typeName(a));
  t.is(sizeOf(df.lookupTypes('struct huge')[0] as DwarfType), undefined);
  t.is(sizeOf((df.lookupGlobals('big_array')[0] as VariableSymbol).type), undefined);

  // A unit whose length runs past the section: an error naming .debug_info and the offset; earlier units survive.
  const good = b.sections.get('.debug_info')!;
  const bad = new Uint8Array(good.length + 11);
  bad.set(good);
  new DataView(bad.buffer).setUint32(good.length, 0x1000, true);
  bad[good.length + 4] = 4;
  const df2 = await DebugFile.load({ ...b.build(), section: (n) => (n === '.debug_info' ? bad : b.sections.get(n)) }, { workers: 0 });
  t.is(df2.errors.length, 1);
  const e = df2.errors[0]!;
  t.true(e instanceof DwarfError);
  t.is(e.section, '.debug_info');
  t.is(e.offset, good.length);
  t.is(df2.lookupTypes('loop_b').length, 1);
  await t.throwsAsync(() => DebugFile.load({ ...b.build(), section: (n) => (n === '.debug_info' ? bad : b.sections.get(n)) }, { workers: 0, strict: true }), { instanceOf: DwarfError });

  // An abbreviation code that does not exist: the unit's scan stops with a typed error.
  const broken = good.slice();
  broken[good.length - 3] = 0x7f;
  const df3 = await DebugFile.load({ ...b.build(), section: (n) => (n === '.debug_info' ? broken : b.sections.get(n)) }, { workers: 0 });
  t.true(df3.errors.every((x) => x instanceof DwarfError && x.section === '.debug_info'));
});

test('GNU split DWARF (DWARF 4 .dwo): GNU_str_index, GNU_addr_index, .debug_loc.dwo entries', async (t) => {
  const b = new DwarfBuilder();
  const names = ['split.c', 'int', 'sv'];
  const offs = names.map((n) => b.strp(n));
  b.units([{
    version: 4,
    root: { tag: T.compile_unit, attrs: [[A.name, F.GNU_str_index, 0], [A.low_pc, F.GNU_addr_index, 0]], children: [
      { tag: T.base_type, label: 'int', attrs: [[A.name, F.GNU_str_index, 1], [A.byte_size, F.data1, 4], [A.encoding, F.data1, 5]] },
      { tag: T.subprogram, attrs: [[A.name, F.string, 'sf'], [A.low_pc, F.GNU_addr_index, 1], [A.high_pc, F.data4, 0x40]], children: [
        { tag: T.variable, attrs: [[A.name, F.GNU_str_index, 2], [A.type, F.ref4, { ref: 'int' }], [A.location, F.sec_offset, 0]] },
      ] },
    ] },
  }]);
  // Pre-5 split string offsets have no header; the address table neither.
  const so = new Bytes();
  for (const o of offs) so.u32(o);
  const addr = new Bytes().u64(0x5000).u64(0x5010).u64(0x5020);
  // start_length_entry(addr 1, len 8) reg0; start_end_entry(addr 1 .. addr 2) reg1; end.
  const loc = new Bytes().u8(3).uleb(1).u32(8).u16(1).u8(0x50).u8(2).uleb(1).uleb(2).u16(1).u8(0x51).u8(0).done();
  const secs = new Map<string, Uint8Array>();
  for (const [k, v] of b.sections) secs.set(`${k}.dwo`, v);
  secs.set('.debug_str_offsets.dwo', so.done());
  secs.set('.debug_loc.dwo', loc);
  secs.set('.debug_addr', addr.done());
  const df = await DebugFile.load({ path: 'split.dwo', littleEndian: true, is64: true, section: (n) => secs.get(n) }, { workers: 0 });
  t.deepEqual(df.errors, []);
  t.is(df.units()[0]!.name, 'split.c');
  const sf = df.lookupGlobals('sf')[0] as FunctionSymbol;
  t.deepEqual(sf.ranges, [{ start: 0x5010n, end: 0x5050n }]);
  const sv = sf.scope.symbols[0] as VariableSymbol;
  t.is(sv.name, 'sv');
  t.is(typeName(sv.type), 'int');
  t.deepEqual(sv.location, { kind: 'list', entries: [{ start: 0x5010n, end: 0x5018n, expr: Uint8Array.of(0x50) }, { start: 0x5010n, end: 0x5020n, expr: Uint8Array.of(0x51) }] });
});

test('lookups before the index: names inline, in .debug_str, by reference, in a later unit, and a unit read only up to its last mention', async (t) => {
  const b = new DwarfBuilder();
  const origin = b.strp('origin_fn');
  const shared = b.strp('shared_name');
  const late = b.strp('late_struct');
  b.units([
    { version: 5, root: { tag: T.compile_unit, attrs: [[A.name, F.string, 'a.c']], children: [
      { tag: T.base_type, label: 'int', attrs: [[A.name, F.string, 'int'], [A.byte_size, F.data1, 4], [A.encoding, F.data1, 5]] },
      { tag: T.variable, attrs: [[A.name, F.string, 'a_long_inline_name'], [A.type, F.ref4, { ref: 'int' }], [A.location, F.exprloc, Uint8Array.of(0x03, 0, 0x10, 0, 0, 0, 0, 0, 0)]] },
      { tag: T.variable, attrs: [[A.name, F.strp, shared], [A.type, F.ref4, { ref: 'int' }], [A.declaration, F.flag_present, true]] },
    ] } },
    { version: 5, root: { tag: T.compile_unit, attrs: [[A.name, F.string, 'b.c']], children: [
      { tag: T.base_type, label: 'int', attrs: [[A.name, F.string, 'int'], [A.byte_size, F.data1, 4], [A.encoding, F.data1, 5]] },
      { tag: T.subprogram, label: 'abs', attrs: [[A.name, F.strp, origin], [A.inline, F.data1, 3], [A.type, F.ref4, { ref: 'int' }]] },
      { tag: T.subprogram, attrs: [[A.abstract_origin, F.ref4, { ref: 'abs' }], [A.low_pc, F.addr, 0x2000n], [A.high_pc, F.data4, 0x10]] },
      { tag: T.variable, attrs: [[A.name, F.strp, shared], [A.type, F.ref4, { ref: 'int' }], [A.location, F.exprloc, Uint8Array.of(0x03, 0, 0x20, 0, 0, 0, 0, 0, 0)]] },
      // A type defined after a declaration of it, then many DIEs that do not mention it.
      { tag: T.structure_type, attrs: [[A.name, F.strp, late], [A.declaration, F.flag_present, true]] },
      { tag: T.structure_type, attrs: [[A.name, F.strp, late], [A.byte_size, F.data1, 4]], children: [
        { tag: T.member, attrs: [[A.name, F.string, 'm'], [A.type, F.ref4, { ref: 'int' }], [A.data_member_location, F.data1, 0]] },
      ] },
      ...Array.from({ length: 20 }, (_, i) => ({ tag: T.variable, attrs: [[A.name, F.string, `v${i}`], [A.type, F.ref4, { ref: 'int' }]] as [number, number, string | { ref: string }][] })),
    ] } },
  ]);
  const names = ['a_long_inline_name', 'shared_name', 'origin_fn', 'late_struct', 'int', 'v19', 'nothing'];
  const indexed = await DebugFile.load(b.build(), { workers: 0, indexAtLoad: true });
  const ids = (s: readonly { id?: number }[]) => s.map((x) => x.id);
  for (const name of names) {
    const g = await DebugFile.load(b.build(), { workers: 0 });
    t.deepEqual(ids(g.lookupGlobals(name)), ids(indexed.lookupGlobals(name)), `globals ${name}`);
    const ty = await DebugFile.load(b.build(), { workers: 0 });
    t.deepEqual(ids(ty.lookupTypes(name)), ids(indexed.lookupTypes(name)), `types ${name}`);
  }
  // The concrete instance is found by its abstract origin's name, and the definition of the struct wins.
  const lazy = await DebugFile.load(b.build(), { workers: 0 });
  t.true(lazy.lookupGlobals('origin_fn').some((s) => s instanceof FunctionSymbol && s.entryPc === 0x2000n));
  t.is((lazy.lookupTypes('struct late_struct')[0] as StructType).members.length, 1);
});
