import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/stackdb.js');
const stackdb = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('stackdb --help lists the installed drivers and their option groups', (t) => {
  const r = stackdb('--help');
  t.is(r.status, 0);
  for (const group of [
    /ptrace driver \(@stackdb\/driver-ptrace\)[^\n]*\n(.*\n)*? {2}-p, --pid=PID/,
    /gdb driver \(@stackdb\/driver-gdb-qemu\)[^\n]*\n(.*\n)*? {6}--gdb-port=PORT/,
    /qemu helper for the gdb driver[^\n]*\n(.*\n)*? {6}--qemu-mem-path=FILE/,
    /xen driver \(@stackdb\/driver-xen\)[^\n]*\n(.*\n)*? {2}-m, --domain=DOMAIN/,
    /os-process overlay driver/,
    /php overlay driver/,
  ]) t.regex(r.stdout, group);
  t.regex(r.stdout, /Common target options:\n {2}-a, --active-probing/);
});

test('an unknown tool is one line naming the tools, exit 2', (t) => {
  const r = stackdb('frobnicate');
  t.is(r.status, 2);
  t.regex(r.stderr, /^stackdb: unknown tool 'frobnicate' \(tools: .*; see 'stackdb --help'\)\n$/);
  t.is(r.stdout, '');
});
