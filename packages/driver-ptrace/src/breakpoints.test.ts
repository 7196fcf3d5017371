import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { run } from '@stackdb/test-support';
import { ProbeManager, type StopEvent } from '@stackdb/core';
import { PtraceTarget } from './index.js';
import { fixture, nmAddress, nmSize, runtimeAddress, tmpDir } from './test-support/harness.js';

const loop = fixture('loop');
const watch = fixture('watch');

/** The lines of the loop fixture that do not depend on address-space layout. */
function stable(out: string): string {
  return out.split('\n').filter((l) => !/^(self|global) /.test(l)).join('\n');
}

test('a breakpoint hit 10,000 times in a tight loop leaves the program output unchanged', async (t) => {
  const plain = run(loop, ['10000']);
  const out = path.join(tmpDir(), 'out');
  const target = PtraceTarget.launch([loop, '10000'], { stdout: out });
  await target.open();
  try {
    const tick = await runtimeAddress(target, loop, 'tick');
    await target.swBreakpoints.insert(tick);
    let hits = 0;
    target.addStopHandler({
      async handleStop(_target, ev) {
        if (ev.kind !== 'breakpoint' || ev.address !== tick) return undefined;
        hits++;
        return { consumed: true };
      },
    });
    const r = await target.monitor();
    t.is(r.reason, 'exited');
    t.deepEqual(r.status, { code: 0 });
    t.is(hits, 10_000);
    t.is(stable(fs.readFileSync(out, 'utf8')), stable(plain));
  } finally {
    await target.close();
  }
});

test('single-stepping from a breakpoint walks the function to its return address', async (t) => {
  const target = PtraceTarget.launch([loop, '1'], { stdout: '/dev/null' });
  await target.open();
  try {
    const probe = await runtimeAddress(target, loop, 'probe_me');
    await target.swBreakpoints.insert(probe);
    await target.resume();
    const { events } = await target.wait();
    const hit = events.find((e) => e.kind === 'breakpoint');
    t.truthy(hit);
    const th = await target.thread(hit!.tid);
    t.is(await th.pc(), probe, 'the pc is set back to the breakpoint');
    t.is(await th.register('rdi'), 41n);
    const ret = await target.readPointer(await th.sp());
    let steps = 0;
    let pc = probe;
    while (pc !== ret && steps < 16) {
      const ev = await target.step(th);
      t.true(ev.some((e) => e.kind === 'step'));
      pc = await th.pc();
      steps++;
    }
    t.is(pc, ret, 'stepping the ret lands on the return address read from the stack');
    t.true(steps >= 2);
    const r = await target.monitor();
    t.deepEqual(r.status, { code: 0 });
  } finally {
    await target.close();
  }
});

test('a hardware watchpoint catches every write, and a read/write one the read as well', async (t) => {
  for (const access of ['write', 'readwrite'] as const) {
    const target = PtraceTarget.launch([watch], { stdout: '/dev/null' });
    await target.open();
    try {
      const watched = await runtimeAddress(target, watch, 'watched');
      const writer = await runtimeAddress(target, watch, 'writer');
      const reader = await runtimeAddress(target, watch, 'reader');
      const inside = (pc: bigint, start: bigint, sym: string) => pc > start && pc < start + nmSize(watch, sym);
      const slot = await target.hwSlots.allocate({ address: watched, access, length: 8 });
      const seen: { value: bigint; inWriter: boolean; inReader: boolean }[] = [];
      target.addStopHandler({
        async handleStop(tg, ev) {
          if (ev.kind !== 'hw-debug') return undefined;
          t.is(ev.slot, slot);
          t.is(ev.address, watched);
          const pc = await (await tg.thread(ev.tid)).pc();
          seen.push({ value: await tg.readUnsigned(watched, 8), inWriter: inside(pc, writer, 'writer'), inReader: inside(pc, reader, 'reader') });
          return { consumed: true };
        },
      });
      const r = await target.monitor();
      t.deepEqual(r.status, { code: 0 });
      t.deepEqual(seen.filter((s) => s.inWriter).map((s) => s.value), [10n, 20n, 30n, 40n, 50n]);
      t.is(seen.filter((s) => s.inReader).length, access === 'readwrite' ? 1 : 0);
      t.is(seen.length, access === 'readwrite' ? 6 : 5);
    } finally {
      await target.close();
    }
  }
});

test('a hardware execute breakpoint is reported and stepped over; -s refuses it', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const target = PtraceTarget.launch([loop, '3'], { stdout: out });
  await target.open();
  try {
    const probe = await runtimeAddress(target, loop, 'probe_me');
    await target.hwSlots.allocate({ address: probe, access: 'exec', length: 1 });
    const events: StopEvent[] = [];
    target.addStopHandler({
      async handleStop(_tg, ev) {
        if (ev.kind === 'hw-debug') events.push(ev);
        return undefined;
      },
    });
    const r = await target.monitor();
    t.deepEqual(r.status, { code: 0 });
    t.is(events.length, 1);
    t.like(events[0], { kind: 'hw-debug', access: 'exec', address: probe });
    t.regex(fs.readFileSync(out, 'utf8'), /probe 42/);
  } finally {
    await target.close();
  }
  const soft = PtraceTarget.launch([loop, '1'], { stdout: '/dev/null', softBreakpoints: true });
  await soft.open();
  try {
    await t.throwsAsync(soft.hwSlots.allocate({ address: nmAddress(loop, 'probe_me'), access: 'exec', length: 1 }), { code: 'ERR_SOFT_BREAKPOINTS' });
  } finally {
    await soft.kill();
    await soft.close();
  }
});

test("core's probe layer on this driver: pre/post handlers, register actions, a function-return probe", async (t) => {
  const out = path.join(tmpDir(), 'out');
  const target = PtraceTarget.launch([loop, '2'], { stdout: out });
  await target.open();
  try {
    const probes = ProbeManager.for(target);
    const probe = await runtimeAddress(target, loop, 'probe_me');
    let posts = 0;
    let returned: bigint | undefined;
    await probes.breakpoint(probe, {
      pre: () => ({ action: 'set-registers', values: { rdi: 99n } }),
      post: () => {
        posts++;
      },
    });
    await probes.functionReturn(probe, {
      exit: async (hit) => {
        returned = await hit.thread.register('rax');
      },
    });
    const r = await target.monitor();
    t.deepEqual(r.status, { code: 0 });
    t.is(posts, 1);
    t.is(returned, 100n);
    t.regex(fs.readFileSync(out, 'utf8'), /probe 100\n/);
  } finally {
    await target.close();
  }
});
