import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { writeCpio } from './cpio.js';

const enc = new TextEncoder();

test('entries and the trailer are 4-byte aligned newc records', (t) => {
  const a = writeCpio([{ type: 'file', path: '/x', data: enc.encode('abc') }]);
  const text = new TextDecoder('latin1').decode(a);
  t.true(text.startsWith('070701'));
  t.is(a.length % 4, 0);
  t.true(text.includes('TRAILER!!!'));
  // Same input, same bytes: images are cached by content hash.
  t.deepEqual(writeCpio([{ type: 'file', path: '/x', data: enc.encode('abc') }]), a);
});

systemTest(test, 'GNU cpio lists and extracts what we write', [{ command: 'cpio', package: 'cpio' }], (t) => {
  const data = new Uint8Array(5001).map((_, i) => i & 0xff);
  const archive = writeCpio([
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/prog', data, mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'prog' },
    { type: 'file', path: 'init', data: enc.encode('#!/bin/sh\n'), mode: 0o755 },
    { type: 'chardev', path: 'dev-console', major: 5, minor: 1 },
  ]);
  const names = spawnSync('cpio', ['-it', '--quiet'], { input: archive, encoding: 'utf8' });
  t.is(names.status, 0, names.stderr);
  t.deepEqual(names.stdout.trim().split('\n'), ['bin', 'bin/prog', 'bin/sh', 'init', 'dev-console']);
  const long = spawnSync('cpio', ['-itv', '--quiet'], { input: archive, encoding: 'utf8' }).stdout.trim().split('\n');
  t.regex(long[1]!, /^-rwxr-xr-x .* 5001 .* bin\/prog$/);
  t.regex(long[2]!, /^lrwxrwxrwx .* bin\/sh -> prog$/);
  t.regex(long[4]!, /^crw------- .* 5,\s+1 .* dev-console$/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpio-test-'));
  try {
    const ex = spawnSync('cpio', ['-id', '--quiet', '--no-absolute-filenames'], { input: writeCpio([{ type: 'dir', path: 'bin' }, { type: 'file', path: 'bin/prog', data }, { type: 'symlink', path: 'bin/sh', target: 'prog' }]), cwd: dir });
    t.is(ex.status, 0, String(ex.stderr));
    t.deepEqual(new Uint8Array(fs.readFileSync(path.join(dir, 'bin/prog'))), data);
    t.is(fs.readlinkSync(path.join(dir, 'bin/sh')), 'prog');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
