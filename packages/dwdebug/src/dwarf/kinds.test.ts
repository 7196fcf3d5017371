import test from 'ava';
import { run, systemTest } from '@stackdb/test-support';
import { typeName } from './model/format.js';
import { FunctionSymbol, VariableSymbol } from './model/symbols.js';
import { StructType } from './model/types.js';
import { buildCxx, buildDwz, buildObject, buildShared, buildSplit, gdb, openDebug } from './test-support/fixtures.js';

const cc = [{ command: 'gcc', package: 'gcc' }, { command: 'gdb', package: 'gdb' }];

function addrOf(v: VariableSymbol): bigint | undefined {
  const l = v.location;
  return l?.kind === 'expr' && l.expr[0] === 0x03 ? new DataView(l.expr.buffer, l.expr.byteOffset + 1, 8).getBigUint64(0, true) : undefined;
}

systemTest(test, 'split debuginfo found by debuglink', [...cc, { command: 'objcopy', package: 'binutils' }], async (t) => {
  const file = buildSplit();
  const { df, bf } = await openDebug(file);
  t.is(bf.debugHow, 'debuglink');
  t.deepEqual(df.errors, []);
  const [addr, fn] = gdb(file, ['info address global_outer', 'info address call_other']);
  t.is(addrOf(df.lookupGlobals('global_outer')[0] as VariableSymbol), BigInt(/at address (0x[0-9a-f]+)/.exec(addr!)![1]!));
  t.is((df.lookupGlobals('call_other')[0] as FunctionSymbol).entryPc, BigInt(/at address (0x[0-9a-f]+)/.exec(fn!)![1]!));
  // One definition of struct inner although both units describe it.
  t.is(df.lookupTypes('struct inner').length, 1);
});

systemTest(test, 'shared library', cc, async (t) => {
  const file = buildShared();
  const { df } = await openDebug(file);
  const [fn] = gdb(file, ['info address call_other']);
  t.is((df.lookupGlobals('call_other')[0] as FunctionSymbol).entryPc, BigInt(/at address (0x[0-9a-f]+)/.exec(fn!)![1]!));
  // Only declared here: the declaration is what there is.
  const counter = df.lookupGlobals('shared_counter');
  t.is(counter.length, 1);
  t.true(counter[0]!.declaration);
  t.is(typeName((counter[0] as VariableSymbol).type), 'int');
});

systemTest(test, 'relocatable object: DWARF relocated by Binfile', cc, async (t) => {
  const file = buildObject();
  const { df } = await openDebug(file);
  t.deepEqual(df.errors, []);
  // Relocated references: strings and types resolve; functions sit at section offsets.
  const main = df.lookupGlobals('main')[0] as FunctionSymbol;
  t.is(typeName(main.type), 'int (int, char **)');
  const work = df.lookupGlobals('work')[0] as FunctionSymbol;
  const sym = /^\s*\d+: ([0-9a-f]+)\s+\d+\s+FUNC\s+GLOBAL\s+\S+\s+\d+\s+work$/m.exec(run('readelf', ['-sW', file]));
  t.truthy(sym);
  t.is(work.entryPc, BigInt('0x' + sym![1]));
  t.deepEqual(df.lookupChain('global_outer.in.b')!.steps.map((s) => s.bitOffset), [64, 64]);
  t.true(df.lineAt(work.entryPc!)!.file.endsWith('main.c'));
});

systemTest(test, 'dwz supplementary file through DW_FORM_GNU_ref_alt and strp_alt', [...cc, { command: 'dwz', package: 'dwz' }], async (t) => {
  const file = buildDwz();
  const { df } = await openDebug(file);
  t.truthy(df.sup, 'supplementary file loaded');
  t.deepEqual(df.errors, []);
  const out = gdb(file, ['ptype /o struct outer', 'whatis global_outer_ptr', 'info address main']);
  const outer = df.lookupTypes('struct outer')[0] as StructType;
  t.is(outer.size, Number(/total size \(bytes\):\s+(\d+) \*\/\n\s+}$/.exec(out[0]!)![1]));
  t.is(`type = ${typeName((df.lookupGlobals('global_outer_ptr')[0] as VariableSymbol).type)}`, out[1]);
  t.is((df.lookupGlobals('main')[0] as FunctionSymbol).entryPc, BigInt(/at address (0x[0-9a-f]+)/.exec(out[2]!)![1]!));
  t.true(df.units().some((u) => u.path !== df.path), 'units of the supplementary file are listed');
});

systemTest(test, 'C++: namespaces, classes, methods, static members', [{ command: 'g++', package: 'g++' }, { command: 'gdb', package: 'gdb' }], async (t) => {
  const file = buildCxx();
  const { df } = await openDebug(file);
  const out = gdb(file, ['info address geo::Rect::area', 'info address geo::Shape::count', 'whatis geo::detail::scale', 'info scope use_shapes']);
  const area = df.lookupGlobals('geo::Rect::area')[0] as FunctionSymbol;
  t.is(area.name, 'geo::Rect::area');
  t.is(area.entryPc, BigInt(/at address (0x[0-9a-f]+)/.exec(out[0]!)![1]!));
  t.is(addrOf(df.lookupGlobals('geo::Shape::count')[0] as VariableSymbol), BigInt(/at address (0x[0-9a-f]+)/.exec(out[1]!)![1]!));
  t.is(`type = ${typeName((df.lookupGlobals('geo::detail::scale')[0] as FunctionSymbol).type)}`, out[2]);
  const rect = df.lookupTypes('geo::Rect')[0] as StructType;
  t.is(rect.kind, 'class');
  t.is(typeName(rect), 'geo::Rect');
  t.deepEqual(rect.members.map((m) => [m.name, m.offset, m.inheritance]), [[undefined, 0, true], ['w_', 12, false], ['h_', 16, false]]);
  t.is(typeName(rect.members[0]!.type), 'geo::Shape');
  const use = df.lookupGlobals('use_shapes')[0] as FunctionSymbol;
  t.deepEqual(df.variablesInScope(use.entryPc!).map((v) => v.symbol.name).sort(), [...out[3]!.matchAll(/^Symbol (\S+) is/gm)].map((m) => m[1]).sort());
  const shape = df.lookupTypes('geo::Shape')[0] as StructType;
  t.true(shape.members.find((m) => m.name === 'count')!.isStatic);
});

