import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { buildFixture, repoRoot, run } from '@stackdb/test-support';
import { scenesPlugin } from '../test-support/scenes.js';
import { Running, probeFixture, stackdb, stackdbBin, tmpDir } from './test-support/probes.js';

/*
 * The dumptarget and probetargets tools, run as commands on real programs:
 * one line per hit after the seed's output, JSON objects with --json, several
 * targets addressed by id, and the signal rules: SIGINT ends the monitor and
 * detaches, SIGTERM detaches and exits; either way the program keeps running
 * without a trap left in it, as it does when a handler throws.
 */

const probed = probeFixture('probed');

test('dumptarget prints each entry and exit with typed arguments and the return value, as the program says them', (t) => {
  const out = path.join(tmpDir(), 'out');
  const r = stackdb(['dumptarget', '--return', 'add', 'describe', '-O', out, '--', probed, 'calls', '2']);
  t.is(r.status, 0, r.stderr);
  const hits = r.stdout.trim().split('\n');
  t.is(hits.length, 8);
  const expected: RegExp[] = [];
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    let m = /^add\((\d+), (\d+)\) = (\d+)$/.exec(line);
    if (m) {
      expected.push(new RegExp(`^add \\(0x[0-9a-f]+\\) \\(thread \\d+\\) a = ${m[1]}, b = ${m[2]}$`));
      expected.push(new RegExp(`^add \\(0x[0-9a-f]+\\) \\(thread \\d+\\) returned ${m[3]} \\(a = ${m[1]}, b = ${m[2]}\\)$`));
    }
    m = /^describe\("(\w+)", (\d+)\) = "(.*)"$/.exec(line);
    if (m) {
      expected.push(new RegExp(`^describe \\(0x[0-9a-f]+\\) \\(thread \\d+\\) what = "${m[1]}", n = ${m[2]}$`));
      expected.push(new RegExp(`^describe \\(0x[0-9a-f]+\\) \\(thread \\d+\\) returned "${m[3]}" \\(what = "${m[1]}", n = ${m[2]}\\)$`));
    }
  }
  t.is(expected.length, 8);
  hits.forEach((h, i) => t.regex(h, expected[i]!));
  // The address shown is the function's, as nm has it (plus the load bias, the same for both).
  const [addA, addD] = [/^add \((0x[0-9a-f]+)\)/.exec(hits[0]!)![1]!, /^describe \((0x[0-9a-f]+)\)/.exec(hits[2]!)![1]!];
  const symbols = run('nm', [probed]);
  const nm = (name: string) => BigInt(`0x${new RegExp(`^([0-9a-f]+) T ${name}$`, 'm').exec(symbols)![1]}`);
  t.is(BigInt(addD) - BigInt(addA), nm('describe') - nm('add'));
  t.regex(r.stderr, /^Registered probe add at 0x[0-9a-f]+ on ptrace\(\d+\)\.$/m);
  t.regex(r.stderr, /exited with status 0 \(8 hits\)/);
});

test('dumptarget --json writes one object per hit; watchpoints and lines say where they fired', (t) => {
  const out = path.join(tmpDir(), 'out');
  const r = stackdb(['dumptarget', '--json', 'watched_global', 'root.in.value', 'writer', '-O', out, '--', probed, 'watch']);
  t.is(r.status, 0, r.stderr);
  const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const writes = objs.filter((o) => o.kind === 'variable').map((o) => `${o.probe}=${(o.value as { text: string }).text}`);
  t.deepEqual(writes, ['watched_global=1', 'root.in.value=10', 'watched_global=2', 'root.in.value=20', 'watched_global=3', 'root.in.value=30']);
  const calls = objs.filter((o) => o.probe === 'writer');
  t.deepEqual(calls.map((o) => (o.args as { name: string; text: string }[]).map((a) => `${a.name}=${a.text}`).join()), ['v=1', 'v=2', 'v=3']);
  t.like(calls[0], { kind: 'function', phase: 'pre', target: 1 });
  t.regex((objs.find((o) => o.kind === 'variable') as { at: string }).at, /^writer\+0x[0-9a-f]+ \(probed\.c:\d+\)$/);
  t.regex(fs.readFileSync(out, 'utf8'), /^watched 3 30$/m);
});

test('probetargets probes several targets, each probe on the target its id names', (t) => {
  const dir = tmpDir();
  const r = stackdb(['probetargets', '--base', `-i 10 -O ${dir}/a -- ${probed} calls 2`, '--base', `-i 20 -O ${dir}/b -- ${probed} calls 3`, '10:add', '20:describe']);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.deepEqual(lines.filter((l) => l.startsWith('[10] ')).map((l) => /a = (\d+)/.exec(l)![1]), ['0', '1']);
  t.deepEqual(lines.filter((l) => l.startsWith('[20] ')).map((l) => /n = (\d+)/.exec(l)![1]), ['0', '1', '2']);
  t.true(lines.every((l) => /^\[(10\] add|20\] describe) /.test(l)));
  t.regex(r.stderr, /\(2 hits\)/);
  t.regex(r.stderr, /\(3 hits\)/);
  const bad = stackdb(['probetargets', '--base', `-i 10 -- ${probed}`, '30:add']);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^stackdb: no target with id 30 \(for 30:add\); give targets ids with -i\n$/);
});

