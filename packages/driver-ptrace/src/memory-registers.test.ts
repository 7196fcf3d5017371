import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { MemoryError } from '@stackdb/core';
import { run, systemTest } from '@stackdb/test-support';
import { PtraceTarget } from './index.js';
import { alive, fixture, killQuietly, runtimeAddress, startDetached, tmpDir, until } from './test-support/harness.js';

const loop = fixture('loop');
const spin = fixture('spin');

function f64bits(d: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, d, true);
  return dv.getBigUint64(0, true);
}

test('memory and registers read and written agree with what the program prints', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const target = PtraceTarget.launch([loop, '2'], { stdout: out });
  await target.open();
  try {
    const bps = Object.fromEntries(await Promise.all(['checkpoint', 'probe_me', 'probe_fp'].map(async (s) => [s, await runtimeAddress(target, loop, s)] as const)));
    for (const a of Object.values(bps)) await target.swBreakpoints.insert(a);
    const next = async () => {
      await target.resume();
      const { events } = await target.wait();
      const ev = events.find((e) => e.kind === 'breakpoint');
      if (!ev || ev.kind !== 'breakpoint') throw new Error(`expected a breakpoint, got ${JSON.stringify(events, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
      return { at: ev.address, thread: await target.thread(ev.tid) };
    };

    let { at, thread } = await next();
    t.is(at, bps.checkpoint);
    const printed = fs.readFileSync(out, 'utf8');
    const [, self] = /self ([0-9a-f]+)/.exec(printed)!;
    const [, addr, value] = /global 0x([0-9a-f]+) ([0-9a-f]+)/.exec(printed)!;
    const global = await runtimeAddress(target, loop, 'global_value');
    t.is(global, BigInt(`0x${addr}`), 'nm + load bias finds the variable where the program says it is');
    t.is(await target.readUnsigned(global, 8), BigInt(`0x${value}`));
    t.is(await thread.register('fs_base'), BigInt(`0x${self}`), 'fs_base is the thread pointer pthread_self() returns');
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, 0xcafef00dn, true);
    await target.write(global, bytes);

    ({ at, thread } = await next());
    t.is(at, bps.probe_me);
    t.is(await thread.register('rdi'), 41n);
    await thread.setRegister('rdi', 99n);
    t.is(await thread.register('rdi'), 99n);

    ({ at, thread } = await next());
    t.is(at, bps.probe_fp);
    t.is((await thread.register('xmm0')) & 0xffffffffffffffffn, f64bits(1.5));
    await thread.setRegister('xmm0', f64bits(4));

    const r = await target.monitor();
    t.deepEqual(r.status, { code: 0 });
    const after = fs.readFileSync(out, 'utf8');
    t.regex(after, /after cafef00d\n/);
    t.regex(after, /probe 100\n/);
    t.regex(after, /fp 8\n/);
  } finally {
    await target.close();
  }
});

test('a read across the end of a mapping stops exactly at the first unmapped byte', async (t) => {
  const target = PtraceTarget.launch([loop, '1'], { stdout: '/dev/null' });
  await target.open();
  try {
    const regions = await target.regions();
    const i = regions.findIndex((r, k) => r.readable && (regions[k + 1]?.start ?? 1n << 64n) > r.end && r.end < 1n << 47n);
    const end = regions[i]!.end;
    const buf = new Uint8Array(300);
    t.is(await target.readInto(end - 100n, buf), 100);
    const err = await t.throwsAsync(target.read(end - 8n, 64));
    t.true(err instanceof MemoryError);
    t.is((err as MemoryError).address, end);
    t.is((err as MemoryError).transferred, 8);
    await t.throwsAsync(target.write(end, Uint8Array.of(1)), { code: 'ERR_MEMORY' });
  } finally {
    await target.kill();
    await target.close();
  }
});

systemTest(test, 'memory, symbols and fs_base of an attached process agree with gdb', [{ command: 'gdb', package: 'gdb' }], async (t) => {
  const out = path.join(tmpDir(), 'out');
  const pid = startDetached([spin, '2000'], out);
  try {
    await until(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('beat'), 10_000, 'the first beat');
    const target = PtraceTarget.attach(pid);
    await target.open();
    const known = await runtimeAddress(target, spin, 'known');
    const text = await target.readString(known);
    const [main] = await target.threads();
    const fsBase = await main!.register('fs_base');
    await target.detach();
    await target.close();
    const gdb = run('gdb', ['-batch', '-nx', '-p', String(pid), '-ex', 'printf "%lx %s\\n", &known, known', '-ex', 'printf "%lx\\n", $fs_base'], { timeoutMs: 60_000 });
    t.true(gdb.split('\n').includes(`${known.toString(16)} ${text}`), gdb);
    t.true(gdb.split('\n').includes(fsBase.toString(16)), gdb);
    t.true(alive(pid), 'the process runs on after both debuggers detached');
  } finally {
    killQuietly(pid);
  }
});
