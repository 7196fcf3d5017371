import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { PhpTarget } from './php-target.js';
import { Registry, openTargets, parseCommandLine, scriptRuntimeOf, type ScriptBacktrace, type Target } from '@stackdb/core';
import { repoRoot, systemTest, type Need } from '@stackdb/test-support';

/*
 * Real PHP CLI processes under ptrace with the php overlay on top. The waiter
 * script writes PHP's own view of its stack (debug_backtrace) before it sleeps
 * in usleep() for ever: the overlay's frames must say the same.
 */

const NEEDS: Need[] = [{ command: 'php', package: 'php8.2-cli' }, { command: 'php-config', package: 'php8.2-dev' }, { command: 'cc', package: 'gcc' }];
const HERE = path.dirname(fileURLToPath(import.meta.url));
const WAITER = path.join(HERE, 'test-support/waiter.php');
const BUSY = path.join(HERE, 'test-support/busy.php');
const CALLER = path.join(HERE, 'test-support/caller.php');
const BIN = path.join(repoRoot, 'packages/cli/bin/stackdb.js');
const registry = Registry.discover([path.join(repoRoot, 'node_modules')]);

/** What the waiter's debug_backtrace said: one entry per user frame below usleep's caller. */
interface PhpTraceEntry {
  readonly function: string;
  readonly class: string | null;
  readonly type: string | null;
  readonly line: number;
  readonly args: unknown[];
}

const running = new Set<number>();
test.after.always(() => {
  for (const pid of running) spawnSync('kill', ['-KILL', String(pid)]);
});

