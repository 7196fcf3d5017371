import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { run, systemTest } from '@stackdb/test-support';
import { Binfile } from '../elf/binfile.js';
import { helloCie3, helloDebugFrame, helloNoPie, helloObject, helloO0, helloPie, lib32Exec, libShared, m32Missing } from '../elf/test-support/fixtures.js';
import { CfiTable } from './table.js';
import { compareWithReadelf } from './test-support/readelf-frames.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const VMLINUX_DIR = '/usr/lib/debug/boot';
const vmlinux = () => (fs.existsSync(VMLINUX_DIR) ? fs.readdirSync(VMLINUX_DIR).find((f) => f.startsWith('vmlinux-')) : undefined);

async function checkFile(t: ExecutionContext, file: string, opts: { only?: '.eh_frame' | '.debug_frame'; minFdes?: number } = {}): Promise<CfiTable> {
  const bin = await Binfile.open(file, { noDebugSearch: true });
  t.teardown(() => bin.close());
  const table = CfiTable.fromBinfileSections(bin.unwindSections());
  const dump = run('readelf', ['--debug-dump=frames-interp,no-follow-links', '-W', file]);
  const { mismatches, fdes, rows } = compareWithReadelf(table, dump, bin.elf.is64, opts.only);
  t.deepEqual(mismatches.slice(0, 20), [], `${path.basename(file)}: ${mismatches.length} mismatches`);
  t.true(fdes >= (opts.minFdes ?? 4), `${path.basename(file)}: ${fdes} FDEs compared`);
  t.true(rows >= fdes);
  return table;
}

test('.eh_frame rows match readelf frames-interp: PIE, non-PIE, shared library, -O0', async (t) => {
  for (const f of [helloPie(), helloNoPie(), libShared(), helloO0()]) await checkFile(t, f);
});

test('.debug_frame with CIE version 4 matches readelf', async (t) => {
  const table = await checkFile(t, helloDebugFrame(), { only: '.debug_frame' });
  const fde = [...table.fdes('.debug_frame')][0]!;
  t.is(fde.cie.version, 4);
  t.is(fde.cie.addressSize, 8);
});

test('.eh_frame with CIE version 3 matches readelf', async (t) => {
  const table = await checkFile(t, helloCie3());
  t.true([...table.fdes('.eh_frame')].some((f) => f.cie.version === 3));
});

test('relocatable object: FDE addresses after relocation match readelf', async (t) => {
  await checkFile(t, helloObject(), { minFdes: 3 });
});

systemTest(test, 'i386 executable .eh_frame matches readelf', [{ check: m32Missing, what: '32-bit compiler' }], async (t) => {
  await checkFile(t, lib32Exec(), { minFdes: 2 });
});

systemTest(test, 'libc.so.6: every FDE matches readelf, and rowFor finds each through .eh_frame_hdr', [{ file: LIBC }], async (t) => {
  const table = await checkFile(t, LIBC, { minFdes: 1000 });
  let n = 0;
  for (const fde of table.fdes('.eh_frame')) {
    if (fde.end <= fde.start) continue;
    for (const row of table.rowsOf(fde)) {
      const got = table.rowFor(row.end - 1n);
      // Overlapping FDEs are allowed to resolve to the other one; none exist in libc.
      t.is(got?.start, row.start);
      n++;
    }
  }
  t.true(n > 10_000);
  t.is(table.rowFor(0n), undefined);
});

test('rowFor: lookups outside every FDE are undefined; a row covers its range', async (t) => {
  const bin = await Binfile.open(helloPie(), { noDebugSearch: true });
  t.teardown(() => bin.close());
  const table = CfiTable.fromBinfileSections(bin.unwindSections());
  const main = bin.symbolsNamed('main')[0]!;
  const row = table.rowFor(main.value)!;
  t.is(row.fde.start, main.value);
  t.deepEqual(row.cfa, { kind: 'reg-offset', reg: 7, offset: 8 });
  t.deepEqual(row.registers.get(16), { kind: 'offset', offset: -8 });
  t.is(row.returnAddressRegister, 16);
  t.is(table.rowFor(0xffff_ffff_0000n), undefined);
});

systemTest(test, 'kernel vmlinux .debug_frame: every FDE matches readelf', [{ check: () => (vmlinux() ? undefined : 'no debug vmlinux'), what: 'linux-image-amd64-dbg' }], async (t) => {
  await checkFile(t, path.join(VMLINUX_DIR, vmlinux()!), { only: '.debug_frame', minFdes: 10_000 });
});
