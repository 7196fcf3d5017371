import test from 'ava';
import { monitor, type Target } from '@stackdb/core';
import { launch, plainOutput, probeFixture, valueOf } from './test-support/probes.js';

/*
 * Probes across threads and processes on real programs: concurrent hits,
 * many probes, several targets monitored together, fork children inheriting
 * probes (ctlmux's inheritance), exec clearing or re-placing them. Counts are
 * compared with the programs' own.
 */

const forker = probeFixture('forker');

/** `PID work N` lines of the output, by pid. */
function workByPid(out: string): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const x of out.matchAll(/^(\d+) work (-?\d+)$/gm)) {
    const pid = Number(x[1]);
    m.set(pid, [...(m.get(pid) ?? []), Number(x[2])]);
  }
  return m;
}

test('the same probe hit concurrently by 8 threads: no hit is lost', async (t) => {
  const threads8 = probeFixture('threads8');
  const l = await launch([threads8, '300']);
  try {
    const perThread = new Map<number, number>();
    const perArg = new Map<bigint, number>();
    await l.probes.probe('hit', {
      pre: async (hit) => {
        perThread.set(hit.thread.tid, (perThread.get(hit.thread.tid) ?? 0) + 1);
        const [thread] = await hit.values!.args();
        const id = valueOf(thread!.value.bytes);
        perArg.set(id, (perArg.get(id) ?? 0) + 1);
      },
    });
    // Thread filters by parent: every worker was created by the main thread.
    const pid = (l.target as Target & { pid: number }).pid;
    let children = 0;
    let others = 0;
    await l.probes.probe('hit', { pre: () => void children++ }, { threads: { parent: pid } });
    await l.probes.probe('hit', { pre: () => void others++ }, { threads: { parent: pid + 100000 } });
    const r = await l.target.monitor();
    t.deepEqual(r.status, { code: 0 });
    t.is(children, 8 * 300);
    t.is(others, 0);
    const printed = Number(/^calls (\d+)$/m.exec(l.output())![1]);
    t.is(printed, 8 * 300);
    t.is([...perThread.values()].reduce((a, b) => a + b, 0), printed);
    t.is(perThread.size, 8);
    t.deepEqual([...perArg.entries()].sort((a, b) => Number(a[0] - b[0])), Array.from({ length: 8 }, (_, i) => [BigInt(i), 300] as [bigint, number]));
  } finally {
    await l.target.close();
  }
});

test('100 probes on 100 functions each fire once and leave the result unchanged', async (t) => {
  const many = probeFixture('many');
  const l = await launch([many]);
  try {
    const returned: bigint[] = new Array(100);
    const probes = [];
    for (let i = 0; i < 100; i++) {
      probes.push(await l.probes.probe(`f${i}`, { exit: async (hit) => void (returned[i] = valueOf((await hit.values!.returnValue())!.bytes)) }));
    }
    t.is(l.target.swBreakpoints.addresses().length, 100);
    await l.target.monitor();
    t.deepEqual(probes.map((p) => p.hits), new Array(100).fill(1));
    t.deepEqual(returned, Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));
    t.is(l.output(), plainOutput([many]));
  } finally {
    await l.target.close();
  }
});

test('two processes monitored at once, each with its own probes', async (t) => {
  const probed = probeFixture('probed');
  const a = await launch([probed, 'calls', '4']);
  const b = await launch([probed, 'calls', '2']);
  try {
    const hits = new Map<Target, bigint[]>([[a.target, []], [b.target, []]]);
    for (const l of [a, b]) {
      await l.probes.probe('add', { pre: async (hit) => void hits.get(hit.target)!.push(valueOf((await hit.values!.args())[0]!.value.bytes)) });
    }
    const r = await monitor([a.target, b.target]);
    t.is(r.reason, 'exited');
    t.deepEqual(r.results.get(a.target)?.status, { code: 0 });
    t.deepEqual(r.results.get(b.target)?.status, { code: 0 });
    t.deepEqual(hits.get(a.target), [0n, 1n, 2n, 3n]);
    t.deepEqual(hits.get(b.target), [0n, 1n]);
  } finally {
    await a.target.close();
    await b.target.close();
  }
});

