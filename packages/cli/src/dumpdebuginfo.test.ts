import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemTest } from '@stackdb/test-support';
import { demoProgram } from './demo.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/stackdb.js');
const stackdb = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

systemTest(test, 'dumpdebuginfo looks symbols, chains, addresses and lines up as gdb does', [{ command: 'gdb', package: 'gdb' }, { command: 'gcc', package: 'gcc' }], (t) => {
  const exe = demoProgram();
  const r = stackdb('dumpdebuginfo', '--json', exe, 'f10', 'counters.name', 'dummy.c:50');
  t.is(r.status, 0, r.stderr);
  const [f10, chain, line] = JSON.parse(r.stdout) as [{ symbols: { address?: string }[] }, { type: string }, { addresses: { address: string; function?: string }[] }];
  const gdb = spawnSync('gdb', ['-nx', '-batch', '-ex', 'info address f10', '-ex', 'info line dummy.c:50', '-ex', 'ptype counters.name', exe], { encoding: 'utf8' }).stdout;
  const f10Addr = /Symbol "f10" is a function at address (0x[0-9a-f]+)/.exec(gdb)?.[1];
  t.is(BigInt(f10.symbols[0]!.address!), BigInt(f10Addr!));
  t.is(chain.type as string | undefined, /type = (.*)/.exec(gdb)?.[1]);
  const lineAddr = /Line 50 of ".*" starts at address (0x[0-9a-f]+)/.exec(gdb)?.[1];
  t.is(BigInt(line.addresses[0]!.address), BigInt(lineAddr!));
  t.is(line.addresses[0]!.function, 'looper');
});

test('dumpdebuginfo without a file, or on a missing one, is one line and a non-zero exit', (t) => {
  const a = stackdb('dumpdebuginfo');
  t.is(a.status, 2);
  t.is(a.stderr, 'stackdb: dumpdebuginfo needs a FILE (see --help)\n');
  const b = stackdb('dumpdebuginfo', '/nonexistent/file');
  t.not(b.status, 0);
  t.regex(b.stderr, /^stackdb: .*\/nonexistent\/file.*\n$/);
  t.is(b.stderr.split('\n').length, 2);
});
