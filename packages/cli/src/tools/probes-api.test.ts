import test from 'ava';
import path from 'node:path';
import { buildFixture, run, systemTest } from '@stackdb/test-support';
import { ProbeManager, formatValue, type NamedValue, type ProbeHit, type WatchValues } from '@stackdb/core';
import { scenesPlugin } from '../test-support/scenes.js';
import { launch, markerLine, plainOutput, probeFixture, valueOf } from './test-support/probes.js';

/*
 * Core's probe layer on real processes (ptrace driver): every value a probe
 * sees is checked against what the program prints about itself, or against
 * gdb on the same binary.
 */

const probed = probeFixture('probed');

async function argsText(hit: ProbeHit, values: readonly NamedValue[]): Promise<string> {
  const fmt = { target: hit.target };
  return (await Promise.all(values.map(async (a) => `${a.name}=${await formatValue(a.value, fmt)}`))).join(', ');
}

test('entry and exit probes see the arguments and return values the program prints', async (t) => {
  const l = await launch([probed, 'calls', '3']);
  const seen: string[] = [];
  try {
    const handlers = (name: string) => ({
      pre: async (hit: ProbeHit) => {
        seen.push(`enter ${name}(${await argsText(hit, await hit.values!.args())})`);
      },
      exit: async (hit: ProbeHit) => {
        const ret = await hit.values!.returnValue();
        seen.push(`exit ${name}(${await argsText(hit, await hit.values!.args())}) = ${ret ? await formatValue(ret, { target: hit.target }) : 'void'}`);
      },
    });
    for (const name of ['add', 'describe', 'scale', 'make_point']) await l.probes.probe(name, handlers(name));
    const r = await l.target.monitor();
    t.deepEqual(r.status, { code: 0 });
    const printed = l.output();
    t.is(printed, plainOutput([probed, 'calls', '3']).replace(/0x[0-9a-f]+/g, ''), 'the program behaves as without probes');
    // Each line the program prints about a call must match what the probes saw.
    const expect: string[] = [];
    for (const line of printed.split('\n')) {
      let m = /^add\((-?\d+), (-?\d+)\) = (-?\d+)$/.exec(line);
      if (m) expect.push(`enter add(a=${m[1]}, b=${m[2]})`, `exit add(a=${m[1]}, b=${m[2]}) = ${m[3]}`);
      m = /^describe\("(.*)", (\d+)\) = "(.*)"$/.exec(line);
      if (m) expect.push(`enter describe(what="${m[1]}", n=${m[2]})`, `exit describe(what="${m[1]}", n=${m[2]}) = "${m[3]}"`);
      m = /^scale\((.*), (\d+)\) = (.*)$/.exec(line);
      if (m) expect.push(`enter scale(v=${m[1]}, k=${m[2]})`, `exit scale(v=${m[1]}, k=${m[2]}) = ${m[3]}`);
      m = /^make_point\((-?\d+), (-?\d+)\) = \{(-?\d+), (-?\d+)\}$/.exec(line);
      if (m) expect.push(`enter make_point(x=${m[1]}, y=${m[2]})`, `exit make_point(x=${m[1]}, y=${m[2]}) = {x = ${m[3]}, y = ${m[4]}}`);
    }
    t.is(expect.length, 2 * (3 * 2 + 2));
    t.deepEqual(seen.map((s) => s.replace(/0x[0-9a-f]+ /g, '')), expect);
  } finally {
    await l.target.close();
  }
});

test('a line probe fires at each execution of the line, with the enclosing function\'s arguments', async (t) => {
  const line = markerLine('probed', 'LINE_WRITE_GLOBAL');
  const l = await launch([probed, 'watch']);
  try {
    const vs: bigint[] = [];
    const p = await l.probes.probe(`probed.c:${line}`, {
      pre: async (hit) => {
        const [v] = await hit.values!.args();
        vs.push(valueOf(v!.value.bytes, true));
      },
    });
    t.is(p.points[0]!.kind, 'line');
    t.is(p.points[0]!.line, line);
    await l.target.monitor();
    t.deepEqual(vs, [1n, 2n, 3n]);
    t.regex(l.output(), /^watched 3 30$/m);
  } finally {
    await l.target.close();
  }
});

