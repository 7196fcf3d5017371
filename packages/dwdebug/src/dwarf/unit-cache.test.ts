import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemTest } from '@stackdb/test-support';
import type { DwarfContext } from './context.js';
import { IntervalMap } from './model/address-map.js';
import { FLAVOURS, buildC, openDebug } from './test-support/fixtures.js';
import { DieSection, type UnitHeader } from './unit.js';
import { readUnitCache, unitCachePath, writeUnitCache } from './unit-cache.js';

// This file's worker process keeps its records apart from the user's cache.
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-unit-cache-'));
process.env.STACKDB_CACHE_DIR = cacheDir;
const records = () => (fs.existsSync(path.join(cacheDir, 'dwarf-units')) ? fs.readdirSync(path.join(cacheDir, 'dwarf-units')) : []);

/** A copy of a file whose modification time lies a minute back (fresh files are not recorded). */
function settledCopy(file: string): string {
  const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-unit-file-')), path.basename(file));
  fs.copyFileSync(file, copy);
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(copy, past, past);
  return copy;
}

test('unit headers and the address map round-trip, with type signatures and dwo ids', (t) => {
  const file = path.join(cacheDir, 'round-trip');
  const units: UnitHeader[] = [
    { section: DieSection.info, offset: 0, end: 100, dieOffset: 12, version: 5, unitType: 1, addressSize: 8, offsetSize: 4, abbrevOffset: 0 },
    { section: DieSection.info, offset: 100, end: 300, dieOffset: 124, version: 5, unitType: 4, addressSize: 8, offsetSize: 8, abbrevOffset: 77, dwoId: 0xfedcba9876543210n },
    { section: DieSection.types, offset: 0, end: 50, dieOffset: 23, version: 4, unitType: 2, addressSize: 8, offsetSize: 4, abbrevOffset: 9, typeSignature: 0x8000000000000001n, typeOffset: 30 },
  ];
  const map = IntervalMap.build([{ range: { start: 0x2000n, end: 0x3000n }, value: 1 }, { range: { start: 0x1000n, end: 0x1800n }, value: 0 }, { range: { start: 0x1400n, end: 0x1500n }, value: 1 }]);
  writeUnitCache(file, units, map);
  const back = readUnitCache(file);
  t.deepEqual(back?.units, units);
  t.deepEqual([...back!.unitMap!.entries()], [...map.entries()]);
  t.deepEqual(back!.unitMap!.find(0x1450n), map.find(0x1450n));
  writeUnitCache(file, units, undefined);
  t.is(readUnitCache(file)?.unitMap, undefined);
  fs.writeFileSync(file, 'SDBUNIT1 but truncated');
  t.is(readUnitCache(file), undefined, 'a damaged record is ignored');
});

systemTest(test, 'a second load takes the unit headers and the address map from the record, with the same answers', [{ command: 'gcc', package: 'gcc' }], async (t) => {
  const file = settledCopy(buildC(FLAVOURS[1]!));
  const answers = async () => {
    const { bf, df } = await openDebug(file, { loadOptions: ['CUHEADERS'] });
    try {
      const ctx = (df as unknown as { main: DwarfContext }).main;
      const out: string[] = [];
      for (const name of ['main', 'work', 'twice', 'call_other']) {
        for (const sym of bf.symbolsNamed(name)) {
          for (const pc of [sym.value, sym.value + 1n]) out.push(`${name}+${pc - sym.value}: ${df.functionAt(pc)?.function.name} ${df.lineAt(pc)?.line}`);
        }
      }
      return { out, units: [...ctx.units] };
    } finally {
      bf.close();
    }
  };
  const first = await answers();
  t.true(first.out.length >= 4, first.out.join('\n'));
  t.is(records().length, 1);
  t.true(fs.existsSync(unitCachePath(file, false)!));
  t.true(readUnitCache(unitCachePath(file, false)!)?.unitMap !== undefined, 'the map was recorded with the headers');
  const second = await answers();
  t.deepEqual(second.out, first.out);
  t.deepEqual(second.units, first.units);
  // The record is what answers: one with an empty map finds no function anywhere.
  writeUnitCache(unitCachePath(file, false)!, first.units, IntervalMap.build([]));
  t.true((await answers()).out.every((l) => l.includes(': undefined undefined')));

  // A file just written is not recorded: a rewrite in the same clock tick would keep its identity.
  const fresh = settledCopy(file);
  fs.utimesSync(fresh, new Date(), new Date());
  t.is(unitCachePath(fresh, false), undefined);
});
