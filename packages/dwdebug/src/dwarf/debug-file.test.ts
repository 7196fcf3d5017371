import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { DwarfError } from '../errors.js';
import { typeName, declare } from './model/format.js';
import { strip, StructType, EnumType } from './model/types.js';
import { FunctionSymbol, VariableSymbol } from './model/symbols.js';
import { LineFlag, rowAddress } from './line.js';
import { FLAVOURS, buildC, gdb, openDebug, parsePtypeO } from './test-support/fixtures.js';
import type { DebugFile } from './debug-file.js';

const needs = [{ command: 'gcc', package: 'gcc' }, { command: 'clang', package: 'clang' }, { command: 'gdb', package: 'gdb' }];

const GLOBALS = ['global_outer', 'global_outer_ptr', 'cv_int', 'grid', 'shared_counter', 'hp', 'global_value', 'atomic_int', 'restrict_ptr', 'opaque_handle'];
const FUNCTIONS = ['main', 'work', 'twice', 'call_other'];

/** gdb shortens gcc's integer type names (`long long unsigned int` → `unsigned long long`); we keep DWARF's. */
function gdbIntegerNames(s: string): string {
  return s
    .replace(/\blong long unsigned int\b/g, 'unsigned long long').replace(/\blong unsigned int\b/g, 'unsigned long')
    .replace(/\bshort unsigned int\b/g, 'unsigned short').replace(/\blong long int\b/g, 'long long')
    .replace(/\blong int\b/g, 'long').replace(/\bshort int\b/g, 'short');
}

function staticAddress(df: DebugFile, name: string): bigint | undefined {
  const v = df.lookupGlobals(name).find((s): s is VariableSymbol => s instanceof VariableSymbol);
  const loc = v?.location;
  if (loc?.kind !== 'expr') return undefined;
  const e = loc.expr;
  if (e[0] === 0x03) return new DataView(e.buffer, e.byteOffset + 1, 8).getBigUint64(0, true);
  if (e[0] === 0xa1) return v!.unit.env().addrx(e[1]!);
  return undefined;
}

/** Code addresses worth asking about: every line-table row of the fixture's functions, and one byte into each. */
function sampleAddresses(df: DebugFile): bigint[] {
  const out = new Set<bigint>();
  for (const name of FUNCTIONS) {
    const f = df.lookupGlobals(name).find((s): s is FunctionSymbol => s instanceof FunctionSymbol);
    if (!f) continue;
    for (const r of f.ranges) {
      const unit = df.unitsAt(r.start)[0];
      const t = unit?.lineTable();
      if (!t) continue;
      for (let i = 0; i < t.length; i++) {
        const a = rowAddress(t, i);
        if (a >= r.start && a < r.end && !(t.flags[i]! & LineFlag.endSequence)) {
          out.add(a);
          if (a + 1n < r.end) out.add(a + 1n);
        }
      }
    }
  }
  return [...out].sort((a, b) => (a < b ? -1 : 1));
}

