import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { run, systemTest } from '@stackdb/test-support';
import { PtraceTarget } from './index.js';
import { fixture, killQuietly, nmAddress, startDetached, tmpDir, until } from './test-support/harness.js';

const spin = fixture('spin');
const loop = fixture('loop');
const here = path.dirname(fileURLToPath(import.meta.url));

test('a launched program stops at the first instruction of its dynamic loader', async (t) => {
  const target = PtraceTarget.launch([loop, '1'], { stdout: '/dev/null' });
  await target.open();
  try {
    const [th] = await target.threads();
    t.is(th!.tid, target.pid!);
    const ld = (await target.modules()).find((m) => m.name.startsWith('ld-linux'))!;
    const entry = BigInt(/Entry point address:\s+(0x[0-9a-f]+)/.exec(run('readelf', ['-h', ld.path]))![1]!);
    t.is(await th!.pc(), ld.bias + entry, 'pc = ld.so entry (readelf) + its load bias');
    t.is(await target.readUnsigned(await th!.sp(), 8), 2n, 'argc on the initial stack');
  } finally {
    await target.kill();
    await target.close();
  }
});

test('stdin from a file, stdout and stderr to files, environment and arguments', async (t) => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'in'), 'from stdin\n');
  const target = PtraceTarget.launch(['sh', '-c', 'cat; echo "$FOO $0 $1"; echo oops >&2', 'zero', 'one'], {
    env: { FOO: 'bar' },
    stdin: path.join(dir, 'in'),
    stdout: path.join(dir, 'out'),
    stderr: path.join(dir, 'err'),
  });
  await target.open();
  const r = await target.monitor();
  await target.close();
  t.deepEqual(r.status, { code: 0 });
  t.is(fs.readFileSync(path.join(dir, 'out'), 'utf8'), 'from stdin\nbar zero one\n');
  t.is(fs.readFileSync(path.join(dir, 'err'), 'utf8'), 'oops\n');
});

test('exec failures are one clear line with ERR_EXEC', async (t) => {
  const missing = PtraceTarget.launch(['/nonexistent/program']);
  const e1 = await t.throwsAsync(missing.open(), { code: 'ERR_EXEC' });
  t.is(e1!.message, 'cannot execute /nonexistent/program: ENOENT (no such file or directory)');
  t.is((e1 as unknown as { exitCode: number }).exitCode, 6);
  const notExec = path.join(tmpDir(), 'data');
  fs.writeFileSync(notExec, 'not a program');
  await t.throwsAsync(PtraceTarget.launch([notExec]).open(), { code: 'ERR_EXEC', message: /EACCES/ });
  await t.throwsAsync(PtraceTarget.launch([loop], { stdin: '/nonexistent/in' }).open(), { code: 'ERR_EXEC', message: /cannot open \/nonexistent\/in for its stdin \(-I\)/ });
});

test('attach errors: no such process, this debugger, already traced, a child_process', async (t) => {
  const none = await t.throwsAsync(PtraceTarget.attach(4_194_000).open(), { code: 'ERR_NO_PROCESS' });
  t.is(none!.message, 'no such process: 4194000');
  t.is((none as unknown as { exitCode: number }).exitCode, 3);
  await t.throwsAsync(PtraceTarget.attach(process.pid).open(), { code: 'ERR_PERMISSION' });

  const out = path.join(tmpDir(), 'out');
  const pid = startDetached([spin, '1000'], out);
  const child = spawn(spin, ['1000'], { stdio: 'ignore' });
  try {
    const first = PtraceTarget.attach(pid);
    await first.open();
    const again = await t.throwsAsync(PtraceTarget.attach(pid).open(), { code: 'ERR_ALREADY_TRACED' });
    t.regex(again!.message, /is already traced by this debugger$/);
    await first.detach();
    await first.close();

    const dbg = spawn(process.execPath, ['--import=tsx', path.join(here, 'test-support/debugger.ts'), String(pid), `0x${nmAddress(spin, 'heartbeat').toString(16)}`, `0x${nmAddress(spin, 'beats').toString(16)}`, 'signal'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    dbg.stdout.on('data', (d) => (said += d));
    await until(() => said.includes('ready'), 20_000, 'the other debugger');
    const other = await t.throwsAsync(PtraceTarget.attach(pid).open(), { code: 'ERR_ALREADY_TRACED' });
    t.regex(other!.message, new RegExp(`already traced by process ${dbg.pid} \\(node\\)`));
    dbg.kill('SIGTERM');
    await new Promise((r) => dbg.on('exit', r));

    const e = await t.throwsAsync(PtraceTarget.attach(child.pid!).open(), { code: 'ERR_CHILD_PROCESS' });
    t.is((e as unknown as { exitCode: number }).exitCode, 7);
  } finally {
    killQuietly(pid);
    child.kill('SIGKILL');
  }
});

systemTest(test, "attaching to another user's process is permission denied", [{ root: true, why: 'to run a debugger as another user' }], async (t) => {
  const out = path.join(tmpDir(), 'out');
  const pid = startDetached([spin, '1000'], out);
  try {
    const dist = path.resolve(here, '../dist/index.js');
    const script = `import(${JSON.stringify(dist)}).then(({ PtraceTarget }) => PtraceTarget.attach(${pid}).open()).then(() => console.log('attached'), (e) => console.log(e.code + ' ' + e.exitCode + ' ' + e.message))`;
    const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
    t.regex(r.stdout, new RegExp(`^ERR_PERMISSION 4 permission denied: process ${pid} \\(spin\\) belongs to uid 0; run as that user or as root`));
  } finally {
    killQuietly(pid);
  }
});

test('attach to a multi-threaded process seizes every thread', async (t) => {
  const threads = fixture('threads');
  const out = path.join(tmpDir(), 'out');
  const pid = startDetached([threads, '1', '6', '20000000'], out);
  try {
    await until(() => fs.existsSync(`/proc/${pid}/task`) && fs.readdirSync(`/proc/${pid}/task`).length === 7, 10_000, 'the threads');
    const target = PtraceTarget.attach(pid);
    await target.open();
    const list = await target.threads();
    t.deepEqual(list.map((x) => x.tid).sort(), fs.readdirSync(`/proc/${pid}/task`).map(Number).sort());
    for (const th of list) t.true((await th.pc()) > 0n);
    await target.detach();
    await target.close();
  } finally {
    killQuietly(pid);
  }
});