/** Starts the waiter; resolves once it has written its own backtrace. */
async function startWaiter(t: { teardown(fn: () => void): void }): Promise<{ pid: number; trace: PhpTraceEntry[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-php-'));
  const out = path.join(dir, 'trace.json');
  const pid = startDetached(['php', WAITER, out]);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (let i = 0; i < 200 && !fs.existsSync(out); i++) await new Promise((r) => setTimeout(r, 25));
  return { pid, trace: JSON.parse(fs.readFileSync(out, 'utf8')) as PhpTraceEntry[] };
}

/** Starts a program through a shell, so that it is no child of this process (whose libuv would reap its ptrace stops). */
function startDetached(argv: readonly string[]): number {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const pid = Number(spawnSync('sh', ['-c', `${quoted} >/dev/null 2>&1 </dev/null & echo $!`], { encoding: 'utf8' }).stdout.trim());
  running.add(pid);
  return pid;
}

async function withPhp<T>(pid: number, fn: (php: Target, base: Target) => Promise<T>): Promise<T> {
  const argv = ['-p', String(pid), '--overlay', `${pid}:-t php`];
  const targets = await openTargets(parseCommandLine(argv, { drivers: registry.drivers }).targets, registry);
  try {
    return await fn(targets[1]!, targets[0]!);
  } finally {
    for (const x of [...targets].reverse()) await x.close();
  }
}

async function phpStack(php: Target): Promise<ScriptBacktrace> {
  const runtime = scriptRuntimeOf(php);
  if (!runtime) throw new Error(`${php.name} is no script runtime`);
  return runtime.scriptBacktrace((await php.threads())[0]!);
}

const lineOf = (file: string, text: string) => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

systemTest(test, 'the PHP stack of a sleeping script agrees with its own debug_backtrace: functions, classes, call types, lines, arguments', NEEDS, async (t) => {
  const { pid, trace } = await startWaiter(t);
  const bt = await withPhp(pid, phpStack);
  t.is(bt.end, 'bottom', bt.error);
  const [sleep, ...user] = bt.frames;
  t.like(sleep, { function: 'usleep', internal: true });
  t.deepEqual(sleep!.args.map((a) => `${a.name}=${a.value.text}`), ['$microseconds=20000']);
  t.is(user[0]!.line, lineOf(WAITER, 'usleep(20000)'));
  for (const [i, theirs] of trace.entries()) {
    const ours = user[i]!;
    t.is(ours.function, theirs.function);
    t.is(ours.class ?? null, theirs.class);
    t.is(ours.callType ?? null, theirs.type as NonNullable<typeof ours.callType> | null);
    t.is(ours.file, WAITER);
    t.deepEqual(ours.args.map((a) => a.value.json).map((v) => (v && typeof v === 'object' && 'object' in v ? { object: v.object } : v)), theirs.args, `arguments of ${theirs.function}`);
    t.is(user[i + 1]!.line, theirs.line, `the line ${theirs.function} was called from`);
  }
  t.like(user.at(-1), { function: '{main}', internal: false });
  t.is(user.length, trace.length + 1);
  t.deepEqual(user.map((f) => f.args.map((a) => a.name).join(',')), ['$who,$greeter,$list', '$who,$ratio,$nothing,$flag', '$who,$times,$extra', '']);
});

systemTest(test, 'a script busy in the VM: the innermost line is the one the VM runs, not the one its frame saved', NEEDS, async (t) => {
  const pid = startDetached(['php', BUSY]);
  await new Promise((r) => setTimeout(r, 300));
  const loop = [lineOf(BUSY, 'while (true)'), lineOf(BUSY, '$i++')];
  for (let i = 0; i < 3; i++) {
    const bt = await withPhp(pid, phpStack);
    t.deepEqual(bt.frames.map((f) => f.function), ['busy', '{main}']);
    t.true(loop.includes(bt.frames[0]!.line!), `line ${bt.frames[0]!.line}`);
    t.deepEqual(bt.frames[0]!.args.map((a) => `${a.name}=${a.value.text}`), ['$n=7']);
  }
});

systemTest(test, 'probes on PHP functions fire once per call, with the callee\'s frame: untyped, typed, a default left out, a method, an internal function', NEEDS, async (t) => {
  const pid = startDetached(['php', CALLER]);
  await new Promise((r) => setTimeout(r, 300));
  const calls = new Map<string, string[]>();
  const WANT = 4;
  await withPhp(pid, async (php, base) => {
    for (const spec of ['plain', 'typed', 'with_default', 'Counter::tick', 'strrev']) {
      calls.set(spec, []);
      await (php as unknown as Pick<PhpTarget, 'probeFunction'>).probeFunction(spec, ({ frame }) => {
        const seen = calls.get(spec)!;
        const name = frame.class ? `${frame.class}${frame.callType}${frame.function}` : frame.function;
        seen.push(`${name}(${frame.args.map((a) => `${a.name}=${a.value.text}`).join(', ')})${frame.internal ? '' : `:${frame.line}`}`);
        return [...calls.values()].every((c) => c.length >= WANT) ? 'stop' : 'resume';
      });
    }
    await base.monitor({ signal: AbortSignal.timeout(30_000) });
  });
  const first = Number(/\$i=(\d+)/.exec(calls.get('plain')![0]!)?.[1]);
  const at = (text: string) => lineOf(CALLER, text);
  const expect = (make: (i: number) => string) => Array.from({ length: WANT }, (_, k) => make(first + k));
  t.deepEqual(calls.get('plain')!.slice(0, WANT), expect((i) => `plain($i=${i}, $label="p${i}"):${at('return strlen')}`));
  t.deepEqual(calls.get('typed')!.slice(0, WANT), expect((i) => `typed($i=${i}, $label="t${i}"):${at('function typed')}`));
  t.deepEqual(calls.get('with_default')!.slice(0, WANT), expect((i) => `with_default($i=${i}):${at('function with_default')}`));
  t.deepEqual(calls.get('Counter::tick')!.slice(0, WANT), expect((i) => `Counter->tick($n=${i}):${at('public function tick')}`));
  t.deepEqual(calls.get('strrev')!.slice(0, WANT), expect((i) => `strrev($string="r${i}")`));
  t.is(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^TracerPid:\s*(\d+)/m)?.[1], '0', 'detached');
  t.is(spawnSync('kill', ['-0', String(pid)]).status, 0, 'and still running');
});

