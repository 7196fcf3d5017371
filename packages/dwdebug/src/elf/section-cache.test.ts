import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { Binfile } from './binfile.js';
import { ElfFile } from './elf-file.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

function withCacheDir(t: { teardown(fn: () => void): void }, value: string | undefined, off = false): string {
  const dir = value ?? fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-seccache-'));
  const before = { dir: process.env.STACKDB_CACHE_DIR, off: process.env.STACKDB_NO_CACHE };
  process.env.STACKDB_CACHE_DIR = dir;
  if (off) process.env.STACKDB_NO_CACHE = '1';
  else delete process.env.STACKDB_NO_CACHE;
  t.teardown(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (before.dir === undefined) delete process.env.STACKDB_CACHE_DIR;
    else process.env.STACKDB_CACHE_DIR = before.dir;
    if (before.off === undefined) delete process.env.STACKDB_NO_CACHE;
    else process.env.STACKDB_NO_CACHE = before.off;
  });
  return dir;
}

async function libcDebugPath(): Promise<string | undefined> {
  const bf = await Binfile.open(LIBC);
  const p = bf.debugPath;
  bf.close();
  return p;
}

const needs = [{ file: LIBC }, { check: () => (fs.existsSync('/usr/lib/debug/.build-id') ? undefined : 'no /usr/lib/debug/.build-id'), what: 'libc6-dbg' }];

systemTest(test, 'a large compressed section is decompressed once, then read from the section cache piecewise', needs, async (t) => {
  const dir = withCacheDir(t, undefined);
  const debug = await libcDebugPath();
  if (!debug) return t.fail('glibc debug file not found');
  const a = ElfFile.open(debug);
  t.not(a.section('.debug_info')!.flags & 0x800n, 0n, 'compressed in the debug file');
  const whole = a.sectionData('.debug_info')!;
  const range = a.sectionFileRange('.debug_info')!;
  a.close();
  t.true(range.path.startsWith(path.join(dir, 'sections')), 'a file in the cache');
  t.is(range.offset, 0);
  t.is(range.size, whole.length);
  const fd = fs.openSync(range.path, 'r');
  const piece = Buffer.alloc(4096);
  fs.readSync(fd, piece, 0, piece.length, 1000);
  fs.closeSync(fd);
  t.deepEqual(new Uint8Array(piece), whole.subarray(1000, 1000 + 4096));
  // A second open reads the cached copy: same bytes.
  const b = ElfFile.open(debug);
  t.deepEqual(b.sectionData('.debug_info'), whole);
  b.close();
}, { serial: true });

systemTest(test, 'STACKDB_NO_CACHE=1: compressed sections stay in memory', needs, async (t) => {
  const dir = withCacheDir(t, undefined, true);
  const debug = await libcDebugPath();
  if (!debug) return t.fail('glibc debug file not found');
  const e = ElfFile.open(debug);
  t.truthy(e.sectionData('.debug_info'));
  t.is(e.sectionFileRange('.debug_info'), undefined);
  e.close();
  t.false(fs.existsSync(path.join(dir, 'sections')));
}, { serial: true });
