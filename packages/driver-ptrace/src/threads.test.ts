import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { StopEvent } from '@stackdb/core';
import { PtraceTarget } from './index.js';
import { fixture, runtimeAddress, tmpDir } from './test-support/harness.js';

const threads = fixture('threads');

test('threads created and joined continuously: every creation, exit and breakpoint hit is seen', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const rounds = 150;
  const per = 4;
  const target = PtraceTarget.launch([threads, String(rounds), String(per)], { stdout: out });
  await target.open();
  try {
    await target.requestEvents('thread');
    const work = await runtimeAddress(target, threads, 'thread_work');
    await target.swBreakpoints.insert(work);
    let hits = 0;
    const created = new Set<number>();
    let exited = 0;
    target.on('thread-created', ({ thread, parentTid }) => {
      created.add(thread.tid);
      t.is(parentTid, target.pid!, 'the main thread creates them');
    });
    target.on('thread-exited', () => exited++);
    target.addStopHandler({
      async handleStop(_tg, ev) {
        if (ev.kind !== 'breakpoint') return undefined;
        hits++;
        return { consumed: true };
      },
    });
    const r = await target.monitor();
    t.deepEqual(r.status, { code: 0 });
    t.is(hits, rounds * per);
    t.is(created.size, rounds * per);
    t.is(exited, rounds * per);
    t.is(fs.readFileSync(out, 'utf8'), `total ${rounds * 10}\n`);
  } finally {
    await target.close();
  }
});

test('a breakpoint hit by several threads at once is reported for each of them', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const per = 4;
  const calls = 400;
  const target = PtraceTarget.launch([threads, '1', String(per), String(calls)], { stdout: out });
  await target.open();
  try {
    const work = await runtimeAddress(target, threads, 'thread_work');
    await target.swBreakpoints.insert(work);
    let hits = 0;
    let together = 0;
    for (;;) {
      await target.resume();
      const { events } = await target.wait();
      const bps = events.filter((e): e is Extract<StopEvent, { kind: 'breakpoint' }> => e.kind === 'breakpoint');
      for (const b of bps) {
        t.is(b.address, work);
        t.is(await (await target.thread(b.tid)).pc(), work);
      }
      hits += bps.length;
      if (bps.length > 1) together++;
      if (events.some((e) => e.kind === 'exited')) break;
    }
    t.is(hits, per * calls);
    t.log(`${together} stops reported several threads on the breakpoint`);
    t.is(fs.readFileSync(out, 'utf8'), `total ${calls * 10}\n`);
  } finally {
    await target.close();
  }
});

test('pausing and resuming a program that keeps creating threads', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const target = PtraceTarget.launch([threads, '3000', '3'], { stdout: out });
  await target.open();
  try {
    for (let i = 0; i < 25; i++) {
      await target.resume();
      await new Promise((r) => setTimeout(r, 5));
      await target.pause();
      const list = await target.threads();
      t.true(list.length >= 1);
      for (const th of list) {
        t.is(th.state, 'stopped');
        t.true((await th.pc()) > 0n);
      }
      if (target.status === 'exited') break;
    }
    const r = await target.monitor();
    t.deepEqual(r.status, { code: 0 });
    t.is(fs.readFileSync(out, 'utf8'), `total ${3000 * 6}\n`);
  } finally {
    await target.close();
  }
});
