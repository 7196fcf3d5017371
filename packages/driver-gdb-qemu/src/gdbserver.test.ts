import fs from 'node:fs';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { MemoryError, type StopEvent } from '@stackdb/core';
import { suite, type SuiteTest } from '@stackdb/core/conformance';
import { run, systemTest } from '@stackdb/test-support';
import { GdbTarget } from './gdb-target.js';
import { parseProcMaps } from '@stackdb/core';
import { RspClient } from './rsp/client.js';
import { GDBSERVER_NEEDS, fixture, procThreads, startGdbserver, symbols, type RunningStub } from './test-support/stubs.js';

/*
 * The driver against a real gdbserver running test/fixture.c: the core
 * conformance suite (with Z0 and with -s memory breakpoints), then breakpoints,
 * a hardware watchpoint, single steps, threads, regions and modules, detach and
 * kill, each checked against what the program prints, /proc, nm and objdump.
 *
 * Backtraces and variable values through the stub are to be compared with the
 * ptrace driver once the unwinder and value layers exist (not yet here).
 */

const KNOWN = new Uint8Array(Buffer.from('stackdb-gdb-known-bytes-0123456\0', 'latin1'));

function stubTest(title: string, fn: (t: ExecutionContext) => Promise<void>): void {
  systemTest(test, title, GDBSERVER_NEEDS, fn);
}

/** Starts gdbserver on the fixture and connects a target (not opened). */
async function launch(opts: { threads?: number; pie?: boolean; soft?: boolean } = {}): Promise<{ stub: RunningStub; target: GdbTarget; syms: Map<string, bigint>; exe: string }> {
  const exe = fixture(opts.pie ?? false);
  const stub = await startGdbserver(exe, [String(opts.threads ?? 0)]);
  try {
    const client = await RspClient.connect({ kind: 'tcp', host: '127.0.0.1', port: stub.port });
    return { stub, target: new GdbTarget({ client, softBreakpoints: opts.soft ?? false }), syms: symbols(exe), exe };
  } catch (err) {
    await stub.dispose();
    throw err;
  }
}

async function withTarget(opts: Parameters<typeof launch>[0], fn: (x: Awaited<ReturnType<typeof launch>>) => Promise<void>): Promise<void> {
  const x = await launch(opts);
  try {
    await x.target.open();
    await fn(x);
  } finally {
    await x.target.close().catch(() => undefined);
    await x.stub.dispose();
  }
}

/** Reads live memory of a process through /proc (independent of the stub). */
function procMem(pid: number, address: bigint, length: number): Uint8Array {
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, address);
    return new Uint8Array(buf);
  } finally {
    fs.closeSync(fd);
  }
}

function only<K extends StopEvent['kind']>(events: StopEvent[], kind: K): Extract<StopEvent, { kind: K }> {
  const e = events.find((x) => x.kind === kind);
  if (!e) throw new Error(`no ${kind} event in ${JSON.stringify(events, (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`);
  return e as Extract<StopEvent, { kind: K }>;
}

// --------------------------------------------------------------- conformance

const conformanceTest: SuiteTest = Object.assign(
  (title: string, fn: (t: ExecutionContext) => Promise<void> | void) => systemTest(test, title, GDBSERVER_NEEDS, fn),
  { serial: (title: string, fn: (t: ExecutionContext) => Promise<void> | void) => systemTest(test, title, GDBSERVER_NEEDS, fn, { serial: true }) },
) as unknown as SuiteTest;

for (const soft of [false, true]) {
  suite({
    test: conformanceTest,
    name: soft ? 'gdb (gdbserver, -s)' : 'gdb (gdbserver)',
    factory: async () => {
      const { stub, target, syms } = await launch({ soft });
      return {
        target,
        known: { address: syms.get('known_bytes')!, bytes: KNOWN },
        code: syms.get('never_called')!,
        scratch: { address: syms.get('scratch')!, length: 64 },
        unmapped: 0x1000n,
        dispose: () => stub.dispose(),
      };
    },
  });
}

// ---------------------------------------------------------------- breakpoints

