import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PtraceTarget } from './index.js';
import { SIG } from './wait-status.js';
import { fixture, runtimeAddress, tmpDir } from './test-support/harness.js';

const events = fixture('events');
const signals = fixture('signals');
const loop = fixture('loop');

test('clone, fork, vfork and exec are reported; fork children run free of breakpoints', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const target = PtraceTarget.launch([events], { stdout: out });
  await target.open();
  try {
    for (const e of ['thread', 'fork', 'exec'] as const) await target.requestEvents(e);
    const shared = await runtimeAddress(target, events, 'shared_work');
    await target.swBreakpoints.insert(shared);
    const seen: string[] = [];
    let hits = 0;
    target.on('thread-created', ({ parentTid }) => seen.push(`thread-created by ${parentTid === target.pid ? 'main' : parentTid}`));
    target.on('fork', ({ vfork, childPid }) => seen.push(`${vfork ? 'vfork' : 'fork'} ${childPid > 0}`));
    target.on('exec', ({ path: p }) => seen.push(`exec ${p === fs.realpathSync(events)}`));
    target.addStopHandler({
      async handleStop(_tg, ev) {
        if (ev.kind !== 'breakpoint') return undefined;
        hits++;
        return { consumed: true };
      },
    });
    const r = await target.monitor();
    t.deepEqual(r.status, { code: 7 });
    t.deepEqual(seen, ['thread-created by main', 'fork true', 'vfork true', 'exec true']);
    t.is(hits, 2, 'the thread and the parent after vfork; the fork child is not traced');
    t.is(target.swBreakpoints.addresses().length, 0, 'exec forgot the breakpoints');
    t.is(fs.readFileSync(out, 'utf8'), 'fork child exited 3\nvfork child exited 0\nstage2 hello\n');
  } finally {
    await target.close();
  }
});

test('signals are passed through, can be suppressed, and a fatal one ends the target', async (t) => {
  for (const deliver of [true, false]) {
    const out = path.join(tmpDir(), 'out');
    const target = PtraceTarget.launch([signals], { stdout: out });
    await target.open();
    let n = 0;
    target.on('signal', (e) => {
      if (e.signal !== SIG.SIGUSR1) return;
      n++;
      e.deliver = deliver;
    });
    const r = await target.monitor();
    await target.close();
    t.deepEqual(r.status, { code: 0 });
    t.is(n, 3);
    t.is(fs.readFileSync(out, 'utf8'), `handled ${deliver ? 3 : 0}\n`);
  }
  const target = PtraceTarget.launch([signals, 'segv'], { stdout: '/dev/null' });
  await target.open();
  const got: number[] = [];
  target.on('signal', (e) => got.push(e.signal));
  const r = await target.monitor();
  await target.close();
  t.deepEqual(got, [SIG.SIGUSR1, SIG.SIGUSR1, SIG.SIGUSR1, SIG.SIGSEGV]);
  t.deepEqual(r, { reason: 'exited', status: { signal: SIG.SIGSEGV } });
  t.is(target.exit?.signal, SIG.SIGSEGV);
});

test('system call entries and exits, and thread exits while memory is still there', async (t) => {
  const target = PtraceTarget.launch([loop, '1'], { stdout: '/dev/null' });
  await target.open();
  try {
    await target.requestEvents('syscall');
    await target.requestEvents('exit');
    const writes: bigint[] = [];
    let entered = 0;
    let exitedThread = 0;
    target.on('syscall-enter', ({ nr, args }) => {
      if (nr !== 1) return;
      entered++;
      t.is(args[0], 1n, 'write(1, ...)');
    });
    target.on('syscall-exit', ({ nr, ret }) => {
      if (nr === 1) writes.push(ret);
    });
    target.on('thread-exited', async ({ tid }) => {
      exitedThread++;
      t.is(tid, target.pid!);
    });
    const r = await target.monitor();
    t.deepEqual(r.status, { code: 0 });
    t.true(entered >= 1);
    t.is(writes.length, entered);
    t.true(writes.every((w) => w > 0n));
    t.is(exitedThread, 1);
  } finally {
    await target.close();
  }
});