test('watchpoints on a global and on a struct member reached through pointers catch every write with its new value', async (t) => {
  const l = await launch([probed, 'watch']);
  try {
    // Before main the pointers in `root` are not relocated yet: run to main first.
    await l.probes.probe('main', { pre: () => 'stop' });
    await l.target.monitor();
    const seen: string[] = [];
    const watcher = (hit: ProbeHit) =>
      (async () => {
        const v = await (hit.values as WatchValues).watched();
        const where = await hit.values!.frame();
        seen.push(`${hit.point!.name}=${valueOf(v!.bytes, true)} in ${where.logicalFrames()[0]!.name}`);
      })();
    const g = await l.probes.probe('watched_global', { pre: watcher });
    const m = await l.probes.probe('root.in.value', { pre: watcher });
    t.is(g.points[0]!.kind, 'variable');
    t.is(g.points[0]!.watch!.size, 8);
    t.is(m.points[0]!.watch!.size, 8);
    await l.target.monitor();
    t.deepEqual(seen, ['watched_global=1 in writer', 'root.in.value=10 in writer', 'watched_global=2 in writer', 'root.in.value=20 in writer', 'watched_global=3 in writer', 'root.in.value=30 in writer']);
    t.regex(l.output(), /^watched 3 30$/m);
  } finally {
    await l.target.close();
  }
});

test('a forced return changes what the program does; a skipped call never happens', async (t) => {
  const denied = await launch([probed, 'guard']);
  try {
    await denied.target.monitor();
    t.regex(denied.output(), /access denied/);
  } finally {
    await denied.target.close();
  }
  const forced = await launch([probed, 'guard']);
  try {
    await forced.probes.probe('check_password', { pre: () => ({ action: 'return', value: 1n }) });
    await forced.target.monitor();
    t.regex(forced.output(), /^access granted$/m);
    t.notRegex(forced.output(), /check_password/, 'the function body never ran');
  } finally {
    await forced.target.close();
  }
  const skipped = await launch([probed, 'skip']);
  try {
    await skipped.probes.probe(`probed.c:${markerLine('probed', 'LINE_SKIP')}`, { pre: () => ({ action: 'skip' }) });
    await skipped.target.monitor();
    t.regex(skipped.output(), /^side effects 1$/m);
  } finally {
    await skipped.target.close();
  }
});

