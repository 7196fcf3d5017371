import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { PtraceTarget } from './index.js';
import { alive, fixture, killQuietly, lastBeat, nmAddress, runtimeAddress, startDetached, tmpDir, until } from './test-support/harness.js';

const spin = fixture('spin');
const here = path.dirname(fileURLToPath(import.meta.url));

function procStatus(pid: number, field: string): string | undefined {
  return new RegExp(`\\n${field}:\\s*(\\S+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
}

async function running(_pid: number, out: string): Promise<void> {
  await until(() => lastBeat(out) > 0, 10_000, 'the first beat');
}

test('attach stops every thread; detach removes traps and leaves the program running', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const pid = startDetached([spin, '1000'], out);
  try {
    await running(pid, out);
    const target = PtraceTarget.attach(pid);
    await target.open();
    const [main] = await target.threads();
    t.is(main!.tid, pid);
    t.is(main!.name, path.basename(spin).slice(0, 15));
    t.is(procStatus(pid, 'State'), 't', 'traced and stopped');
    const heartbeat = await runtimeAddress(target, spin, 'heartbeat');
    const beats = await runtimeAddress(target, spin, 'beats');
    await target.swBreakpoints.insert(heartbeat);
    const before = await target.readUnsigned(beats, 8);
    for (let i = 0; i < 3; i++) {
      await target.resume();
      const { events } = await target.wait();
      t.true(events.some((e) => e.kind === 'breakpoint' && e.address === heartbeat));
    }
    t.is(await target.readUnsigned(beats, 8), before + 2n, 'heartbeat(n) ran twice between three hits');
    await target.resume();
    await target.detach();
    t.is(procStatus(pid, 'TracerPid'), '0');
    const seen = lastBeat(out);
    await until(() => lastBeat(out) >= seen + 30, 10_000, 'beats after detach');
    t.true(alive(pid));
    await target.close();
  } finally {
    killQuietly(pid);
  }
});

test('a process stopped by job control stays stopped across attach and detach', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const pid = startDetached([spin, '1000'], out);
  try {
    await running(pid, out);
    process.kill(pid, 'SIGSTOP');
    await until(() => procStatus(pid, 'State') === 'T', 5000, 'the stop');
    const target = PtraceTarget.attach(pid);
    await target.open();
    await target.resume();
    await new Promise((r) => setTimeout(r, 100));
    t.is(await target.poll().then((e) => e.length), 0, 'a job-stopped process does not run on resume');
    const frozen = lastBeat(out);
    await target.detach();
    await target.close();
    await new Promise((r) => setTimeout(r, 100));
    t.is(procStatus(pid, 'State'), 'T', 'still stopped after detach');
    t.is(lastBeat(out), frozen);
    process.kill(pid, 'SIGCONT');
    await until(() => lastBeat(out) > frozen + 10, 10_000, 'beats after SIGCONT');
  } finally {
    killQuietly(pid);
  }
});

for (const mode of ['signal', 'exit'] as const) {
  test(`a debugger that ${mode === 'signal' ? 'is killed with SIGTERM' : 'calls process.exit()'} while traps are inserted leaves the target running`, async (t) => {
    const out = path.join(tmpDir(), 'out');
    const pid = startDetached([spin, '500'], out);
    try {
      await running(pid, out);
      const args = [path.join(here, 'test-support/debugger.ts'), String(pid), `0x${nmAddress(spin, 'heartbeat').toString(16)}`, `0x${nmAddress(spin, 'beats').toString(16)}`, mode];
      const dbg = spawn(process.execPath, ['--import=tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      dbg.stdout.on('data', (d) => (stdout += d));
      dbg.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => dbg.on('exit', (code) => resolve(code)));
      await until(() => stdout.includes('ready') || dbg.exitCode !== null, 20_000, 'the debugger');
      if (mode === 'signal') dbg.kill('SIGTERM');
      const code = await exited;
      t.is(code, mode === 'signal' ? 143 : 0, stderr);
      t.is(procStatus(pid, 'TracerPid'), '0');
      const seen = lastBeat(out);
      await until(() => lastBeat(out) >= seen + 20, 10_000, 'beats after the debugger died');
      t.true(alive(pid), 'the target was not killed by a stale trap');
      // Nothing is left behind: no int3 in the code, no debug register programmed.
      const check = PtraceTarget.attach(pid);
      await check.open();
      const heartbeat = await runtimeAddress(check, spin, 'heartbeat');
      t.not((await check.read(heartbeat, 1))[0], 0xcc);
      const [th] = await check.threads();
      t.is(await th!.register('dr7'), 0n);
      await check.detach();
      await check.close();
    } finally {
      killQuietly(pid);
    }
  });
}

test('monitor returns when its AbortSignal fires, with the target paused', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const target = PtraceTarget.launch([spin, '1000'], { stdout: out });
  await target.open();
  try {
    const r = await target.monitor({ signal: AbortSignal.timeout(200) });
    t.is(r.reason, 'aborted');
    t.is(target.status, 'paused');
    t.true(lastBeat(out) > 0, 'it ran meanwhile');
    const frozen = lastBeat(out);
    await new Promise((r2) => setTimeout(r2, 100));
    t.is(lastBeat(out), frozen, 'and is stopped now');
  } finally {
    await target.kill();
    await target.close();
  }
});
