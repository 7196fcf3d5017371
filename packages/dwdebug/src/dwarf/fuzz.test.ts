/**
 * Fuzzing over real sections: DWARF from the C fixture (gcc DWARF 5 and
 * clang DWARF 4), mutated a few hundred times with a seeded generator, then
 * loaded and queried every way the API allows. Every failure must be a
 * DwarfError; nothing may hang (the run is bounded by iteration count; a hang
 * would time the test out).
 */
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { DwarfError } from '../errors.js';
import { ElfFile } from '../elf/elf-file.js';
import { DebugFile } from './debug-file.js';
import { typeName } from './model/format.js';
import { FunctionSymbol, VariableSymbol, type DwarfSymbol } from './model/symbols.js';
import { FLAVOURS, buildC } from './test-support/fixtures.js';
import type { DwarfSections } from '../sections.js';
import type { DwarfType } from './model/types.js';

const SECTIONS = ['.debug_info', '.debug_abbrev', '.debug_str', '.debug_line', '.debug_line_str', '.debug_loclists', '.debug_rnglists', '.debug_loc', '.debug_ranges', '.debug_str_offsets', '.debug_addr', '.debug_aranges'];

/** xorshift32: reproducible mutations. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function mutate(bytes: Uint8Array, r: () => number): Uint8Array {
  const out = bytes.slice();
  switch (Math.floor(r() * 5)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n && out.length; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
      return out;
    case 1: // truncate
      return out.subarray(0, Math.floor(r() * out.length));
    case 2: // all-ones run (huge lengths, max addresses)
      for (let i = Math.floor(r() * out.length), n = 1 + Math.floor(r() * 8); n-- > 0 && i < out.length; i++) out[i] = 0xff;
      return out;
    case 3: // zero run (null entries, zero lengths)
      for (let i = Math.floor(r() * out.length), n = 1 + Math.floor(r() * 16); n-- > 0 && i < out.length; i++) out[i] = 0;
      return out;
    default: { // splice a copy of one region over another
      if (out.length < 4) return out;
      const a = Math.floor(r() * out.length);
      const b = Math.floor(r() * out.length);
      const n = Math.floor(r() * Math.min(64, out.length - Math.max(a, b)));
      out.copyWithin(a, b, b + n);
      return out;
    }
  }
}

async function exercise(df: DebugFile, addrs: bigint[]): Promise<void> {
  const seen: (DwarfSymbol | DwarfType)[] = [];
  for (const name of ['main', 'work', 'helper', 'global_outer', 'GREEN', 'shared_counter']) seen.push(...df.lookupGlobals(name));
  for (const name of ['struct outer', 'union value', 'enum color', 'handle_ptr', 'struct flags']) seen.push(...df.lookupTypes(name));
  for (const s of seen) {
    if (s instanceof VariableSymbol || s instanceof FunctionSymbol) {
      typeName(s.type);
      void s.declFile;
      if (s instanceof VariableSymbol) void s.location;
    } else if ('members' in s) for (const m of s.members) typeName(m.type);
    else typeName(s as DwarfType);
    if (s instanceof FunctionSymbol) {
      void s.entryPc;
      for (const p of s.params) void p.location;
    }
  }
  for (const a of addrs) {
    df.functionAt(a);
    df.lineAt(a);
    df.variablesInScope(a);
  }
  df.addressesOf('main.c', 44);
  df.lookupChain('global_outer_ptr.pin.b');
  df.expandAll();
  for (const u of df.units()) {
    void u.name;
    u.lineTable();
  }
}

for (const flavour of [FLAVOURS.find((f) => f.name === 'gcc-O2-dwarf5')!, FLAVOURS.find((f) => f.name === 'clang-O2-dwarf4')!]) {
  systemTest(test, `fuzz: mutated ${flavour.name} sections give DwarfErrors only`, [{ command: flavour.compiler }], async (t) => {
    const elf = ElfFile.open(buildC(flavour));
    const real = new Map<string, Uint8Array>();
    for (const n of SECTIONS) {
      const d = elf.sectionData(n);
      if (d) real.set(n, d);
    }
    const base: DwarfSections = { path: elf.path, littleEndian: true, is64: true, section: (n) => real.get(n) };
    const clean = await DebugFile.load(base, { workers: 0 });
    const main = clean.lookupGlobals('main')[0] as FunctionSymbol;
    const addrs = [main.entryPc!, main.entryPc! + 7n, ...(clean.lookupGlobals('work') as FunctionSymbol[]).map((f) => f.entryPc! + 20n)];
    const r = rng(0x5eed + flavour.name.length);
    const names = [...real.keys()];
    let typed = 0;
    for (let iter = 0; iter < 200; iter++) {
      const target = names[Math.floor(r() * names.length)]!;
      const mutated = new Map(real);
      mutated.set(target, mutate(real.get(target)!, r));
      if (r() < 0.3) {
        const second = names[Math.floor(r() * names.length)]!;
        mutated.set(second, mutate(mutated.get(second)!, r));
      }
      const sections: DwarfSections = { ...base, section: (n) => mutated.get(n) };
      try {
        const df = await DebugFile.load(sections, { workers: 0 });
        await exercise(df, addrs);
        if (df.errors.length) typed++;
      } catch (err) {
        if (!(err instanceof DwarfError)) {
          t.fail(`iteration ${iter} (${target}): ${(err as Error).stack}`);
          return;
        }
        t.truthy(err.file, 'errors name the file');
        typed++;
      }
    }
    t.true(typed > 0, 'some mutations were detected');
  });
}
