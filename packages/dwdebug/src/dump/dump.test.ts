import path from 'node:path';
import test from 'ava';
import { matchGolden, repoRoot, systemTest } from '@stackdb/test-support';
import { DebugFile } from '../dwarf/debug-file.js';
import { FunctionSymbol } from '../dwarf/model/symbols.js';
import { sampleDwarf5 } from '../dwarf/test-support/samples.js';
import { FLAVOURS, buildC, gdb, openDebug } from '../dwarf/test-support/fixtures.js';
import { dumpDebugInfo } from './dump.js';
import { formatLookups, lookupDebugInfo } from './lookup.js';

const GOLDEN = path.join(repoRoot, 'packages/dwdebug/test/dwarf/golden');

test('dump of synthetic DWARF 5 matches its golden text', async (t) => {
  const df = await DebugFile.load(sampleDwarf5().build('sample.debug'), { workers: 0 });
  for (const [name, opts] of [['sample-dump.txt', {}], ['sample-dump-DM.txt', { detail: 1, metadata: 1 }]] as const) {
    const text = dumpDebugInfo(df, opts);
    const g = matchGolden(path.join(GOLDEN, name), text);
    t.true(g.ok, `${name} differs from its golden file (see ${name}.actual; STACKDB_UPDATE_GOLDEN=1 rewrites it)`);
  }
  const looked = lookupDebugInfo(df, ['fn', '0x1145', 'sig_var.m', 'enum e', 'E_BIG', 'missing'], { detail: 1, metadata: 1 });
  t.true(matchGolden(path.join(GOLDEN, 'sample-lookup.txt'), formatLookups(looked)).ok);
  t.deepEqual(looked.map((r) => r.kind), ['name', 'address', 'chain', 'name', 'name', 'not-found']);
  // JSON form: plain data, addresses as hex strings.
  t.notThrows(() => JSON.stringify(looked));
  const addr = looked[1]!;
  t.true(addr.kind === 'address' && addr.function?.name === 'fn' && addr.function.address === '0x1100');
});

systemTest(test, 'dumpdebuginfo of a compiled fixture agrees with gdb', [{ command: 'gcc' }, { command: 'gdb' }], async (t) => {
  const file = buildC(FLAVOURS.find((f) => f.name === 'gcc-O0-dwarf4')!);
  const { df, bf } = await openDebug(file);
  const text = dumpDebugInfo(df, { detail: 1, metadata: 1 }, { path: bf.path, symbols: bf.symbols(), sections: bf.elf.sections });
  const main = df.lookupGlobals('main')[0] as FunctionSymbol;
  const [info] = gdb(file, ['info address main']);
  t.true(info!.includes(`0x${main.entryPc!.toString(16)}`));
  t.regex(text, new RegExp(`func: int main \\(int argc \\(line=\\d+,\\) @@ FB-\\d+, char \\*\\*argv .*\\) @@ 0x${main.entryPc!.toString(16)}`));
  t.regex(text, /root srcfiles: \(2\)/);
  t.regex(text, /root: .*main\.c \(compdirname=.*,producer=GNU C.*,language=C\d+ \(\d+\)\) \{/);
  t.regex(text, /binfile root: \(tab=\d+\)/);
  t.regex(text, / {6}scope\(main @@ 0x[0-9a-f]+\) RANGES\(\[0x[0-9a-f]+,0x[0-9a-f]+\]\) \{/);
  // Switches turn parts off.
  const bare = dumpDebugInfo(df, { types: false, globals: false, symtabs: false, ranges: false, elfSymtabs: false });
  t.notRegex(bare, /types:|globals:|root srcfiles|ranges:|binfile/);
  const r = lookupDebugInfo(df, [`0x${(main.entryPc! + 4n).toString(16)}`, 'main.c:44'], {}, bf.symbols());
  t.is(r[0]!.kind === 'address' ? r[0]!.function?.name : undefined, 'main');
  t.is(r[0]!.kind === 'address' ? r[0]!.elfSymbol?.name : undefined, 'main');
  const [line] = gdb(file, ['info line main.c:44']);
  t.true(r[1]!.kind === 'line' && r[1]!.addresses.some((a) => line!.includes(a.address)));
});