test('dumptarget explains what it cannot probe in one line', (t) => {
  const r = stackdb(['dumptarget', 'no_such_symbol', '--', probed, 'calls', '1']);
  t.is(r.status, 2);
  t.regex(r.stderr, /^stackdb: cannot probe no_such_symbol: no function or variable named no_such_symbol\n$/m);
  const none = stackdb(['dumptarget', '--', probed]);
  t.is(none.status, 2);
  t.regex(none.stderr, /nothing to probe/);
});

test('dumptarget --pending probes a function of a library the program loads later, at each load', (t) => {
  const prog = buildFixture({ name: 'dlopen-rounds', sources: ['packages/cli/test/dlopen-rounds.c'], flags: ['-g', '-O0'] });
  const without = stackdb(['dumptarget', 'plugin_inner', '--', prog, scenesPlugin()]);
  t.is(without.status, 2);
  t.regex(without.stderr, /^stackdb: cannot probe plugin_inner: no function or variable named plugin_inner\n$/m);
  const r = stackdb(['dumptarget', '--pending', 'plugin_inner', '--', prog, scenesPlugin()]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^Pending probe plugin_inner on .*: placed when a library that defines it is loaded\.$/m);
  t.regex(r.stderr, /exited with status 0 \(2 hits\)/);
  const hits = r.stdout.trim().split('\n');
  t.is(hits.length, 2, r.stdout);
  hits.forEach((h, i) => t.regex(h, new RegExp(`^plugin_inner \\(0x[0-9a-f]+\\) \\(thread \\d+\\) v = ${i + 1}, back = `)));
});

/** Starts `probed wait` and dumptarget attached to it, probing add(); returns both once the first hit is printed. */
async function attachedSession(): Promise<{ target: Running; dbg: Running }> {
  const target = new Running([probed, 'wait']);
  const pid = Number((await target.waitFor(/^ready (\d+)$/m))[1]);
  const dbg = new Running([process.execPath, stackdbBin, 'dumptarget', '-p', String(pid), 'add'], { stdin: 'ignore' });
  await dbg.waitFor(/Starting main debugging loop!/, 'stderr');
  target.write('one\n');
  await dbg.waitFor(/^add \(0x[0-9a-f]+\) \(thread \d+\) a = 0, b = 0$/m);
  await target.waitFor(/^round 0$/m);
  return { target, dbg };
}

/** The traced program goes on calling add() (an int3 left behind would kill it with SIGTRAP) and is no longer traced. */
async function runsOnFreely(t: import('ava').ExecutionContext, target: Running): Promise<void> {
  const status = fs.readFileSync(`/proc/${target.pid}/status`, 'utf8');
  t.regex(status, /^TracerPid:\s+0$/m);
  target.write('two\n');
  await target.waitFor(/^round 1$/m);
  target.end();
  t.deepEqual(await target.exited, { code: 0, signal: null });
  t.regex(target.stdout, /^done 2$/m);
}

test('SIGINT ends the monitor: dumptarget detaches and exits 0, the program runs on without traps', async (t) => {
  const { target, dbg } = await attachedSession();
  dbg.child.kill('SIGINT');
  const end = await dbg.exited;
  t.deepEqual(end, { code: 0, signal: null });
  t.regex(dbg.stderr, /ptrace\(\d+\) interrupted \(1 hit\)\./);
  await runsOnFreely(t, target);
});

test('SIGTERM: dumptarget removes its probes, detaches and exits 143; the program runs on', async (t) => {
  const { target, dbg } = await attachedSession();
  dbg.child.kill('SIGTERM');
  const end = await dbg.exited;
  t.is(end.code, 143);
  await runsOnFreely(t, target);
});

test('a program whose probe handler throws (unhandled) dies cleanly: no trap is left in the target', async (t) => {
  const target = new Running([probed, 'wait']);
  const pid = Number((await target.waitFor(/^ready (\d+)$/m))[1]);
  const script = path.join(tmpDir(), 'throws.mjs');
  const core = path.join(repoRoot, 'packages/core/dist/index.js');
  fs.writeFileSync(script, `
import { Registry, openTargets, parseCommandLine, ProgramSymbols, standardWalker, SymbolProbes } from ${JSON.stringify(core)};
const registry = Registry.discover([${JSON.stringify(path.join(repoRoot, 'node_modules'))}]);
const [t] = await openTargets(parseCommandLine(['-p', '${pid}'], { drivers: registry.drivers }).targets, registry);
const program = new ProgramSymbols(t);
const probes = SymbolProbes.for(t, { program, walker: standardWalker(t, program) });
await probes.probe('add', { pre: () => { throw new Error('bug in a handler'); } });
process.stderr.write('monitoring\\n');
t.monitor().then(() => process.stderr.write('monitor returned\\n'));
`);
  const dbg = new Running([process.execPath, script], { stdin: 'ignore' });
  await dbg.waitFor(/monitoring/, 'stderr');
  target.write('one\n');
  const end = await dbg.exited;
  t.is(end.code, 1);
  t.regex(dbg.stderr, /stackdb: bug in a handler/);
  t.notRegex(dbg.stderr, /monitor returned/);
  await target.waitFor(/^round 0$/m);
  await runsOnFreely(t, target);
});
