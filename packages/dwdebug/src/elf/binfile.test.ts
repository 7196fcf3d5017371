import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { run, systemTest } from '@stackdb/test-support';
import { ET } from './constants.js';
import { Binfile } from './binfile.js';
import { debugLinkOf, fileCrc32, crc32 } from './debuglink.js';
import { ElfFile } from './elf-file.js';
import { linkBaseOf, loadBiasOf } from './load.js';
import { buildIdOf, readNotes } from './notes.js';
import { readSymbolTable } from './symbols.js';
import type { ElfSymbol } from './symbols.js';
import { bigEndian32, bigEndian64, lib32Exec, m32Missing } from './test-support/fixtures.js';
import { dwzPair, helloMini, helloNoPie, helloPie, helloStripped, helloZlib, helloZstd, libShared, objcopyHasZstd } from './test-support/fixtures.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

/** readelf's view of one symbol table: `readelf -sW --dyn-syms` / `--syms`. */
function readelfSymbols(file: string, which: '.symtab' | '.dynsym'): string[] {
  const out = run('readelf', ['-sW', file]);
  const lines: string[] = [];
  let inTable = false;
  for (const line of out.split('\n')) {
    const head = /^Symbol table '([^']+)'/.exec(line);
    if (head) {
      inTable = head[1] === which;
      continue;
    }
    if (!inTable) continue;
    const m = /^\s*(\d+):\s+([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m || m[1] === '0') continue;
    const size = m[3]!.startsWith('0x') ? BigInt(m[3]!) : BigInt(m[3]!);
    // .dynsym names carry @VERSION (and " (n)"); ours do not.
    const name = which === '.dynsym' ? m[8]!.replace(/@.*$/, '').replace(/ \(\d+\)$/, '') : m[8]!;
    lines.push(`${name} ${BigInt('0x' + m[2]!).toString(16)} ${size} ${m[4]!.toLowerCase()} ${m[5]!.toLowerCase()}`);
  }
  return lines;
}

function ours(symbols: readonly ElfSymbol[]): string[] {
  const type = (s: ElfSymbol) => (s.type === 'ifunc' ? 'ifunc' : s.type);
  return symbols.map((s) => `${s.name} ${s.value.toString(16)} ${s.size} ${type(s)} ${s.binding}`);
}

function symtabOf(file: string, which: '.symtab' | '.dynsym'): ElfSymbol[] {
  const elf = ElfFile.open(file);
  try {
    const sec = elf.section(which);
    return sec ? readSymbolTable(elf, sec, which === '.symtab' ? 'symtab' : 'dynsym') : [];
  } finally {
    elf.close();
  }
}

function readelfBuildId(file: string): string | undefined {
  return /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', file]))?.[1];
}

test('symbol tables match readelf (PIE, non-PIE, shared library)', (t) => {
  for (const file of [helloPie(), helloNoPie(), libShared()]) {
    for (const which of ['.symtab', '.dynsym'] as const) {
      const expected = readelfSymbols(file, which).map((l) => l.replace(/ gnu_ifunc /, ' ifunc ').replace(/ unique$/, ' unique'));
      t.deepEqual(ours(symtabOf(file, which)), expected, `${path.basename(file)} ${which}`);
    }
  }
});

systemTest(test, 'ELF32 executable: headers and symbols match readelf', [{ check: m32Missing, what: '32-bit compiler' }], (t) => {
  const file = lib32Exec();
  const elf = ElfFile.open(file);
  t.teardown(() => elf.close());
  t.false(elf.is64);
  t.is(elf.type, ET.EXEC);
  t.deepEqual(ours(symtabOf(file, '.symtab')), readelfSymbols(file, '.symtab'));
  t.is(buildIdOf(elf), readelfBuildId(file));
});