test('a forced return places a double in xmm0, a small struct in rax:rdx and a large one in the caller\'s buffer', async (t) => {
  const point = (x: number, y: bigint) => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, x, true);
    dv.setBigInt64(8, y, true);
    return b;
  };
  for (const entry of [false, true]) {
    const l = await launch([probed, 'calls', '1']);
    try {
      const opts = entry ? { afterPrologue: false } : {};
      await l.probes.probe('scale', { pre: () => ({ action: 'return', value: 2.25 }) }, opts);
      await l.probes.probe('make_point', { pre: () => ({ action: 'return', value: point(5, -6n) }) }, opts);
      t.deepEqual((await l.target.monitor()).status, { code: 0 });
      const out = l.output();
      t.regex(out, /^scaled 2\.25$/m, entry ? 'at entry' : 'after the prologue');
      t.regex(out, /^point 5 -6$/m);
      t.notRegex(out, /^(scale|make_point)\(/m, 'neither body ran');
    } finally {
      await l.target.close();
    }
  }
  // A struct returned in memory goes where the caller's rdi pointed: known at the first instruction only.
  const big = new Uint8Array(24);
  [1n, 2n, 3n].forEach((v, i) => new DataView(big.buffer).setBigInt64(8 * i, v, true));
  for (const entry of [true, false]) {
    const l = await launch([probed, 'calls', '1']);
    try {
      await l.probes.probe('make_big', { pre: () => ({ action: 'return', value: big }) }, entry ? { afterPrologue: false } : {});
      if (entry) {
        t.deepEqual((await l.target.monitor()).status, { code: 0 });
        t.regex(l.output(), /^big 1 2 3$/m);
      } else {
        await t.throwsAsync(l.target.monitor(), { code: 'ERR_PROBE_ACTION', message: /returned in memory, whose address is known only at the function's first instruction/ });
      }
    } finally {
      await l.target.close();
    }
  }
  const wrong = await launch([probed, 'calls', '1']);
  try {
    await wrong.probes.probe('add', { pre: () => ({ action: 'return', value: 1.5 }) });
    await t.throwsAsync(wrong.target.monitor(), { code: 'ERR_PROBE_ACTION', message: /cannot return 1\.5 from add: its type is an integer type/ });
  } finally {
    await wrong.target.close();
  }
});

test('an exit handler changes the return value; post handlers run after the probed instruction', async (t) => {
  const l = await launch([probed, 'guard']);
  try {
    let posts = 0;
    await l.probes.probe('check_password', {
      post: () => {
        posts++;
      },
      exit: () => ({ action: 'set-registers', values: { rax: 1n } }),
    });
    await l.target.monitor();
    t.is(posts, 1);
    t.regex(l.output(), /check_password\("guess"\) = 0\naccess granted/);
  } finally {
    await l.target.close();
  }
});

systemTest(test, 'an instruction probe fires once per instruction of the function, as objdump lists them', [{ command: 'objdump', package: 'binutils' }], async (t) => {
  const l = await launch([probed, 'calls', '1']);
  try {
    const pcs: bigint[] = [];
    const p = await l.probes.probe('add', { pre: (hit) => void pcs.push(hit.address) }, { instructions: true });
    await l.target.monitor();
    const bias = p.points[0]!.module!.bias;
    // add() is straight-line code: every instruction runs once; the printf it calls runs at full speed.
    const dis = run('objdump', ['-d', '--no-show-raw-insn', `--disassemble=add`, probed]);
    const listed = [...dis.matchAll(/^\s+([0-9a-f]+):\s/gm)].map((m) => BigInt(`0x${m[1]}`));
    t.true(listed.length > 5);
    t.deepEqual(pcs.map((a) => a - bias), listed);
    t.regex(l.output(), /add\(0, 0\) = 0/);
  } finally {
    await l.target.close();
  }
});

systemTest(test, 'a probe on an inlined function sits on every inlined copy, where gdb puts its breakpoints', [{ command: 'gdb', package: 'gdb' }], async (t) => {
  const inlined = probeFixture('inlined', ['-O2']);
  const gdb = run('gdb', ['-batch', '-nx', '-ex', 'break square', '-ex', 'info breakpoints', inlined]);
  const gdbAddrs = [...gdb.matchAll(/^\d+\.\d+\s+y\s+(0x[0-9a-f]+)/gm)].map((m) => BigInt(m[1]!)).sort((a, b) => (a < b ? -1 : 1));
  t.is(gdbAddrs.length, 3);
  const l = await launch([inlined, '5']);
  try {
    let hits = 0;
    const statuses: string[] = [];
    const p = await l.probes.probe('square', {
      pre: async (hit) => {
        hits++;
        const [x] = await hit.values!.args();
        statuses.push(x!.value.status);
      },
    });
    t.is(p.points[0]!.kind, 'inlined');
    const bias = p.points[0]!.module!.bias;
    t.deepEqual(p.points[0]!.addresses.map((a) => a - bias).sort((a, b) => (a < b ? -1 : 1)), gdbAddrs);
    await l.target.monitor();
    t.is(hits, 3);
    // gdb says x=<optimized out> at these entries too.
    t.deepEqual(statuses, ['optimized-out', 'optimized-out', 'optimized-out']);
    t.is(l.output(), '26 38 48\n');
  } finally {
    await l.target.close();
  }
});

test('hardware breakpoints work until the debug slots run out, with a clear error', async (t) => {
  const l = await launch([probed, 'calls', '2']);
  try {
    let hits = 0;
    await l.probes.probe('add', { pre: () => void hits++ }, { kind: 'hardware' });
    for (const name of ['describe', 'scale', 'make_point']) await l.probes.probe(name, { pre: () => undefined }, { kind: 'hardware' });
    const err = await t.throwsAsync(l.probes.probe('check_password', { pre: () => undefined }, { kind: 'hardware' }));
    t.is((err as { code?: string }).code, 'ERR_NO_HW_SLOTS');
    t.regex(err!.message, /all 4 hardware debug slots .* are in use/);
    await l.target.monitor();
    t.is(hits, 2);
  } finally {
    await l.target.close();
  }
});

test('probes on probes filter by value and by thread; thread filters restrict a probe', async (t) => {
  const threads8 = probeFixture('threads8');
  const l = await launch([threads8, '50']);
  try {
    const base = await l.probes.probe('hit', { pre: () => undefined });
    const manager = ProbeManager.for(l.target);
    let third = 0;
    // Only hits whose `thread` argument is 3.
    manager.onProbes(base.probes, { pre: () => void third++ }, {
      filter: async (hit) => valueOf((await hit.source!.values!.args())[0]!.value.bytes) === 3n,
    });
    // Only the thread that hit first.
    let firstTid: number | undefined;
    let sameThread = 0;
    manager.onProbes(base.probes, {
      pre: (hit) => {
        if (firstTid !== undefined) return;
        firstTid = hit.thread.tid;
        manager.onProbes(base.probes, { pre: () => void sameThread++ }, { threads: { tids: [hit.thread.tid] } });
      },
    });
    await l.target.monitor();
    t.is(base.hits, 400);
    t.is(third, 50);
    t.is(sameThread, 50, 'the filtered probe saw every hit of its thread, from the one that created it');
    t.regex(l.output(), /^calls 400$/m);
  } finally {
    await l.target.close();
  }
});

test('a handler that throws ends the monitor with its error and leaves no trap behind', async (t) => {
  const l = await launch([probed, 'calls', '3']);
  try {
    let n = 0;
    await l.probes.probe('add', {
      pre: () => {
        if (++n === 2) throw new Error('handler failure');
      },
    });
    await t.throwsAsync(l.target.monitor(), { message: 'handler failure' });
    t.true(l.target.swBreakpoints.addresses().length > 0);
  } finally {
    await l.target.close();
  }
  // Detached with its traps removed, the program finished on its own.
  for (let i = 0; i < 100 && !/point 7 -9/.test(l.output()); i++) await new Promise((r) => setTimeout(r, 20));
  t.is(l.output(), plainOutput([probed, 'calls', '3']).replace(/0x[0-9a-f]+/g, ''));
});

test('probes by name resolve OBJECT:NAME and FILE.c:NAME, and say clearly what is missing', async (t) => {
  const l = await launch([probed, 'calls', '1']);
  try {
    await l.probes.probe('main', { pre: () => 'stop' });
    await l.target.monitor();
    const libc = await l.probes.resolve('libc.so.6:puts');
    t.is(libc[0]!.module!.name, 'libc.so.6');
    t.is(libc[0]!.kind, 'function');
    const inFile = await l.probes.resolve('probed.c:add');
    t.is(inFile[0]!.function!.name, 'add');
    await t.throwsAsync(l.probes.resolve('no_such_function'), { code: 'ERR_LOOKUP', message: 'no function or variable named no_such_function' });
    await t.throwsAsync(l.probes.resolve('nowhere.so:add'), { code: 'ERR_LOOKUP', message: /no loaded object or source file named nowhere.so/ });
    await t.throwsAsync(l.probes.resolve('other.c:add'), { code: 'ERR_LOOKUP', message: 'no function or variable named add in other.c' });
  } finally {
    await l.target.kill();
    await l.target.close();
  }
});


systemTest(test, 'functions are probed where gdb puts `break FUNC`: after the prologue at -O0, at the entry of optimized code', [{ command: 'gdb', package: 'gdb' }], async (t) => {
  const cases: [string, string[]][] = [
    [probed, ['add', 'scale', 'describe', 'make_point', 'check_password', 'side_effect', 'writer', 'main']],
    [probeFixture('inlined', ['-O2']), ['one', 'two', 'three', 'main']],
  ];
  for (const [file, names] of cases) {
    const gdb = run('gdb', ['-batch', '-nx', ...names.flatMap((n) => ['-ex', `break ${n}`]), file]);
    const gdbAt = [...gdb.matchAll(/^Breakpoint \d+ at (0x[0-9a-f]+)/gm)].map((m) => BigInt(m[1]!));
    t.is(gdbAt.length, names.length);
    const l = await launch([file]);
    try {
      const ours: bigint[] = [];
      for (const n of names) {
        const [p] = await l.probes.resolve(n);
        ours.push(p!.addresses[0]! - p!.module!.bias);
      }
      t.deepEqual(ours, gdbAt, file);
    } finally {
      await l.target.kill();
      await l.target.close();
    }
  }
});

systemTest(test, 'hardware slots are managed per thread: four on one thread do not take another thread\'s four', [{ command: 'objdump', package: 'binutils' }], async (t) => {
  const threads8 = probeFixture('threads8');
  const l = await launch([threads8, '20']);
  try {
    const first = await l.probes.probe('hit', { pre: () => 'stop' });
    await l.target.monitor();
    await first.remove();
    const bias = first.points[0]!.module!.bias;
    const workers = (await l.target.threads()).filter((th) => th.tid !== (l.target as unknown as { pid: number }).pid);
    t.is(workers.length, 8);
    const [a, b] = workers;
    const insns = [...run('objdump', ['-d', '--no-show-raw-insn', '--disassemble=hit', threads8]).matchAll(/^\s+([0-9a-f]+):\s/gm)].map((m) => BigInt(`0x${m[1]}`) + bias);
    t.true(insns.length >= 8);
    const manager = ProbeManager.for(l.target);
    const counts = new Map<number, number>();
    const count = (hit: ProbeHit) => void counts.set(hit.thread.tid, (counts.get(hit.thread.tid) ?? 0) + 1);
    for (const [i, th] of [[0, a!], [4, b!]] as const) {
      for (let k = 0; k < 4; k++) await manager.breakpoint(insns[i + k]!, { pre: count }, { kind: 'hardware', threads: { tids: [th.tid] } });
    }
    t.is(l.target.hwSlots.free(a!.tid), 0);
    t.is(l.target.hwSlots.free(workers[2]!.tid), 4);
    await t.throwsAsync(manager.breakpoint(insns[8] ?? insns[0]! + 1n, { pre: count }, { kind: 'hardware', threads: { tids: [a!.tid] } }), { code: 'ERR_NO_HW_SLOTS', message: new RegExp(`slots of thread ${a!.tid} of`) });
    await t.throwsAsync(manager.breakpoint(insns[8] ?? insns[0]! + 1n, { pre: count }, { kind: 'hardware' }), { code: 'ERR_NO_HW_SLOTS' });
    await l.target.monitor();
    // The thread that stopped first had its call of hit() under way: it may miss some of its first call's instructions.
    t.true(counts.get(a!.tid)! >= 4 * 19 && counts.get(a!.tid)! <= 4 * 20);
    t.true(counts.get(b!.tid)! >= 4 * 19 && counts.get(b!.tid)! <= 4 * 20);
    t.is(counts.size, 2);
    t.regex(l.output(), /^calls 160$/m);
  } finally {
    await l.target.close();
  }
});

systemTest(test, 'step and write-memory actions: post handlers see the pc N instructions later; memory written by a handler is what the program sees', [{ command: 'objdump', package: 'binutils' }], async (t) => {
  const l = await launch([probed, 'calls', '1']);
  try {
    const posts: bigint[] = [];
    const p = await l.probes.probe('add', { pre: () => ({ action: 'step', count: 3 }), post: async (hit) => void posts.push(await hit.thread.pc()) });
    await l.target.monitor();
    const bias = p.points[0]!.module!.bias;
    const listed = [...run('objdump', ['-d', '--no-show-raw-insn', '--disassemble=add', probed]).matchAll(/^\s+([0-9a-f]+):\s/gm)].map((m) => BigInt(`0x${m[1]}`));
    const at = listed.indexOf(p.points[0]!.addresses[0]! - bias);
    t.true(at > 0);
    t.deepEqual(posts.map((pc) => pc - bias), [listed[at + 3]!]);
    t.regex(l.output(), /add\(0, 0\) = 0/);
  } finally {
    await l.target.close();
  }
  const s = await launch([probed, 'skip']);
  try {
    await s.probes.probe('main', { pre: () => 'stop' });
    await s.target.monitor();
    const [counter] = await s.probes.resolve('side_effects');
    const address = counter!.watch!.address;
    await s.probes.probe('side_effect', {
      pre: async (hit) => {
        const now = await hit.target.readUnsigned(address, 4);
        return { action: 'write-memory', address, bytes: Uint8Array.of(Number(now + 10n), 0, 0, 0) };
      },
    });
    await s.target.monitor();
    t.regex(s.output(), /^side effects 22$/m);
  } finally {
    await s.target.close();
  }
});

test('a pending probe waits for the library that defines it: placed at each dlopen, waiting again after each dlclose', async (t) => {
  // dlopen-rounds loads the plugin, calls plugin_entry(round) → plugin_inner(round + 1), unloads it; twice.
  const prog = buildFixture({ name: 'dlopen-rounds', sources: ['packages/cli/test/dlopen-rounds.c'], flags: ['-g', '-O0'] });
  const plugin = scenesPlugin();
  const l = await launch([prog, plugin]);
  try {
    await t.throwsAsync(l.probes.probe('plugin_inner', { pre: () => undefined }), { code: 'ERR_LOOKUP' }, 'not loaded yet');
    const seen: string[] = [];
    const sp = await l.probes.probe('plugin_inner', {
      pre: async (hit) => {
        const v = (await hit.values!.args()).find((a) => a.name === 'v');
        const lib = sp.libraries[0];
        seen.push(`v=${v ? await formatValue(v.value, { target: hit.target }) : '?'} in ${lib ? path.basename(lib.path) : '?'}`);
      },
    }, { pending: true });
    t.true(sp.waiting);
    // A pending probe on what is loaded already is placed at once, and stays through the unloads.
    const inProgram = await l.probes.probe('called_back', { pre: () => undefined }, { pending: true });
    t.false(inProgram.waiting);
    t.deepEqual(inProgram.libraries, [undefined]);
    const r = await l.target.monitor();
    t.deepEqual(r.status, { code: 0 }, 'the program ran to its end: no trap was left in the unloaded library');
    t.deepEqual(seen, [`v=1 in ${path.basename(plugin)}`, `v=2 in ${path.basename(plugin)}`]);
    t.true(sp.waiting, 'waiting again after the last dlclose');
    t.is(inProgram.hits, 2);
  } finally {
    await l.target.close();
  }
});