for (const soft of [false, true]) {
  stubTest(`breakpoints ${soft ? 'written as int3 (-s)' : 'through Z0'} stop at the function with the arguments the program prints`, async (t) => {
    await withTarget({ soft }, async ({ stub, target, syms }) => {
      const at = syms.get('checkpoint')!;
      const original = await target.read(at, 1);
      await target.swBreakpoints.insert(at);
      t.deepEqual(await target.read(at, 1), original, 'reads hide the breakpoint');
      if (soft) t.is(procMem(stub.pid, at, 1)[0], 0xcc, 'with -s the int3 is in memory');
      let n = 0;
      for (let hit = 0; hit < 3; hit++) {
        await target.resume();
        const { events } = await target.wait();
        const bp = only(events, 'breakpoint');
        t.is(bp.address, at);
        t.is(bp.tid, stub.pid);
        const th = await target.thread(bp.tid);
        t.is(await th.pc(), at, 'the pc is at the breakpoint, not past it');
        const arg = await th.register('rdi');
        if (hit > 0) t.is(arg, BigInt(n + 1), 'consecutive calls');
        n = Number(arg);
        // The program printed "tick n-1" before calling checkpoint(n), and touch_watched set watched to 10(n-1).
        if (n > 1) await stub.waitFor(new RegExp(`tick ${n - 1}\\n`));
        t.is(await target.readUnsigned(syms.get('watched')!, 8), BigInt((n - 1) * 10));
      }
      await target.swBreakpoints.remove(at);
      t.deepEqual(procMem(stub.pid, at, 1), original, 'removed: the original byte is back');
    });
  });
}

stubTest('a single step executes exactly one instruction (as objdump decodes it)', async (t) => {
  await withTarget({}, async ({ target, syms, exe }) => {
    const at = syms.get('checkpoint')!;
    await target.swBreakpoints.insert(at);
    await target.resume();
    const bp = only((await target.wait()).events, 'breakpoint');
    const dis = run('objdump', ['-d', `--start-address=0x${at.toString(16)}`, `--stop-address=0x${(at + 32n).toString(16)}`, exe]);
    const addrs = [...dis.matchAll(/^\s+([0-9a-f]+):\t/gm)].map((m) => BigInt(`0x${m[1]}`));
    t.true(addrs.length >= 3);
    const th = await target.thread(bp.tid);
    for (let i = 1; i < 3; i++) {
      const events = await target.step(th);
      t.deepEqual(events, [{ kind: 'step', tid: th.tid }]);
      t.is(await th.pc(), addrs[i]);
    }
  });
});

stubTest('a hardware watchpoint (Z2) reports the write and the new value', async (t) => {
  await withTarget({}, async ({ stub, target, syms }) => {
    const watched = syms.get('watched')!;
    const slot = await target.hwSlots.allocate({ address: watched, access: 'write', length: 8 });
    await target.resume();
    const hit = only((await target.wait()).events, 'hw-debug');
    t.is(hit.slot, slot);
    t.is(hit.address, watched);
    t.is(hit.access, 'write');
    t.is(hit.tid, stub.pid);
    const v = await target.readUnsigned(watched, 8);
    t.true(v > 0n && v % 10n === 0n, `watched = ${v}`);
    // The write has just happened, inside touch_watched.
    const pc = await (await target.thread(hit.tid)).pc();
    const start = syms.get('touch_watched')!;
    t.true(pc > start && pc < start + 64n, `pc 0x${pc.toString(16)} in touch_watched`);
    await target.hwSlots.release(slot);
    await target.resume();
    await target.pause();
    t.is(target.status, 'paused');
  });
});

stubTest('a hardware breakpoint (Z1) is a hw-debug exec event and is stepped past on resume', async (t) => {
  await withTarget({}, async ({ target, syms }) => {
    const at = syms.get('checkpoint')!;
    const slot = await target.hwSlots.allocate({ address: at, access: 'exec', length: 1 });
    const args: bigint[] = [];
    for (let hit = 0; hit < 2; hit++) {
      await target.resume();
      const e = only((await target.wait()).events, 'hw-debug');
      t.deepEqual([e.slot, e.address, e.access], [slot, at, 'exec']);
      args.push(await (await target.thread(e.tid)).register('rdi'));
    }
    t.is(args[1], args[0]! + 1n, 'the second hit is the next call');
  });
});

