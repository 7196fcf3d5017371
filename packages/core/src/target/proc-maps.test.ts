import fs from 'node:fs';
import test from 'ava';
import { parseProcMaps } from './proc-maps.js';

test('maps lines: permissions, offsets, paths with spaces, deleted files and anonymous memory', (t) => {
  const text = [
    '55d0c8a00000-55d0c8a01000 r--p 00000000 08:01 1234                       /usr/bin/my prog',
    '55d0c8a01000-55d0c8a02000 r-xp 00001000 08:01 1234                       /usr/bin/my prog',
    '7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ',
    '7f0000100000-7f0000101000 rw-s 00002000 00:05 99                         /tmp/x (deleted)',
    '7ffc0000000-7ffc0021000 rw-p 00000000 00:00 0                          [stack]',
  ].join('\n');
  const r = parseProcMaps(text);
  t.is(r.length, 5);
  t.deepEqual(r[1], { start: 0x55d0c8a01000n, end: 0x55d0c8a02000n, readable: true, writable: false, executable: true, offset: 0x1000n, path: '/usr/bin/my prog' });
  t.is(r[2]!.path, undefined);
  t.is(r[3]!.path, '/tmp/x (deleted)');
  t.is(r[4]!.path, '[stack]');
});

test("this process's own maps parse completely", (t) => {
  const text = fs.readFileSync('/proc/self/maps', 'utf8');
  t.is(parseProcMaps(text).length, text.trim().split('\n').length);
});