test('a handler asking to stop stops the whole group; the others are paused, not lost', async (t) => {
  const probed = probeFixture('probed');
  const a = await launch([probed, 'calls', '50']);
  const b = await launch([probed, 'calls', '3']);
  try {
    let bHits = 0;
    await a.probes.probe('describe', { pre: () => 'stop' });
    await b.probes.probe('add', { pre: () => void bHits++ });
    const r = await monitor([a.target, b.target]);
    t.is(r.reason, 'stopped');
    t.is(r.stoppedBy, a.target);
    t.is(a.target.status, 'paused');
    t.true(b.target.status === 'paused' || b.target.status === 'exited');
    const again = await monitor([b.target]);
    t.is(again.reason, 'exited');
    t.is(bHits, 3);
  } finally {
    await a.target.kill();
    await a.target.close();
    await b.target.close();
  }
});

test('fork children inherit the probes when asked (and only then), and their hits are their own', async (t) => {
  for (const inherit of [true, false]) {
    const l = await launch([forker, 'fork', '3']);
    try {
      await l.target.followForks({ inheritProbes: inherit });
      const seen = new Map<number, number[]>();
      const children: Target[] = [];
      l.target.on('fork', ({ child }) => child && children.push(child));
      await l.probes.probe('work', {
        pre: async (hit) => {
          const pid = (hit.target as Target & { pid?: number }).pid!;
          seen.set(pid, [...(seen.get(pid) ?? []), Number(valueOf((await hit.values!.args())[0]!.value.bytes, true))]);
        },
      });
      const r = await monitor([l.target]);
      t.is(r.reason, 'exited');
      t.is(children.length, 1);
      t.is(r.results.size, 2, 'the child joined the monitored group');
      const printed = workByPid(l.output());
      const [parentPid, childPid] = [...printed.keys()];
      t.deepEqual(printed.get(childPid!), [100, 101, 102]);
      t.deepEqual(seen.get(parentPid!), [0, 1, 2, 999]);
      if (inherit) t.deepEqual(seen.get(childPid!), [100, 101, 102]);
      else t.false(seen.has(childPid!));
      t.regex(l.output(), new RegExp(`child ${childPid} status 0`));
      for (const c of children) await c.close();
    } finally {
      await l.target.close();
    }
  }
});

test('a child that execs loses its inherited probes; a process asking for re-resolution gets them placed again', async (t) => {
  const l = await launch([forker, 'forkexec', '2']);
  try {
    await l.target.followForks({ inheritProbes: true });
    const seen: number[] = [];
    await l.probes.probe('work', { pre: async (hit) => void seen.push(Number(valueOf((await hit.values!.args())[0]!.value.bytes, true))) });
    const r = await monitor([l.target]);
    t.is(r.reason, 'exited');
    const printed = workByPid(l.output());
    t.deepEqual([...printed.values()], [[0, 1, 999], [1000, 1001]], 'the exec\'d child ran normally');
    t.deepEqual(seen, [0, 1, 999], 'no hit in the new image');
    for (const c of l.target.childTargets()) await c.close();
  } finally {
    await l.target.close();
  }
  for (const reResolve of [false, true]) {
    const self = await launch([forker, 'execself', '2']);
    try {
      const seen: number[] = [];
      await self.probes.probe('work', { pre: async (hit) => void seen.push(Number(valueOf((await hit.values!.args())[0]!.value.bytes, true))) }, { reResolve });
      await self.target.monitor();
      t.deepEqual(seen, reResolve ? [-1, 1000, 1001] : [-1]);
      t.deepEqual([...workByPid(self.output()).values()], [[-1, 1000, 1001]]);
    } finally {
      await self.target.close();
    }
  }
});