stubTest('writing over a Z0 breakpoint keeps the stub\'s saved byte right', async (t) => {
  await withTarget({}, async ({ stub, target, syms }) => {
    const at = syms.get('checkpoint')!;
    const code = procMem(stub.pid, at - 4n, 16);
    await target.swBreakpoints.insert(at);
    // Rewrite the same code over the breakpoint: gdbserver must not take the trap for the original.
    await target.write(at - 4n, code);
    t.deepEqual(await target.read(at - 4n, 16), code);
    await target.swBreakpoints.remove(at);
    t.deepEqual(procMem(stub.pid, at - 4n, 16), code);
  });
});

// -------------------------------------------------------------------- threads

stubTest('threads are the process\'s threads, as /proc lists them, with their names', async (t) => {
  await withTarget({ threads: 3 }, async ({ stub, target, syms }) => {
    // Run past thread creation (the program calls checkpoint once all workers run).
    await target.swBreakpoints.insert(syms.get('checkpoint')!);
    await target.resume();
    only((await target.wait()).events, 'breakpoint');
    await target.swBreakpoints.remove(syms.get('checkpoint')!);
    const threads = await target.threads();
    t.deepEqual(threads.map((th) => th.tid).sort((a, b) => a - b), procThreads(stub.pid));
    for (const th of threads) {
      t.is(th.name, fs.readFileSync(`/proc/${stub.pid}/task/${th.tid}/comm`, 'utf8').trim());
      t.is(th.info.pid, stub.pid);
      const regs = await th.registers();
      t.not(regs.pc, 0n);
      t.not(regs.sp, 0n);
      t.true(regs.has('fs_base'), 'fs_base from the target description');
    }
    // Each thread has its own stack.
    t.is(new Set(await Promise.all(threads.map((th) => th.sp()))).size, threads.length);
  });
});

