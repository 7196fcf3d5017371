import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { systemTest } from '@stackdb/test-support';
import { launch, probeFixture, stackdb, tmpDir } from './test-support/probes.js';

/*
 * `stackdb syscall` against strace on the same program: the same calls in
 * the same order, and the same rendering for the calls whose arguments both
 * decode (strings, open flags, mmap protections and flags, AT_FDCWD, errno
 * names); addresses differ between runs and are compared as ADDR.
 */

const probed = probeFixture('probed');
const SAME_RENDERING = new Set(['access', 'openat', 'close', 'write', 'mmap', 'mprotect', 'munmap', 'brk', 'exit_group', 'arch_prctl', 'pread64']);

function normalize(line: string): string {
  return line.replace(/0x[0-9a-f]+/g, 'ADDR').replace(/\s+=\s+(?=[^=]*$)/, ' = ');
}

systemTest(test, 'syscall traces the same calls as strace, rendered the same way', [{ command: 'strace', package: 'strace' }], (t) => {
  const dir = tmpDir();
  const ours = stackdb(['syscall', '-O', path.join(dir, 'ours'), '--', probed, 'calls', '1']);
  t.is(ours.status, 0, ours.stderr);
  // The program's stdout is a regular file under both (a terminal or /dev/null would add an ioctl).
  const stdout = fs.openSync(path.join(dir, 'theirs'), 'w');
  const s = spawnSync('strace', ['-qq', '-o', path.join(dir, 'strace'), '-s', '32', probed, 'calls', '1'], { stdio: ['ignore', stdout, 'pipe'] });
  fs.closeSync(stdout);
  t.is(s.status, 0);
  const theirs = fs.readFileSync(path.join(dir, 'strace'), 'utf8').trim().split('\n')
    .filter((l) => !l.startsWith('execve(') && !l.startsWith('+++'));
  const mine = ours.stdout.trim().split('\n').filter((l) => !l.startsWith('+++'));
  const name = (l: string) => /^(\w+)\(/.exec(l)?.[1];
  t.deepEqual(mine.map(name), theirs.map(name));
  t.true(mine.length > 20);
  let compared = 0;
  mine.forEach((l, i) => {
    if (!SAME_RENDERING.has(name(l)!)) return;
    // strace shows a read buffer's contents where we show its address.
    if (name(l) === 'pread64') return t.is(normalize(l).replace(/^pread64\(\d+, ADDR/, 'pread64(FD'), normalize(theirs[i]!).replace(/^pread64\(\d+, "(\\.|[^"])*"(\.\.\.)?/, 'pread64(FD'));
    compared++;
    t.is(normalize(l), normalize(theirs[i]!));
  });
  t.true(compared > 10);
  t.regex(ours.stdout, /^access\("\/etc\/ld\.so\.preload", R_OK\) = -1 ENOENT \(No such file or directory\)$/m);
  t.regex(ours.stdout, /^write\(1, "add\(0, 0\) = 0\\n", 14\) = 14$/m);
  t.regex(ours.stdout, /^exit_group\(0\) = \?\n\+\+\+ exited with 0 \+\+\+$/m);
});

test('syscall --trace keeps the named calls; --json gives decoded arguments and errno names', (t) => {
  const dir = tmpDir();
  const r = stackdb(['syscall', '--json', '--trace', 'openat,access', '-O', path.join(dir, 'out'), '--', probed, 'calls', '1']);
  t.is(r.status, 0, r.stderr);
  const calls = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; args: { name: string; type: string; text: string; string?: string }[]; return: number; errno?: string });
  t.deepEqual([...new Set(calls.map((c) => c.name))].sort(), ['access', 'openat']);
  const preload = calls.find((c) => c.name === 'access')!;
  t.like(preload, { return: -2, errno: 'ENOENT' });
  t.deepEqual(preload.args.map((a) => [a.name, a.type, a.text]), [['filename', 'const char *', '"/etc/ld.so.preload"'], ['mode', 'int', 'R_OK']]);
  const libc = calls.find((c) => c.name === 'openat' && c.args[1]!.string?.endsWith('/libc.so.6'))!;
  t.deepEqual(libc.args.map((a) => a.name), ['dfd', 'filename', 'flags']);
  t.is(libc.args[0]!.text, 'AT_FDCWD');
  t.is(libc.args[2]!.text, 'O_RDONLY|O_CLOEXEC');
  t.true(libc.return >= 3);
  const bad = stackdb(['syscall', '--trace', 'opne', '--', probed]);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^stackdb: --trace: no system call named opne\n$/);
});

test('syscall --summary counts calls and errors per system call', (t) => {
  const dir = tmpDir();
  const r = stackdb(['syscall', '--summary', '-O', path.join(dir, 'out'), '--', probed, 'calls', '2']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^\s+\d+\s+1 access$/m);
  // One write per line the program printed (its stdout is line-buffered).
  const lines = fs.readFileSync(path.join(dir, 'out'), 'utf8').split('\n').filter(Boolean).length;
  t.regex(r.stdout, new RegExp(`^\\s+${lines}\\s+write$`, 'm'));
  const total = /^\s+(\d+)\s+(\d+) total$/m.exec(r.stdout)!;
  t.true(Number(total[1]) > 20);
  t.is(Number(total[2]), 1);
});

test('system calls are typed core events, named from the table, and can be iterated', async (t) => {
  const l = await launch([probed, 'calls', '1']);
  try {
    await l.target.requestEvents('syscall');
    const ac = new AbortController();
    const names: string[] = [];
    const exits: bigint[] = [];
    l.target.on('syscall-exit', ({ name, ret }) => name === 'write' && exits.push(ret));
    const iterated = (async () => {
      try {
        for await (const [e] of l.target.events('syscall-enter', { signal: ac.signal })) names.push(e.name);
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err;
      }
    })();
    await l.target.monitor();
    ac.abort();
    await iterated;
    t.true(names.includes('openat'));
    t.is(names.filter((n) => n === 'write').length, l.output().split('\n').filter(Boolean).length);
    t.is(names[names.length - 1], 'exit_group');
    // Each write returned the length of the line the program printed.
    t.deepEqual(exits, l.output().split('\n').filter(Boolean).map((line) => BigInt(line.length + 1)));
  } finally {
    await l.target.close();
  }
});
