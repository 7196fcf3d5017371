/**
 * Mutation fuzzing of the expression decoder, evaluator and disassembler:
 * every location expression of the -O2 fixture and a set of synthesized
 * ones, mutated with a fixed seed. Failures must be DwarfErrors; every
 * evaluation must finish (loops hit the step limit).
 */
import test from 'ava';
import { run } from '@stackdb/test-support';
import { DwarfError } from '../errors.js';
import { Binfile } from '../elf/binfile.js';
import { helloPie } from '../elf/test-support/fixtures.js';
import { mutate, prng } from '../cfi/test-support/fuzz.js';
import { evaluate } from './evaluate.js';
import { disassemble, formatLocationShort } from './format.js';
import { loclistExprAt, readelfLocTexts } from './test-support/readelf-exprs.js';
import type { LocationEnv, UnitEnv } from './types.js';

const unit: UnitEnv = {
  version: 5,
  addressSize: 8,
  offsetSize: 4,
  littleEndian: true,
  bias: 0n,
  addrx: (i) => BigInt(i) * 8n,
  baseType: (off) => (off % 3 === 0 ? { size: 1 + (off % 8), encoding: off % 2 ? 5 : 4 } : undefined),
  callTarget: (off) => (off % 2 ? new Uint8Array([0x30 + (off % 32), 0x22]) : undefined),
};
const env: LocationEnv = {
  register: async (n) => (n < 17 ? BigInt(n) * 0x1000n : undefined),
  memory: async (addr, size) => {
    if (addr > 0x100000n) throw new Error('unmapped');
    return new Uint8Array(size).fill(Number(addr & 0xffn));
  },
  frameBase: async () => 0x8000n,
  cfa: async () => 0x9000n,
  entryValue: async (e) => (e.length === 1 ? 5n : undefined),
  tlsAddress: async (o) => 0x10000n + o,
  objectAddress: 0x2000n,
};

test('mutated location expressions: typed errors only, always finishes', async (t) => {
  const file = helloPie();
  const bin = await Binfile.open(file, { noDebugSearch: true });
  t.teardown(() => bin.close());
  const loclists = bin.dwarf()!.section('.debug_loclists')!;
  const seeds = [...readelfLocTexts(run('readelf', ['--debug-dump=loc,no-follow-links', '-W', file])).keys()].map((o) => loclistExprAt(loclists, o, true)!);
  seeds.push(
    new Uint8Array([0x31, 0x28, 0x03, 0x00, 0x44, 0x2f, 0x01, 0x00, 0x3a, 0x9f]),
    new Uint8Array([0xa4, 0x30, 0x04, 0xff, 0xff, 0xff, 0x7f, 0xa8, 0x00, 0x9f]),
    new Uint8Array([0x53, 0x93, 0x04, 0x91, 0x10, 0x93, 0x08, 0x9d, 0x03, 0x01]),
    new Uint8Array([0x98, 0x01, 0x00, 0x9a, 0x03, 0x00, 0x00, 0x00, 0x9f]),
  );
  const rnd = prng(1234);
  let rejected = 0;
  let runs = 0;
  for (let i = 0; i < 3000; i++) {
    const expr = mutate(seeds[i % seeds.length]!, rnd);
    runs++;
    try {
      formatLocationShort(expr, unit);
      disassemble(expr, unit);
    } catch (err) {
      if (!(err instanceof DwarfError)) t.fail(`disassemble: ${(err as Error).message}`);
    }
    try {
      await evaluate(expr, unit, env, { maxSteps: 2000 });
    } catch (err) {
      if (!(err instanceof DwarfError)) t.fail(`evaluate ${Buffer.from(expr).toString('hex')}: ${(err as Error)?.constructor?.name} ${(err as Error)?.message}`);
      rejected++;
    }
  }
  t.log(`${runs} mutated expressions, ${rejected} rejected with DwarfError`);
  t.true(rejected > 0);
});
