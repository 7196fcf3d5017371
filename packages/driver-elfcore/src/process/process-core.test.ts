import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { CfiStepper, ProgramSymbols, Walker } from '@stackdb/core';
import { suite } from '@stackdb/core/conformance';
import { missing, systemTest, type Need } from '@stackdb/test-support';
import { createCoreTarget } from '../create.js';
import { CoreMemoryError } from '../errors.js';
import { ProcessCoreTarget } from './process-core-target.js';
import { KERNEL_CORES, gdbOnCore, makeGcore, makeKernelCore, threadsFixture, type TestCore } from '../test-support/cores.js';
import { backtrace, examineWords, mappings, perThread, printed, registers, threadIds, words, type GdbFrame } from '../test-support/gdb.js';

/*
 * Process cores of the threads fixture, made by gcore and by the kernel, read
 * by this driver and by gdb; everything gdb shows must agree.
 */

type Kind = 'gcore' | 'kernel';
const GDB: Need[] = [{ command: 'gdb', package: 'gdb' }, { command: 'gcc', package: 'gcc' }];
const NEEDS: Record<Kind, Need[]> = {
  gcore: [...GDB, { command: 'gcore', package: 'gdb' }],
  kernel: [...GDB, KERNEL_CORES],
};

/** Facts gdb reports about one core. */
interface GdbView {
  readonly tids: number[];
  readonly regs: Map<number, Map<string, bigint>>;
  readonly xmm1: Map<number, bigint>;
  readonly stack: Map<number, Map<bigint, bigint[]>>;
  readonly code: Map<number, Map<bigint, bigint[]>>;
  readonly addr: { counter: bigint; marker: bigint; pattern: bigint; main: bigint };
  readonly globals: Map<bigint, bigint[]>;
  readonly mappings: ReturnType<typeof mappings>;
  readonly backtraces: Map<number, GdbFrame[]>;
}

const made = new Map<Kind, Promise<{ core: TestCore; gdb: GdbView }>>();

function coreOf(kind: Kind): Promise<{ core: TestCore; gdb: GdbView }> {
  let p = made.get(kind);
  if (!p) {
    p = (async () => {
      const exe = threadsFixture();
      const core = kind === 'gcore' ? await makeGcore(exe) : await makeKernelCore(exe);
      return { core, gdb: gdbView(core) };
    })();
    made.set(kind, p);
  }
  return p;
}

function gdbView(c: TestCore): GdbView {
  const a = gdbOnCore(c.exe, c.core, [
    'info threads',
    'thread apply all info registers',
    'thread apply all info registers float',
    'thread apply all info registers fs_base gs_base mxcsr',
  ]);
  const b = gdbOnCore(c.exe, c.core, ['thread apply all p/x $xmm1.uint128', 'thread apply all x/8gx $sp', 'thread apply all x/2gx $pc']);
  const bt = new Map([...perThread(gdbOnCore(c.exe, c.core, ['thread apply all bt']))].map(([tid, block]) => [tid, backtrace(block)]));
  const [counter, marker, pattern, main] = printed(gdbOnCore(c.exe, c.core, ['p/x &fixture_counter', 'p/x &fixture_marker', 'p/x &fixture_pattern', 'p/x &main']));
  const g = gdbOnCore(c.exe, c.core, [
    'x/2gx &fixture_counter',
    'x/4gx &fixture_marker',
    'x/4gx (char *)&fixture_pattern + 4088',
    'x/2gx &main',
    'info proc mappings',
  ]);
  const regs = new Map<number, Map<string, bigint>>();
  for (const [tid, block] of perThread(a)) regs.set(tid, registers(block));
  const xmm1 = new Map<number, bigint>();
  const stack = new Map<number, Map<bigint, bigint[]>>();
  const code = new Map<number, Map<bigint, bigint[]>>();
  for (const [tid, block] of perThread(b)) {
    const [x] = printed(block);
    if (x !== undefined) xmm1.set(tid, x);
    const w = examineWords(block);
    const sp = regs.get(tid)!.get('rsp')!;
    const pc = regs.get(tid)!.get('rip')!;
    stack.set(tid, new Map([...w].filter(([addr]) => addr >= sp && addr < sp + 64n)));
    code.set(tid, new Map([...w].filter(([addr]) => addr === pc)));
  }
  return { tids: threadIds(a), regs, xmm1, stack, code, addr: { counter: counter!, marker: marker!, pattern: pattern!, main: main! }, globals: examineWords(g), mappings: mappings(g), backtraces: bt };
}

async function open(kind: Kind, opts: { exe?: string } = {}): Promise<{ target: ProcessCoreTarget; core: TestCore; gdb: GdbView }> {
  const { core, gdb } = await coreOf(kind);
  const target = await createCoreTarget(core.core, opts);
  if (!(target instanceof ProcessCoreTarget)) throw new Error(`${core.core} was not read as a process core`);
  await target.open();
  return { target, core, gdb };
}