stubTest('pause interrupts a running program; an aborted wait leaves it running', async (t) => {
  await withTarget({ threads: 1 }, async ({ target }) => {
    await target.resume();
    const ac = new AbortController();
    const waiting = target.wait({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await t.throwsAsync(waiting, { code: 'ERR_ABORTED' });
    t.is(target.status, 'running');
    await t.throwsAsync(target.read(0x400000n, 4), { code: 'ERR_TARGET_STATE' });
    await target.pause();
    t.is(target.status, 'paused');
    t.deepEqual(await target.poll(), [], 'the interrupt left no event behind');
    t.true((await target.threads()).length >= 2);
  });
});

// ------------------------------------------------------- regions and modules

stubTest('regions are /proc/PID/maps through the stub; a PIE main program gets its load bias', async (t) => {
  await withTarget({ pie: true }, async ({ stub, target, syms, exe }) => {
    const mine = parseProcMaps(fs.readFileSync(`/proc/${stub.pid}/maps`, 'utf8'));
    t.deepEqual(await target.regions(), mine);
    const mods = await target.modules();
    const main = mods.find((m) => m.main);
    t.is(main?.path, exe);
    const first = mine.find((r) => r.path === exe && r.offset === 0n)!;
    // The fixture's first PT_LOAD is at vaddr 0, so the bias is where it is mapped.
    t.is(main?.bias, first.start);
    t.deepEqual(await target.read(main!.bias + syms.get('known_bytes')!, KNOWN.length), KNOWN);
    t.true(mods.some((m) => m.name.startsWith('ld-linux')), 'the dynamic linker');
  });
});

stubTest('libc appears among the modules once the program runs, at the bias /proc shows', async (t) => {
  await withTarget({}, async ({ stub, target, syms }) => {
    await target.swBreakpoints.insert(syms.get('checkpoint')!);
    await target.resume();
    await target.wait();
    const libc = (await target.modules()).find((m) => m.name === 'libc.so.6');
    t.truthy(libc);
    const maps = parseProcMaps(fs.readFileSync(`/proc/${stub.pid}/maps`, 'utf8'));
    t.is(libc!.bias, maps.find((r) => r.path === libc!.path && r.offset === 0n)!.start);
  });
});

// --------------------------------------------------------- signals and exit

stubTest('a signal stops the program with its Linux number, and is delivered on resume', async (t) => {
  await withTarget({}, async ({ stub, target }) => {
    await target.resume();
    process.kill(stub.pid, 'SIGUSR1');
    const { events } = await target.wait();
    t.deepEqual(events, [{ kind: 'signal', tid: stub.pid, signal: 10 }]);
    // Delivered (the default action ends the program), the stub reports the death.
    await target.resume();
    const end = await target.wait();
    t.deepEqual(end.events, [{ kind: 'exited', status: { signal: 10 } }]);
    t.is(target.status, 'exited');
    t.deepEqual(target.exit, { signal: 10 });
  });
});

for (const deliver of [true, false]) {
  stubTest(`a signal ${deliver ? 'nobody suppressed goes with detach' : 'a listener suppressed stays out on detach'}`, async (t) => {
    await withTarget({}, async ({ stub, target }) => {
      target.on('signal', (e) => {
        e.deliver = deliver;
      });
      await target.resume();
      process.kill(stub.pid, 'SIGUSR1');
      t.deepEqual((await target.wait()).events, [{ kind: 'signal', tid: stub.pid, signal: 10 }]);
      await target.detach();
      if (deliver) {
        // SIGUSR1's default action ends the program.
        for (let i = 0; i < 250 && stub.alive(); i++) await new Promise((r) => setTimeout(r, 20));
        t.false(stub.alive());
      } else {
        const n = Number(/tick (\d+)\n(?![\s\S]*tick)/.exec(stub.output())?.[1] ?? 0);
        await stub.waitFor(new RegExp(`tick ${n + 3}\n`));
        t.true(stub.alive());
      }
    });
  });
}

stubTest('a program that exits reports its exit code', async (t) => {
  await withTarget({ threads: 1 }, async ({ target, syms }) => {
    await target.swBreakpoints.insert(syms.get('checkpoint')!);
    await target.resume();
    only((await target.wait()).events, 'breakpoint');
    await target.swBreakpoints.remove(syms.get('checkpoint')!);
    await target.write(syms.get('exit_code')!, Uint8Array.of(7, 0, 0, 0, 0, 0, 0, 0));
    await target.resume();
    t.deepEqual((await target.wait()).events, [{ kind: 'exited', status: { code: 7 } }]);
    t.deepEqual(target.exit, { code: 7 });
  });
});

// ---------------------------------------------------------- detach and kill

stubTest('detach removes breakpoints and leaves the program running', async (t) => {
  await withTarget({}, async ({ stub, target, syms }) => {
    const at = syms.get('checkpoint')!;
    const original = procMem(stub.pid, at, 1);
    await target.swBreakpoints.insert(at);
    await target.hwSlots.allocate({ address: syms.get('watched')!, access: 'write', length: 8 });
    await target.resume();
    const bp = only((await target.wait()).events, 'breakpoint');
    const n = Number(await (await target.thread(bp.tid)).register('rdi'));
    await target.detach();
    t.is(target.status, 'detached');
    await stub.waitFor(new RegExp(`tick ${n + 5}\\n`));
    t.true(stub.alive());
    t.deepEqual(procMem(stub.pid, at, 1), original);
  });
});

stubTest('kill ends the program', async (t) => {
  const { stub, target } = await launch({ threads: 2 });
  try {
    await target.open();
    await target.resume();
    await target.pause();
    await target.kill();
    t.is(target.status, 'exited');
    for (let i = 0; i < 200 && stub.alive(); i++) await new Promise((r) => setTimeout(r, 20));
    t.false(stub.alive());
  } finally {
    await target.close().catch(() => undefined);
    await stub.dispose();
  }
});

stubTest('reading unmapped memory stops the count exactly at the first unmapped page', async (t) => {
  await withTarget({}, async ({ stub, target }) => {
    const maps = parseProcMaps(fs.readFileSync(`/proc/${stub.pid}/maps`, 'utf8'));
    // The end of a mapping followed by a hole.
    const r = maps.find((m, i) => maps[i + 1] && maps[i + 1]!.start > m.end && m.readable)!;
    const start = r.end - 100n;
    const err = await t.throwsAsync(target.read(start, 5000));
    t.true(err instanceof MemoryError);
    t.is((err as MemoryError).address, r.end);
    t.is((err as MemoryError).transferred, 100);
  });
});