systemTest(test, 'the on-disk index cache gives the same answers and follows the file', cc, async (t) => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-idx-'));
  const copy = path.join(dir, 'prog');
  fs.copyFileSync(buildSplit().replace(/dwarf-split$/, 'dwarf-split.debug'), copy);
  try {
    const cold = (await openDebug(copy, { indexCache: dir })).df;
    const cached = fs.readdirSync(dir).filter((f) => f.endsWith('.idx'));
    t.is(cached.length, 1);
    const warm = (await openDebug(copy, { indexCache: dir })).df;
    for (const df of [cold, warm]) {
      const main = df.lookupGlobals('main')[0] as FunctionSymbol;
      t.is(df.functionAt(main.entryPc! + 4n)?.function.name, 'main');
      t.is(df.lookupGlobals('helper').length, 2);
      t.is(df.units()[0]!.name, cold.units()[0]!.name);
    }
    t.deepEqual(warm.indexStats, cold.indexStats);
    // A changed file gets a new key.
    fs.utimesSync(copy, new Date(), new Date(Date.now() + 5000));
    await openDebug(copy, { indexCache: dir });
    t.is(fs.readdirSync(dir).filter((f) => f.endsWith('.idx')).length, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

systemTest(test, 'indexing in worker threads gives the same index as in the calling thread', cc, async (t) => {
  const file = buildSplit().replace(/dwarf-split$/, 'dwarf-split.debug');
  const inThread = (await openDebug(file, { workers: 0, indexAtLoad: true })).df;
  const threaded = (await openDebug(file, { workers: 2 })).df;
  await threaded.indexNames();
  t.deepEqual(threaded.indexStats, inThread.indexStats);
  t.deepEqual(threaded.errors, []);
  for (const name of ['main', 'helper', 'global_outer', 'GREEN']) {
    t.deepEqual(threaded.lookupGlobals(name).map((s) => s.id), inThread.lookupGlobals(name).map((s) => s.id), name);
  }
  const main = threaded.lookupGlobals('main')[0] as FunctionSymbol;
  t.is(threaded.functionAt(main.entryPc! + 4n)?.function.name, 'main');
});

systemTest(test, "the seed's load options: CUHEADERS, FULLSYM/eager, NODWARF, KEEPDECLS", cc, async (t) => {
  const { DwarfError } = await import('../errors.js');
  const file = buildSplit().replace(/dwarf-split$/, 'dwarf-split.debug');
  const headers = (await openDebug(file, { loadOptions: 'CUHEADERS||' })).df;
  t.is(headers.indexStats.entries, 0);
  const err = t.throws(() => headers.lookupGlobals('main'));
  t.true(err instanceof DwarfError && err.code === 'ERR_DWARF_NO_INDEX');
  const full = (await openDebug(file)).df;
  const main = full.lookupGlobals('main')[0] as FunctionSymbol;
  // Address lookups need no index.
  t.is(headers.functionAt(main.entryPc! + 4n)?.function.name, 'main');
  await headers.indexNames();
  t.is(headers.lookupGlobals('main')[0]!.id, main.id);

  const eager = (await openDebug(file, { loadOptions: ['FULLSYM'] })).df;
  t.true(eager.units().every((u) => u.expanded));
  t.false(full.units().some((u) => u.expanded), 'lazy by default');
  t.true((await openDebug(file, { eager: true, loadOptions: ['PARTIALSYM'] })).df.units().every((u) => u.expanded), 'eager option wins');

  t.is((await openDebug(file, { loadOptions: ['NODWARF'] })).df.units().length, 0);
  const keep = (await openDebug(file, { loadOptions: ['KEEPDECLS', 'REDUCETYPES'] })).df;
  t.deepEqual(keep.lookupGlobals('shared_counter').map((s) => s.declaration).sort(), [false, true]);
});

systemTest(test, 'lookups before the index is built (scans for one name) answer as the index does', cc, async (t) => {
  // C with a dwz supplementary file, C++ with namespaces, classes and out-of-line members, and a plain C program.
  for (const file of [buildDwz(), buildCxx(), buildSplit().replace(/dwarf-split$/, 'dwarf-split.debug')]) {
    const indexed = (await openDebug(file, { indexAtLoad: true })).df;
    const names = [...new Set([...indexed.globalNames()].map((g) => g.name))];
    t.true(names.length > 10, file);
    const ids = (syms: readonly { id?: number }[]) => syms.map((s) => s.id);
    const lazy = async () => (await openDebug(file)).df;
    for (const name of names) {
      const a = await lazy();
      t.deepEqual(ids(a.lookupGlobals(name)), ids(indexed.lookupGlobals(name)), `globals ${name} in ${file}`);
      const b = await lazy();
      t.deepEqual(ids(b.lookupTypes(name)), ids(indexed.lookupTypes(name)), `types ${name} in ${file}`);
    }
    for (const name of ['no_such_name', 'i', '']) t.deepEqual(ids((await lazy()).lookupGlobals(name)), ids(indexed.lookupGlobals(name)), name);
  }
});