systemTest(test, 'big-endian ELF64 and ELF32: headers, sections and symbols match readelf', [{ check: m32Missing, what: '32-bit compiler' }], (t) => {
  for (const file of [bigEndian64(), bigEndian32()]) {
    const elf = ElfFile.open(file);
    t.false(elf.littleEndian);
    const names = run('readelf', ['-SW', file]).split('\n').map((l) => /^\s*\[\s*\d+\] (\S+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
    t.deepEqual(elf.sections.slice(1).map((s) => s.name), names);
    t.deepEqual(ours(symtabOf(file, '.symtab')), readelfSymbols(file, '.symtab'), file);
    t.is(elf.entry, symtabOf(file, '.symtab').find((s) => s.name === 'f')!.value);
    elf.close();
  }
});

test('symbol types and bindings: IFUNC, TLS, static functions', async (t) => {
  const bin = await Binfile.open(helloPie());
  t.teardown(() => bin.close());
  const add = bin.symbolsNamed('add');
  t.is(add.length, 1);
  t.is(add[0]!.type, 'ifunc');
  t.is(add[0]!.binding, 'global');
  const tls = bin.symbolsNamed('tls_value')[0]!;
  t.is(tls.type, 'tls');
  t.is(tls.size, 4n);
  const sum = bin.symbolsNamed('sum_points')[0]!;
  t.is(sum.type, 'func');
  t.is(sum.binding, 'local');
  t.true(sum.size > 0n);
  t.is(bin.symbolAt(sum.value)?.name, 'sum_points');
  t.is(bin.symbolAt(sum.value + sum.size - 1n)?.name, 'sum_points');
  t.not(bin.symbolAt(sum.value + sum.size)?.name, 'sum_points');
  const origin = bin.symbolsNamed('origin')[0]!;
  t.is(origin.type, 'object');
  t.is(bin.symbolAt(origin.value + 8n)?.name, 'origin');
  t.is(bin.type, ET.DYN);
  t.is(bin.linkBase, 0n);
  t.is(bin.debugHow, 'self');
});

test('every sized function symbol is found by address, as nm -S lists them', async (t) => {
  const file = helloNoPie();
  const bin = await Binfile.open(file);
  t.teardown(() => bin.close());
  let n = 0;
  for (const line of run('nm', ['-S', '--defined-only', file]).split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [Tt] (\S+)$/.exec(line);
    if (!m) continue;
    const addr = BigInt('0x' + m[1]!);
    const size = BigInt('0x' + m[2]!);
    // IFUNC `add` and its resolver share an address: any symbol with that extent will do.
    const mid = bin.symbolAt(addr + size / 2n);
    t.deepEqual([mid?.value, mid?.size], [addr, size], `${m[3]} at +${size / 2n}`);
    n++;
  }
  t.true(n >= 5);
  t.is(bin.type, ET.EXEC);
  t.is(bin.linkBase, 0x400000n);
});

test('build-id and notes match readelf', (t) => {
  for (const file of [helloPie(), libShared(), LIBC]) {
    const elf = ElfFile.open(file);
    t.is(buildIdOf(elf), readelfBuildId(file), file);
    const owners = readNotes(elf).map((n) => n.name);
    t.true(owners.includes('GNU'));
    elf.close();
  }
});

test('stripped binary finds its debug file by debuglink next to it, CRC checked', async (t) => {
  const { binary, debug } = helloStripped({ buildId: false });
  const elf = ElfFile.open(binary);
  const link = debugLinkOf(elf)!;
  t.is(link.name, path.basename(debug));
  t.is(link.crc, fileCrc32(debug));
  t.is(buildIdOf(elf), undefined);
  elf.close();
  const bin = await Binfile.open(binary, { debugDirs: [] });
  t.teardown(() => bin.close());
  t.is(bin.debugHow, 'debuglink');
  t.is(bin.debugPath, debug);
  const dw = bin.dwarf()!;
  t.truthy(dw.section('.debug_info')?.length);
  // The unwind tables come from the binary: the debug file's are NOBITS.
  t.is(dw.sectionOrigin('.eh_frame')?.path, binary);
  t.is(dw.sectionOrigin('.debug_info')?.path, debug);
  // Local functions: the stripped binary has no .symtab, the debug file does.
  t.is(bin.symbolsNamed('sum_points')[0]?.table, 'symtab');
});

test('a wrong CRC is not accepted', async (t) => {
  const { binary, debug } = helloStripped({ buildId: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdebug-crc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(binary, path.join(dir, 'prog'));
  const bytes = fs.readFileSync(debug);
  bytes[bytes.length - 1] ^= 0xff;
  fs.writeFileSync(path.join(dir, path.basename(debug)), bytes);
  const bin = await Binfile.open(path.join(dir, 'prog'), { debugDirs: [] });
  t.teardown(() => bin.close());
  t.is(bin.debugElf, undefined);
  t.is(bin.dwarf(), undefined);
  t.truthy(bin.unwindSections().section('.eh_frame'));
});

test('root prefix: build-id tree and debuglink tree under a fake /usr/lib/debug', async (t) => {
  const withId = helloStripped();
  const noId = helloStripped({ buildId: false });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdebug-root-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.copyFileSync(withId.binary, path.join(root, 'usr/bin/prog'));
  fs.copyFileSync(noId.binary, path.join(root, 'usr/bin/prog2'));
  const id = readelfBuildId(withId.binary)!;
  const idDir = path.join(root, 'usr/lib/debug/.build-id', id.slice(0, 2));
  fs.mkdirSync(idDir, { recursive: true });
  fs.copyFileSync(withId.debug, path.join(idDir, `${id.slice(2)}.debug`));
  fs.mkdirSync(path.join(root, 'usr/lib/debug/usr/bin'), { recursive: true });
  fs.copyFileSync(noId.debug, path.join(root, 'usr/lib/debug/usr/bin', path.basename(noId.debug)));

  const a = await Binfile.open('/usr/bin/prog', { rootPrefix: root });
  t.teardown(() => a.close());
  t.is(a.debugHow, 'build-id');
  t.is(a.debugPath, path.join(idDir, `${id.slice(2)}.debug`));
  t.is(a.buildId, id);
  const b = await Binfile.open('/usr/bin/prog2', { rootPrefix: root });
  t.teardown(() => b.close());
  t.is(b.debugHow, 'debuglink');
  t.is(b.debugPath, path.join(root, 'usr/lib/debug/usr/bin', path.basename(noId.debug)));
});

test('opening the debug file itself', async (t) => {
  const { debug } = helloStripped();
  const bin = await Binfile.open(debug);
  t.teardown(() => bin.close());
  t.is(bin.debugHow, 'self');
  t.truthy(bin.dwarf()?.section('.debug_info'));
  t.truthy(bin.symbolsNamed('main')[0]);
});

test('compressed sections: zlib (-gz=zlib) decompress to what objcopy --decompress gives', (t) => {
  const file = helloZlib();
  const elf = ElfFile.open(file);
  t.teardown(() => elf.close());
  t.not(elf.section('.debug_info')!.flags & 0x800n, 0n);
  const plain = path.join(os.tmpdir(), `dwdebug-plain-${process.pid}`);
  run('objcopy', ['--decompress-debug-sections', file, plain]);
  const ref = ElfFile.open(plain);
  t.teardown(() => {
    ref.close();
    fs.rmSync(plain, { force: true });
  });
  for (const name of ['.debug_info', '.debug_abbrev', '.debug_line', '.debug_str']) t.deepEqual(elf.sectionData(name), ref.sectionData(name), name);
});

systemTest(test, 'compressed sections: zstd', [{ check: objcopyHasZstd, what: 'zstd section compression' }], (t) => {
  const file = helloZstd();
  const elf = ElfFile.open(file);
  t.teardown(() => elf.close());
  t.true(run('readelf', ['-tW', file]).includes('ZSTD'));
  const plain = path.join(os.tmpdir(), `dwdebug-plainz-${process.pid}`);
  run('objcopy', ['--decompress-debug-sections', file, plain]);
  const ref = ElfFile.open(plain);
  t.teardown(() => {
    ref.close();
    fs.rmSync(plain, { force: true });
  });
  for (const name of ['.debug_info', '.debug_macro', '.debug_str']) t.deepEqual(elf.sectionData(name), ref.sectionData(name), name);
});

test('MiniDebugInfo supplies the local function symbols of a stripped binary', async (t) => {
  const bin = await Binfile.open(helloMini(), { noDebugSearch: true });
  t.teardown(() => bin.close());
  t.truthy(bin.miniElf);
  t.is(bin.elf.section('.symtab'), undefined);
  const sum = bin.symbolsNamed('with_vla')[0];
  t.is(sum?.table, 'minidebuginfo');
  t.is(sum?.type, 'func');
  t.is(bin.symbolAt(sum!.value + 1n)?.name, 'with_vla');
  t.is(bin.dwarf(), undefined);
});

systemTest(test, 'dwz: the supplementary file is found and exposed', [{ command: 'dwz', package: 'dwz' }], async (t) => {
  const file = dwzPair();
  const bin = await Binfile.open(file, { debugDirs: [] });
  t.teardown(() => bin.close());
  t.truthy(bin.altElf);
  t.is(bin.altElf!.path, path.join(path.dirname(file), 'common.debug'));
  const dw = bin.dwarf()!;
  t.truthy(dw.supplementary?.section('.debug_info')?.length);
  t.truthy(dw.supplementary?.section('.debug_str'));
});

systemTest(test, 'glibc: debug file by build-id, .eh_frame from libc.so.6, symbols match readelf', [{ file: LIBC }, { check: () => (fs.existsSync('/usr/lib/debug/.build-id') ? undefined : 'no /usr/lib/debug/.build-id'), what: 'libc6-dbg' }], async (t) => {
  const bin = await Binfile.open(LIBC);
  t.teardown(() => bin.close());
  t.is(bin.debugHow, 'build-id');
  t.is(bin.debugPath, `/usr/lib/debug/.build-id/${bin.buildId!.slice(0, 2)}/${bin.buildId!.slice(2)}.debug`);
  const dw = bin.dwarf()!;
  t.truthy(dw.section('.debug_info')!.length > 1_000_000);
  t.is(dw.sectionOrigin('.eh_frame'), bin.elf);
  t.is(dw.section('.eh_frame')!.length, bin.elf.section('.eh_frame')!.size);
  t.is(dw.sectionAddress('.eh_frame'), bin.elf.section('.eh_frame')!.addr);
  t.deepEqual(ours(symtabOf(bin.debugPath!, '.symtab')), readelfSymbols(bin.debugPath!, '.symtab'));
  t.deepEqual(ours(symtabOf(LIBC, '.dynsym')), readelfSymbols(LIBC, '.dynsym').map((l) => l.replace(/ gnu_ifunc /, ' ifunc ')));
  const memcpy = bin.symbolsNamed('memcpy');
  t.true(memcpy.some((s) => s.type === 'ifunc'));
  const printf = bin.symbolsNamed('printf')[0]!;
  // printf has aliases (_IO_printf) at the same address.
  t.is(bin.symbolAt(printf.value + 4n)?.value, printf.value);
});

test('load bias helpers', (t) => {
  const elf = ElfFile.open(libShared());
  t.teardown(() => elf.close());
  t.is(linkBaseOf(elf), 0n);
  t.is(loadBiasOf(elf, 0x7f0000000000n, 0n), 0x7f0000000000n);
  const nopie = ElfFile.open(helloNoPie());
  t.teardown(() => nopie.close());
  t.is(loadBiasOf(nopie, 0x400000n, 0n), 0n);
});

test('crc32 of known vectors', (t) => {
  t.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  t.is(crc32(new Uint8Array(0)), 0);
});

test('corrupt ELF input gives typed errors', (t) => {
  const good = fs.readFileSync(helloPie());
  t.throws(() => ElfFile.fromBytes(new Uint8Array([1, 2, 3])), { code: 'ERR_ELF' });
  const bad = new Uint8Array(good.subarray(0, 64));
  t.throws(() => ElfFile.fromBytes(bad), { code: 'ERR_ELF' });
  const elf = ElfFile.fromBytes(new Uint8Array(good));
  t.true(elf.sections.length > 10);
});