for (const flavour of FLAVOURS) {
  systemTest(test, `${flavour.name}: globals, functions and types match gdb`, needs, async (t) => {
    const file = buildC(flavour);
    const { df, bf } = await openDebug(file);
    t.deepEqual(df.errors, []);
    const cmds: string[] = [];
    for (const g of GLOBALS) cmds.push(`info address ${g}`, `whatis ${g}`);
    for (const f of FUNCTIONS) cmds.push(`info address ${f}`);
    for (const s of ['struct outer', 'struct flags', 'union value', 'struct inner']) cmds.push(`ptype /o ${s}`);
    cmds.push('ptype enum color', 'whatis global_outer.handlers', 'whatis global_outer.callback');
    const out = gdb(file, cmds);
    let k = 0;
    for (const g of GLOBALS) {
      const addr = /static storage at address (0x[0-9a-f]+)/.exec(out[k++]!)?.[1];
      const whatis = /^type = (.*)$/m.exec(out[k++]!)?.[1];
      const sym = df.lookupGlobals(g)[0];
      t.truthy(sym, g);
      if (addr) t.is(staticAddress(df, g), BigInt(addr), `address of ${g}`);
      t.is(typeName((sym as VariableSymbol).type) as string | undefined, whatis, `type of ${g}`);
    }
    for (const f of FUNCTIONS) {
      const addr = /is a function at address (0x[0-9a-f]+)/.exec(out[k++]!)?.[1];
      const fn = df.lookupGlobals(f).find((s): s is FunctionSymbol => s instanceof FunctionSymbol && s.entryPc !== undefined);
      if (addr) t.is(fn?.entryPc, BigInt(addr), `entry of ${f}`);
    }
    for (const s of ['struct outer', 'struct flags', 'union value', 'struct inner']) {
      const expected = parsePtypeO(out[k++]!);
      const type = df.lookupTypes(s)[0];
      t.true(type instanceof StructType, s);
      const st = type as StructType;
      const ours = st.members.map((m) => ({
        offset: st.kind === 'union' ? 0 : m.bitSize !== undefined ? Math.floor(m.bitOffset! / 8) : m.offset!,
        bit: m.bitSize !== undefined ? m.bitOffset! % 8 : undefined,
        text: m.name === undefined ? undefined : `${declare(m.type, m.name)}${m.bitSize !== undefined ? ` : ${m.bitSize}` : ''};`,
      }));
      t.is(ours.length, expected.length, `${s} member count`);
      ours.forEach((m, i) => {
        const e = expected[i]!;
        if (st.kind !== 'union') t.is(m.offset, e.offset, `${s} member ${i} offset`);
        t.is(m.bit, e.bit, `${s} member ${i} bit`);
        // Nested anonymous/struct members are printed expanded by gdb; compare simple declarations only.
        if (m.text && !e.text.endsWith('{')) t.is(gdbIntegerNames(m.text), e.text, `${s} member ${i}`);
      });
    }
    const color = df.lookupTypes('enum color')[0] as EnumType;
    t.is(`type = enum color {${color.enumerators.map((e) => (e.value === BigInt(color.enumerators.indexOf(e)) ? e.name : `${e.name} = ${e.value}`)).join(', ')}}`, out[k++]);
    const outer = df.lookupTypes('struct outer')[0] as StructType;
    t.is(`type = ${typeName(outer.member('handlers')!.member.type)}`, out[k++]);
    t.is(`type = ${typeName(outer.member('callback')!.member.type)}`, out[k++]);
    bf.close();
    df.close();
  });

  systemTest(test, `${flavour.name}: address to line, function and scope match gdb and addr2line`, needs, async (t) => {
    const file = buildC(flavour);
    const { df } = await openDebug(file);
    const addrs = sampleAddresses(df);
    t.true(addrs.length > 10);
    const out = gdb(file, addrs.flatMap((a) => [`info line *0x${a.toString(16)}`, `info scope *0x${a.toString(16)}`]));
    let mismatches = 0;
    addrs.forEach((a, i) => {
      const gl = /^Line (\d+) of "([^"]+)"/.exec(out[2 * i]!);
      const ours = df.lineAt(a);
      if (gl) {
        t.truthy(ours, `line at 0x${a.toString(16)}`);
        if (ours && (ours.line !== Number(gl[1]) || !(ours.file === gl[2] || ours.file.endsWith('/' + gl[2])))) {
          mismatches++;
          t.log(`0x${a.toString(16)}: ours ${ours.file}:${ours.line}, gdb ${out[2 * i]}`);
        }
        const start = /starts at address (0x[0-9a-f]+)/.exec(out[2 * i]!)?.[1];
        if (ours && start) t.is(ours.address, BigInt(start), `line start of 0x${a.toString(16)}`);
      }
      // gdb also lists labels and an inlined block's own function symbol; we list variables only, once each.
      const gdbScope = out[2 * i + 1]!;
      const gs = [...new Set([...gdbScope.matchAll(/^Symbol (\S+) is (?!a function|a label)/gm)].map((m) => m[1]!))].sort();
      let visible = df.variablesInScope(a);
      const at = df.functionAt(a);
      if (at?.inlined.length && !/^Symbol \S+ is a function/m.test(gdbScope)) {
        // gdb does not make inline frames from DWARF 2/3 gcc output; compare with every scope up to the function.
        visible = at.scopes.flatMap((s) => s.symbols.filter((x) => x.kind === 'variable' || x.kind === 'parameter').map((symbol) => ({ symbol, scope: s })));
      }
      const ourScope = [...new Set(visible.map((v) => v.symbol.name!))].sort();
      t.deepEqual(ourScope, gs, `scope at 0x${a.toString(16)}`);
    });
    t.is(mismatches, 0, 'line numbers differing from gdb');
    // Inlined chains against addr2line -i (innermost first, each with its call site's caller).
    const a2l = (await import('@stackdb/test-support')).run('addr2line', ['-i', '-f', '-e', file, ...addrs.map((a) => `0x${a.toString(16)}`)]).trim().split('\n');
    let p = 0;
    for (const a of addrs) {
      const names: string[] = [];
      // addr2line prints one (function, position) pair per frame; the next address starts when positions run out.
      const at = df.functionAt(a);
      const expected = at ? [...at.inlined.map((i) => i.name), at.function.name] : [];
      for (let n = 0; n < Math.max(1, expected.length); n++) {
        names.push(a2l[p]!);
        p += 2;
      }
      if (at) t.deepEqual(expected, names, `inline chain at 0x${a.toString(16)}`);
    }
  });

  systemTest(test, `${flavour.name}: source lines to addresses match gdb`, needs, async (t) => {
    const file = buildC(flavour);
    const { df } = await openDebug(file);
    const lines = Array.from({ length: 60 }, (_, i) => i + 1);
    const out = gdb(file, lines.map((l) => `info line main.c:${l}`));
    lines.forEach((l, i) => {
      const m = /(?:starts at|is at) address (0x[0-9a-f]+)/.exec(out[i]!);
      const ours = df.addressesOf('main.c', l).map((x) => x.address);
      if (m) t.true(ours.includes(BigInt(m[1]!)), `main.c:${l}: gdb ${m[1]}, ours ${ours.map((a) => a.toString(16))}`);
    });
  });
}

