import fs from 'node:fs';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { run, systemTest } from '@stackdb/test-support';
import { Binfile } from '../elf/binfile.js';
import { helloO0, helloPie } from '../elf/test-support/fixtures.js';
import { decodeExpression } from './decode.js';
import type { DecodeUnit } from './decode.js';
import { disassemble, formatLocationShort, x86_64RegisterName } from './format.js';
import { DW_OP } from './ops.js';
import { loclistExprAt, readelfBlocks, readelfLocTexts } from './test-support/readelf-exprs.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const unit5: DecodeUnit = { version: 5, addressSize: 8, offsetSize: 4, littleEndian: true };

/** The unit offset readelf added to the first unit-relative reference, if the expression has one. */
function unitOffsetFor(bytes: Uint8Array, text: string, unit: DecodeUnit): number | undefined {
  const refOps = new Set<number>([DW_OP.const_type, DW_OP.GNU_const_type, DW_OP.regval_type, DW_OP.GNU_regval_type, DW_OP.deref_type, DW_OP.GNU_deref_type, DW_OP.convert, DW_OP.GNU_convert, DW_OP.reinterpret, DW_OP.GNU_reinterpret, DW_OP.GNU_parameter_ref, DW_OP.call2, DW_OP.call4]);
  const walk = (b: Uint8Array): bigint | undefined => {
    for (const op of decodeExpression(b, unit)) {
      if (op.block && (op.code === DW_OP.entry_value || op.code === DW_OP.GNU_entry_value)) {
        const inner = walk(op.block);
        if (inner !== undefined) return inner;
      }
      if (!refOps.has(op.code)) continue;
      const raw = op.code === DW_OP.regval_type || op.code === DW_OP.GNU_regval_type || op.code === DW_OP.deref_type || op.code === DW_OP.GNU_deref_type ? op.args[1]! : op.args[0]!;
      if (raw !== 0n) return raw;
    }
    return undefined;
  };
  const raw = walk(bytes);
  const shown = /<0x([0-9a-f]+)>/.exec(text.replace(/DW_OP_implicit_pointer: <0x[0-9a-f]+>/g, ''));
  return raw === undefined || !shown ? undefined : parseInt(shown[1]!, 16) - Number(raw);
}

function compare(t: ExecutionContext, pairs: Iterable<{ bytes: Uint8Array; text: string; unit: DecodeUnit; unitOffset?: number }>): number {
  let n = 0;
  const bad: string[] = [];
  for (const p of pairs) {
    n++;
    const unitOffset = p.unitOffset ?? unitOffsetFor(p.bytes, p.text, p.unit);
    const ours = disassemble(p.bytes, p.unit, { regName: x86_64RegisterName, ...(unitOffset === undefined ? {} : { unitOffset }) });
    if (ours !== p.text && bad.length < 10) bad.push(`ours: ${ours}\nreadelf: ${p.text}`);
  }
  t.deepEqual(bad, []);
  return n;
}

test('disassembly of exprloc blocks matches readelf --debug-dump=info (DWARF 4 and 5 fixtures)', (t) => {
  for (const file of [helloO0(), helloPie()]) {
    const blocks = readelfBlocks(run('readelf', ['--debug-dump=info,no-follow-links', '-W', file]));
    const n = compare(t, blocks.map((b) => ({ bytes: b.bytes, text: b.text, unit: { version: b.version, addressSize: b.addressSize, offsetSize: 4, littleEndian: true }, unitOffset: b.cuOffset })));
    t.true(n >= 10, `${n} blocks`);
  }
});

test('disassembly of location lists matches readelf --debug-dump=loc (-O2 fixture)', async (t) => {
  const file = helloPie();
  const bin = await Binfile.open(file, { noDebugSearch: true });
  t.teardown(() => bin.close());
  const loclists = bin.dwarf()!.section('.debug_loclists')!;
  const texts = readelfLocTexts(run('readelf', ['--debug-dump=loc,no-follow-links', '-W', file]));
  const pairs = [...texts].map(([off, text]) => ({ bytes: loclistExprAt(loclists, off, true)!, text, unit: unit5 }));
  t.true(pairs.every((p) => p.bytes !== undefined));
  t.true(compare(t, pairs) >= 10);
});

systemTest(test, 'glibc: every location list and exprloc expression disassembles as readelf shows it', [{ file: LIBC }, { check: () => (fs.existsSync('/usr/lib/debug/.build-id') ? undefined : 'no debug files'), what: 'libc6-dbg' }], async (t) => {
  const bin = await Binfile.open(LIBC);
  t.teardown(() => bin.close());
  const debug = bin.debugPath!;
  const loclists = bin.dwarf()!.section('.debug_loclists')!;
  const texts = readelfLocTexts(run('readelf', ['--debug-dump=loc,no-follow-links', '-W', debug]));
  const pairs = [...texts].map(([off, text]) => ({ bytes: loclistExprAt(loclists, off, true)!, text, unit: unit5 }));
  t.true(pairs.every((p) => p.bytes !== undefined));
  t.true(compare(t, pairs) > 100_000);
  const blocks = readelfBlocks(run('readelf', ['--debug-dump=info,no-follow-links', '-W', debug]));
  t.true(compare(t, blocks.map((b) => ({ bytes: b.bytes, text: b.text, unit: { version: b.version, addressSize: b.addressSize, offsetSize: 4 as const, littleEndian: true }, unitOffset: b.cuOffset }))) > 50_000);
});

test('seed-style short forms', (t) => {
  const f = (b: number[]) => formatLocationShort(new Uint8Array(b), unit5);
  t.is(f([0x91, 0x6c]), 'FB-20');
  t.is(f([0x77, 0x08]), 'R7+8');
  t.is(f([0x76, 0x10]), 'R6+16');
  t.is(f([0x55]), 'R5');
  t.is(f([0x90, 0x21]), 'R33');
  t.is(f([0x03, 0x40, 0x10, 0x60, 0, 0, 0, 0, 0]), '0x601040');
  t.is(f([0xf3, 0x01, 0x55, 0x9f]), 'RUNTIMEDATA(4,f31559f)');
  t.is(f([0x30, 0x9f]), 'RUNTIMEDATA(2,309f)');
  t.is(f([0x91]), 'RUNTIMEDATA(1,91)');
});