function cli(args: readonly string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

systemTest(test, 'CLI: backtrace --overlay PID:-t php prints the PHP stack after the native one, and as JSON', NEEDS, async (t) => {
  const { pid } = await startWaiter(t);
  const r = cli(['backtrace', '-p', String(pid), '--overlay', `${pid}:-t php`]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /in execute_ex \(\)/);
  t.true(r.stdout.includes(`thread ${pid} (php), PHP stack:\n#0  usleep($microseconds=20000) [internal function]\n#1  wait_here($who="world", $greeter=object(Greeter)#2, $list=[1, 2]) at ${WAITER}:`), r.stdout);
  t.true(r.stdout.includes(`#2  Greeter::relay($who="world", $ratio=4.5, $nothing=NULL, $flag=true) at ${WAITER}:`), r.stdout);
  t.true(r.stdout.includes(`#3  Greeter->greet($who="world", $times=3, $extra=["a" => 1, 7 => [true]]) at ${WAITER}:`), r.stdout);
  const j = cli(['backtrace', '--json', '-p', String(pid), '--overlay', `${pid}:-t php`]);
  t.is(j.status, 0, j.stderr);
  const php = (JSON.parse(j.stdout) as { driver: string; threads: { frames: { function: string; args: { name: string; value: unknown }[] }[] }[] }[]).find((x) => x.driver === 'php')!;
  t.deepEqual(php.threads[0]!.frames.map((f) => f.function), ['usleep', 'wait_here', 'relay', 'greet', '{main}']);
  t.deepEqual(php.threads[0]!.frames[2]!.args.map((a) => a.value), ['world', 4.5, null, true]);
});

systemTest(test, 'CLI: probetargets ID:FUNCTION on the php overlay prints each call with its arguments, as text and as JSON; an unknown function is one error line', NEEDS, async (t) => {
  const pid = startDetached(['php', CALLER]);
  await new Promise((r) => setTimeout(r, 300));
  const base = ['-p', String(pid), '--overlay', `${pid}:-t php`];
  const r = cli(['probetargets', ...base, '--count', '6', '2:plain', '2:Counter::tick', '2:strrev']);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const i = Number(/\$i = (\d+)/.exec(lines[0]!)?.[1]);
  t.deepEqual(lines, [i, i + 1].flatMap((n) => [
    `[2] plain (PHP) (thread ${pid}) $i = ${n}, $label = "p${n}" (at ${CALLER}:${lineOf(CALLER, 'return strlen')})`,
    `[2] Counter->tick (PHP) (thread ${pid}) $n = ${n} (at ${CALLER}:${lineOf(CALLER, 'public function tick')})`,
    `[2] strrev (PHP) (thread ${pid}) $string = "r${n}"`,
  ]));
  t.regex(r.stderr, /Registered probe Counter::tick \(PHP function\) on php/);
  const j = cli(['probetargets', '--json', ...base, '--count', '2', '2:typed']);
  t.is(j.status, 0, j.stderr);
  const calls = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; function: string; args: { name: string; value: unknown }[] });
  t.deepEqual(calls.map((c) => [c.kind, c.function, c.args.map((a) => a.name)]), [['script-function', 'typed', ['$i', '$label']], ['script-function', 'typed', ['$i', '$label']]]);
  t.is((calls[1]!.args[0]!.value as number) - (calls[0]!.args[0]!.value as number), 1);
  // dumptarget puts a name on the first target that has it: no C function is named plain.
  const plain = cli(['dumptarget', ...base, '--count', '2', 'plain']);
  t.is(plain.status, 0, plain.stderr);
  t.deepEqual(plain.stdout.trim().split('\n').map((l) => l.replace(/\$i = \d+/, '$i = N').replace(/"p\d+"/, '"pN"')), Array.from({ length: 2 }, () => `[2] plain (PHP) (thread ${pid}) $i = N, $label = "pN" (at ${CALLER}:${lineOf(CALLER, 'return strlen')})`));
  const bad = cli(['probetargets', ...base, '2:no_such_function']);
  t.not(bad.status, 0);
  t.deepEqual(bad.stderr.trim().split('\n'), ['stackdb: cannot probe no_such_function: php: no PHP function no_such_function (is the script that declares it compiled yet?)']);
  t.is(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^TracerPid:\s*(\d+)/m)?.[1], '0', 'detached');
});

systemTest(test, 'errors: a process that runs no PHP, a php-config that does not exist: one line, non-zero exit, the process left running', NEEDS, async (t) => {
  const sleeper = startDetached(['sleep', '60']);
  const r = cli(['backtrace', '-p', String(sleeper), '--overlay', `${sleeper}:-t php`]);
  t.not(r.status, 0);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /does not run PHP/);
  const { pid } = await startWaiter(t);
  const bad = cli(['backtrace', '-p', String(pid), '--overlay', `${pid}:-t php --php-config /nonexistent/php-config`]);
  t.not(bad.status, 0);
  t.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  t.regex(bad.stderr, /php-config/);
  t.is(spawnSync('kill', ['-0', String(pid)]).status, 0, 'the PHP process still runs');
  t.is(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^TracerPid:\s*(\d+)/m)?.[1], '0', 'and is no longer traced');
});
