import fs from 'node:fs';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { suite, type SuiteTest } from '@stackdb/core/conformance';
import { systemTest } from '@stackdb/test-support';
import { GdbTarget } from './gdb-target.js';
import { parseProcMaps } from '@stackdb/core';
import { RspClient } from './rsp/client.js';
import { VGDB_NEEDS, fixture, procThreads, startVgdb, symbols, type RunningStub } from './test-support/stubs.js';

/*
 * The driver against Valgrind's gdbserver, reached through `vgdb --port`: a stub
 * with acknowledgments switched off but no vCont, no multiprocess ids, no host
 * I/O and no SVR4 library list, so threads, resumption and modules take the
 * fallback paths (plain c/s, qfThreadInfo, auxv and the dynamic linker's
 * link_map in memory). Valgrind is slow to start, so these run one at a time.
 */

const KNOWN = new Uint8Array(Buffer.from('stackdb-gdb-known-bytes-0123456\0', 'latin1'));

const serialStub = (title: string, fn: (t: ExecutionContext) => Promise<void> | void) => systemTest(test, title, VGDB_NEEDS, fn, { serial: true });
const conformanceTest = Object.assign(serialStub, { serial: serialStub }) as unknown as SuiteTest;

async function launch(threads = 0): Promise<{ stub: RunningStub; target: GdbTarget; syms: Map<string, bigint>; exe: string }> {
  const exe = fixture();
  const stub = await startVgdb(exe, [String(threads)]);
  try {
    const client = await RspClient.connect({ kind: 'tcp', host: '127.0.0.1', port: stub.port });
    return { stub, target: new GdbTarget({ client }), syms: symbols(exe), exe };
  } catch (err) {
    await stub.dispose();
    throw err;
  }
}

async function withTarget(threads: number, fn: (x: Awaited<ReturnType<typeof launch>>) => Promise<void>): Promise<void> {
  const x = await launch(threads);
  try {
    await x.target.open();
    await fn(x);
  } finally {
    await x.target.close().catch(() => undefined);
    await x.stub.dispose();
  }
}

suite({
  test: conformanceTest,
  name: 'gdb (valgrind vgdb)',
  factory: async () => {
    const { stub, target, syms } = await launch();
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

serialStub('vgdb: the stub\'s features are what Valgrind offers', async (t) => {
  await withTarget(0, async ({ target }) => {
    const f = target.client.features;
    t.true(f.noAck);
    t.false(f.multiprocess);
    t.is(f.vCont.size, 0);
    t.is(target.client.layout.byArchName('rip')?.regnum, 16);
  });
});

serialStub('vgdb: a breakpoint, registers and memory agree with what the program prints; threads are /proc\'s', async (t) => {
  await withTarget(2, async ({ stub, target, syms }) => {
    const at = syms.get('checkpoint')!;
    await target.swBreakpoints.insert(at);
    let n = 0;
    for (let hit = 0; hit < 2; hit++) {
      await target.resume();
      const bp = (await target.wait()).events.find((e) => e.kind === 'breakpoint');
      t.is(bp?.kind === 'breakpoint' ? bp.address : undefined, at);
      const th = await target.thread(bp!.tid);
      t.is(await th.pc(), at);
      const arg = Number(await th.register('rdi'));
      if (hit) t.is(arg, n + 1);
      n = arg;
      if (n > 1) await stub.waitFor(new RegExp(`tick ${n - 1}\\n`));
      t.is(await target.readUnsigned(syms.get('watched')!, 8), BigInt((n - 1) * 10));
    }
    const threads = await target.threads();
    t.deepEqual(threads.map((x) => x.tid).sort((a, b) => a - b), procThreads(stub.pid));
    // A step under Valgrind goes through plain `s` after Hc.
    const th = await target.thread(stub.pid);
    const before = await th.pc();
    const events = await target.step(th);
    t.deepEqual(events, [{ kind: 'step', tid: th.tid }]);
    t.not(await th.pc(), before);
  });
});

serialStub('vgdb: modules come from the auxiliary vector and the dynamic linker\'s list; biases match /proc', async (t) => {
  await withTarget(0, async ({ stub, target, syms, exe }) => {
    await target.swBreakpoints.insert(syms.get('checkpoint')!);
    await target.resume();
    await target.wait();
    const mods = await target.modules();
    t.is(mods.find((m) => m.main)?.path, exe);
    t.is(mods.find((m) => m.main)?.bias, 0n, 'a position-dependent program');
    const maps = parseProcMaps(fs.readFileSync(`/proc/${stub.pid}/maps`, 'utf8'));
    for (const name of ['libc.so.6', 'ld-linux-x86-64.so.2']) {
      const m = mods.find((x) => x.name === name);
      t.truthy(m, name);
      const mapped = maps.find((r) => r.path && fs.existsSync(r.path) && fs.realpathSync(r.path) === fs.realpathSync(m!.path) && r.offset === 0n);
      t.is(m!.bias, mapped!.start, `${name} bias`);
    }
    const regions = await target.regions();
    const pc = await (await target.thread(stub.pid)).pc();
    t.true(regions.some((r) => r.start <= pc && pc < r.end && r.executable));
  });
});

serialStub('vgdb: a write watchpoint (memcheck\'s Z2) reports the watched address', async (t) => {
  await withTarget(0, async ({ target, syms }) => {
    const watched = syms.get('watched')!;
    const slot = await target.hwSlots.allocate({ address: watched, access: 'write', length: 8 });
    await target.resume();
    const hit = (await target.wait()).events.find((e) => e.kind === 'hw-debug');
    t.deepEqual(hit?.kind === 'hw-debug' ? [hit.slot, hit.address, hit.access] : undefined, [slot, watched, 'write']);
    // Without --vgdb=full Valgrind stops at a block boundary near the write, not at the instruction, so the pc is not checked.
    await target.hwSlots.release(slot);
  });
});

serialStub('vgdb: a program that exits reports its exit code', async (t) => {
  await withTarget(0, async ({ target, syms }) => {
    await target.swBreakpoints.insert(syms.get('checkpoint')!);
    await target.resume();
    await target.wait();
    await target.swBreakpoints.remove(syms.get('checkpoint')!);
    await target.write(syms.get('exit_code')!, Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0));
    await target.resume();
    t.deepEqual((await target.wait()).events, [{ kind: 'exited', status: { code: 3 } }]);
  });
});

serialStub('vgdb: monitor commands return Valgrind\'s output', async (t) => {
  await withTarget(0, async ({ target }) => {
    const out = await target.client.monitor('v.info n_errs_found');
    t.regex(out, /n_errs_found 0/);
  });
});

serialStub('vgdb: detach leaves the program running under Valgrind', async (t) => {
  await withTarget(0, async ({ stub, target, syms }) => {
    await target.swBreakpoints.insert(syms.get('checkpoint')!);
    await target.resume();
    const bp = (await target.wait()).events.find((e) => e.kind === 'breakpoint');
    const n = Number(await (await target.thread(bp?.kind === 'breakpoint' ? bp.tid : 0)).register('rdi'));
    await target.detach();
    await stub.waitFor(new RegExp(`tick ${n + 3}\\n`));
    t.true(stub.alive());
  });
});