test.after.always(async () => {
  for (const p of made.values()) {
    const c = await p.catch(() => undefined);
    if (c) fs.rmSync(c.core.dir, { recursive: true, force: true });
  }
});

for (const kind of ['gcore', 'kernel'] as const) {
  const needs = NEEDS[kind];

  systemTest(test, `${kind} core: threads and all their registers agree with gdb`, needs, async (t) => {
    const { target, gdb } = await open(kind);
    try {
      t.deepEqual(target.problems.map((p) => p.message), []);
      const threads = await target.threads();
      t.deepEqual(threads.map((th) => th.tid).sort(), [...gdb.tids].sort());
      t.is(threads.length, 4, 'main thread and three workers');
      for (const th of threads) {
        const ours = await th.registers();
        const theirs = gdb.regs.get(th.tid)!;
        let compared = 0;
        for (const [name, value] of theirs) {
          const desc = target.arch.findRegister(name);
          if (!desc) continue;
          t.is(ours.get(desc), value, `thread ${th.tid} ${name}`);
          compared++;
        }
        t.true(compared >= 37, `thread ${th.tid}: ${compared} registers compared`);
        t.is(ours.get('xmm1'), gdb.xmm1.get(th.tid), `thread ${th.tid} xmm1`);
      }
      t.is(threads.find((th) => th.tid === target.pid)?.name, 'elfcore-threads');
    } finally {
      await target.close();
    }
  });

  systemTest(test, `${kind} core: memory agrees with gdb (globals, every stack, text the core left out)`, needs, async (t) => {
    const { target, gdb } = await open(kind);
    try {
      for (const [addr, expected] of gdb.globals) {
        t.deepEqual(words(await target.read(addr, expected.length * 8)), expected, `memory at 0x${addr.toString(16)}`);
      }
      t.is(new TextDecoder().decode(await target.read(gdb.addr.marker, 23)), 'stackdb-elfcore-fixture');
      t.is(await target.readUnsigned(gdb.addr.counter, 8), 0x1122334455667788n);
      // .bss crossing pages, filled at run time.
      const pattern = await target.read(gdb.addr.pattern, 3 * 4096 + 123);
      t.true(pattern.every((b, i) => b === ((i * 7 + 3) & 0xff)), 'fixture_pattern');
      for (const th of await target.threads()) {
        for (const [addr, expected] of gdb.stack.get(th.tid)!) t.deepEqual(words(await target.read(addr, expected.length * 8)), expected, `stack of ${th.tid} at 0x${addr.toString(16)}`);
        const code = [...gdb.code.get(th.tid)!];
        t.is(code.length, 1, `gdb showed the code at the pc of ${th.tid}`);
        for (const [addr, expected] of code) t.deepEqual(words(await target.read(addr, expected.length * 8)), expected, `code of ${th.tid} at 0x${addr.toString(16)}`);
      }
    } finally {
      await target.close();
    }
  });

  systemTest(test, `${kind} core: every thread's backtrace (core's walker with DWARF CFI) agrees with gdb's thread apply all bt`, needs, async (t) => {
    const { target, gdb } = await open(kind);
    try {
      const program = new ProgramSymbols(target);
      const walker = new Walker(target, { symbols: program, steppers: [new CfiStepper(program)] });
      const own = new Set(['park', 'level2', 'level1', 'worker', 'main_wait', 'main']);
      for (const th of await target.threads()) {
        const stack = await walker.walkStack(th);
        const theirs = gdb.backtraces.get(th.tid)!;
        t.true(theirs.length >= 3, `gdb unwound thread ${th.tid}`);
        // gdb stops at main (backtrace past-main off); our walk goes on to _start.
        t.true(stack.frames.length >= theirs.length, `thread ${th.tid}: ${stack.frames.length} frames, gdb ${theirs.length}`);
        for (const [i, g] of theirs.entries()) {
          const f = stack.frames[i]!;
          if (g.pc !== undefined) t.is(f.pc, g.pc, `thread ${th.tid} frame ${i} (${g.name})`);
          if (own.has(g.name)) t.is((await program.symbolAt(f.lookupPc))?.name, g.name, `thread ${th.tid} frame ${i}`);
        }
      }
    } finally {
      await target.close();
    }
  });

  systemTest(test, `${kind} core: regions and mapped files agree with gdb's info proc mappings; modules have their load biases`, needs, async (t) => {
    const { target, core, gdb } = await open(kind);
    try {
      const regions = await target.regions();
      for (const m of gdb.mappings) {
        const r = regions.find((x) => x.start === m.start);
        t.truthy(r, `a region at 0x${m.start.toString(16)}`);
        t.deepEqual(r && { end: r.end, offset: r.offset, path: r.path }, { end: m.end, offset: m.offset, path: m.path });
      }
      t.is(regions.filter((r) => r.path?.startsWith('/')).length, gdb.mappings.length);
      t.truthy(regions.find((r) => r.path === '[stack]'));
      t.truthy(regions.find((r) => r.path === '[vdso]'));

      t.deepEqual(target.executable, { path: core.exe, localPath: core.exe });
      const files = target.mappedFiles();
      t.deepEqual(new Set(files.map((f) => f.path)), new Set(gdb.mappings.map((m) => m.path)));
      for (const f of files) {
        t.true(f.usable, `${f.path} stands in for omitted memory`);
        t.regex(f.buildId ?? '', /^[0-9a-f]{40}$/, `${f.path} has a build-id in the core`);
        t.is(f.buildId, f.fileBuildId);
      }

      const modules = await target.modules();
      const main = modules.find((m) => m.main);
      t.is(main?.path, core.exe);
      // The fixture is PIE: its first mapping (offset 0) is its load bias.
      t.is(main?.bias, gdb.mappings.find((m) => m.path === core.exe && m.offset === 0n)!.start);
      t.truthy(modules.find((m) => m.name === 'libc.so.6'));
    } finally {
      await target.close();
    }
  });

  systemTest(test, `${kind} core: process, signal and auxiliary vector`, needs, async (t) => {
    const { target, core } = await open(kind);
    try {
      t.is(target.pid, core.pid);
      t.is(target.process?.fname, 'elfcore-threads');
      t.is(target.process?.pid, core.pid);
      if (kind === 'kernel') t.like(target.signal, { tid: core.pid, signo: 11 });
      else t.is(target.signal, undefined);
      t.is(target.auxv.get(6), 4096n, 'AT_PAGESZ');
      t.is(target.coreThreads().length, 4);
      t.true(target.coreThreads().every((th) => th.fpregs !== undefined && th.xstate !== undefined));
    } finally {
      await target.close();
    }
  });

  systemTest(test, `${kind} core: read-only; unreadable memory says why`, needs, async (t) => {
    const { target, gdb } = await open(kind);
    try {
      await t.throwsAsync(target.write(gdb.addr.counter, Uint8Array.of(1)), { code: 'ERR_NOT_SUPPORTED' });
      await t.throwsAsync(target.resume(), { code: 'ERR_NOT_SUPPORTED' });
      await t.throwsAsync(target.swBreakpoints.insert(gdb.addr.main), { code: 'ERR_NOT_SUPPORTED' });
      await t.throwsAsync(target.hwSlots.clearAll().then(() => target._setHwDebug(0, null)), { code: 'ERR_NOT_SUPPORTED' });
      const [th] = await target.threads();
      await t.throwsAsync(th!.setRegister('rax', 1n), { code: 'ERR_NOT_SUPPORTED' });
      const err = await t.throwsAsync(target.read(0x1000n, 8), { instanceOf: CoreMemoryError, code: 'ERR_MEMORY' });
      t.is(err?.reason, 'unmapped');
      // A thread stack's guard page: mapped without access, left out of every dump.
      const guard = (await target.regions()).find((r) => !r.readable && !r.writable);
      if (guard) {
        const g = await t.throwsAsync(target.read(guard.start, 8), { instanceOf: CoreMemoryError });
        t.is(g?.reason, kind === 'kernel' ? 'omitted' : 'unmapped');
      }
    } finally {
      await target.close();
    }
  });

  systemTest(test, `${kind} core: --core-exe names the binary where it lives here`, needs, async (t) => {
    const { core, gdb } = await coreOf(kind);
    const copy = path.join(core.dir, 'renamed-exe');
    fs.copyFileSync(core.exe, copy);
    const { target } = await open(kind, { exe: copy });
    try {
      t.deepEqual(target.executable, { path: core.exe, localPath: copy });
      t.deepEqual(words(await target.read(gdb.addr.main, 16)), gdb.globals.get(gdb.addr.main));
      t.true(target.mappedFiles().find((f) => f.path === core.exe)?.localPath === copy);
    } finally {
      await target.close();
    }
  });

  if (missing(needs).length) {
    systemTest(test, `${kind} core: conformance suite`, needs, () => undefined);
  } else {
    suite({
      test,
      name: `elfcore ${kind} core`,
      factory: async () => {
        const { core, gdb } = await coreOf(kind);
        const target = await createCoreTarget(core.core);
        return {
          target,
          known: { address: gdb.addr.marker, bytes: new TextEncoder().encode('stackdb-elfcore-fixture') },
          scratch: { address: gdb.addr.counter, length: 8 },
          unmapped: 0x1000n,
        };
      },
    });
  }
}