systemTest(test, 'static functions of the same name in two units are both found', needs, async (t) => {
  const { df } = await openDebug(buildC(FLAVOURS[0]!));
  const helpers = df.lookupGlobals('helper');
  t.deepEqual(helpers.map((h) => h.declFile!.split('/').pop()).sort(), ['main.c', 'other.c']);
  t.true(helpers.every((h) => h instanceof FunctionSymbol && !h.external));
});

systemTest(test, 'chains follow members, anonymous members and pointers', needs, async (t) => {
  const { df } = await openDebug(buildC(FLAVOURS[0]!));
  const c = df.lookupChain('global_outer_ptr.pin.b')!;
  t.is(c.symbol.name, 'global_outer_ptr');
  t.deepEqual(c.steps.map((s) => [s.member.name, s.throughPointer, s.bitOffset]), [['pin', true, 192], ['b', true, 64]]);
  t.is(typeName(c.type), 'long int');
  t.deepEqual(df.lookupChain('global_outer.point.y')!.steps.map((s) => s.bitOffset), [288, 16]);
  t.deepEqual(df.lookupChain('global_outer.anon_f')!.steps.map((s) => s.bitOffset), [256]);
  t.is(df.lookupChain('global_outer.nope'), undefined);
  t.is(df.lookupChain('no_such_symbol.x'), undefined);
});

systemTest(test, 'declarations resolve to definitions across units', needs, async (t) => {
  const { df } = await openDebug(buildC(FLAVOURS[0]!));
  // other.c only declares shared_counter; main.c defines it.
  const decl = df.lookupGlobals('shared_counter');
  t.is(decl.length, 1);
  t.false(decl[0]!.declaration);
  const opaque = df.lookupTypes('struct opaque')[0] as StructType;
  t.true(opaque.declaration);
  t.is(opaque.complete(), opaque);
  const inner = strip((df.lookupGlobals('global_outer')[0] as VariableSymbol).type) as StructType;
  t.is(inner.member('pin')!.member.type.kind, 'pointer');
});

test('unknown load options are typed errors', async (t) => {
  const e = await t.throwsAsync(() => import('./debug-file.js').then(({ DebugFile }) => DebugFile.load({ path: 'x', littleEndian: true, is64: true, section: () => undefined }, { loadOptions: ['BOGUS'] })));
  t.true(e instanceof DwarfError);
  t.is((e as DwarfError).code, 'ERR_DWARF_LOAD_OPTION');
});

systemTest(test, 'locations and unit environments feed the location evaluator', needs, async (t) => {
  const { evaluate } = await import('../loc/evaluate.js');
  for (const flavour of [FLAVOURS.find((f) => f.name === 'gcc-O0-dwarf4')!, FLAVOURS.find((f) => f.name === 'clang-O0-dwarf5')!]) {
    const { df } = await openDebug(buildC(flavour));
    const v = df.lookupGlobals('global_outer')[0] as VariableSymbol;
    const loc = v.location!;
    t.is(loc.kind, 'expr');
    const unit = v.unit;
    const env = { register: async () => undefined, memory: async () => new Uint8Array(8) };
    const bias = 0x555555554000n;
    const r = await evaluate((loc as { expr: Uint8Array }).expr, unit.env(bias), env);
    t.deepEqual(r, { kind: 'memory', address: staticAddress(df, 'global_outer')! + bias }, flavour.name);
    // A parameter at -O0 is frame-base relative: the evaluator asks for the frame base.
    const main = df.lookupGlobals('main')[0] as FunctionSymbol;
    const argc = main.params[0]!;
    const pr = await evaluate((argc.location as { expr: Uint8Array }).expr, unit.env(), { ...env, frameBase: async () => 0x7fff0000n });
    t.is(pr.kind, 'memory');
  }
});

systemTest(test, 'lookupType finds the first definition without an index, as lookupTypes does with one', needs, async (t) => {
  for (const f of FLAVOURS) {
    const file = buildC(f);
    const { df: fresh } = await openDebug(file);
    const { df: indexed } = await openDebug(file);
    await indexed.indexNames();
    for (const name of ['struct outer', 'struct flags', 'union value', 'enum color', 'struct inner']) {
      const one = fresh.lookupType(name);
      const all = indexed.lookupTypes(name);
      t.truthy(one, `${f.name}: ${name}`);
      t.is(one?.id, all[0]?.id, `${f.name}: ${name}`);
      t.is(typeName(one!), typeName(all[0]!));
    }
    t.is(fresh.lookupType('struct no_such_struct'), undefined);
  }
});
