/*
 * Real GDB stubs for the tests: gdbserver running the fixture, and the fixture
 * under Valgrind with vgdb relaying on a TCP port. Each start returns how to
 * reach the stub, the fixture's pid, its output so far, and a dispose that
 * kills whatever is left (never leaving a process behind).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildFixture, run, type Need } from '@stackdb/test-support';

/** What the stub tests need on the machine. */
export const GDBSERVER_NEEDS: readonly Need[] = [{ command: 'gdbserver', package: 'gdbserver' }, { command: 'gcc', package: 'gcc' }, { command: 'nm', package: 'binutils' }];
export const VGDB_NEEDS: readonly Need[] = [{ command: 'valgrind', package: 'valgrind' }, { command: 'vgdb', package: 'valgrind' }, { command: 'gcc', package: 'gcc' }, { command: 'nm', package: 'binutils' }];

/** The fixture (test/fixture.c), position-dependent or PIE. */
export function fixture(pie = false): string {
  return buildFixture({
    name: pie ? 'gdb-fixture-pie' : 'gdb-fixture',
    sources: ['packages/driver-gdb-qemu/test/fixture.c'],
    flags: ['-g', '-O0', '-pthread', ...(pie ? ['-fPIE', '-pie'] : ['-no-pie'])],
  });
}

/** Link-time addresses of the fixture's symbols, from `nm` (an independent reader). */
export function symbols(exe: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of run('nm', [exe]).split('\n')) {
    const m = /^([0-9a-f]+) \w (\S+)$/.exec(line);
    if (m) out.set(m[2]!, BigInt(`0x${m[1]}`));
  }
  return out;
}

/** A running stub with the fixture behind it. */
export interface RunningStub {
  readonly port: number;
  /** The fixture's pid. */
  readonly pid: number;
  /** Everything the fixture (and the stub) printed so far. */
  output(): string;
  /** Resolves when the text has been printed (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** True while the fixture process exists. */
  alive(): boolean;
  /** Kills the fixture and the stub. */
  dispose(): Promise<void>;
}

function collect(children: ChildProcess[]): { output: () => string; waitFor: (re: RegExp, ms?: number) => Promise<RegExpExecArray> } {
  let text = '';
  const waiters = new Set<() => void>();
  for (const c of children) {
    for (const s of [c.stdout, c.stderr]) {
      s?.on('data', (d: Buffer) => {
        text += d.toString();
        for (const w of [...waiters]) w();
      });
    }
  }
  return {
    output: () => text,
    waitFor: (re, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(text);
          if (!m) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re} in:\n${text.slice(-2000)}`));
        }, ms);
        if (!check()) waiters.add(check);
      }),
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

async function killAll(children: ChildProcess[], pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  }))));
}

/** `gdbserver --once 127.0.0.1:0 FIXTURE ARGS…` (the stub picks a free port and prints it). */
export async function startGdbserver(exe: string, args: readonly string[] = []): Promise<RunningStub> {
  const gs = spawn('gdbserver', ['--once', '127.0.0.1:0', exe, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const io = collect([gs]);
  try {
    const pid = Number((await io.waitFor(/Process \S+ created; pid = (\d+)/))[1]);
    const port = Number((await io.waitFor(/Listening on port (\d+)/))[1]);
    return { port, pid, ...io, alive: () => pidAlive(pid), dispose: () => killAll([gs], [pid]) };
  } catch (err) {
    await killAll([gs], []);
    throw err;
  }
}

/** A port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** True when a local TCP port is in the LISTEN state (from /proc/net/tcp). */
export function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((f) => {
    try {
      return fs.readFileSync(f, 'utf8').split('\n').some((l) => {
        const cols = l.trim().split(/\s+/);
        return cols[1]?.endsWith(`:${hex}`) && cols[3] === '0A';
      });
    } catch {
      return false;
    }
  });
}

/** `valgrind --vgdb=yes --vgdb-error=0 FIXTURE ARGS…`, then `vgdb --pid=PID --port=N`. */
export async function startVgdb(exe: string, args: readonly string[] = []): Promise<RunningStub> {
  // Private FIFOs, removed with the directory (a killed Valgrind leaves its FIFOs behind).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-vgdb-'));
  const prefix = `--vgdb-prefix=${path.join(dir, 'vgdb-pipe')}`;
  const vg = spawn('valgrind', ['--vgdb=yes', '--vgdb-error=0', prefix, exe, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const children: ChildProcess[] = [vg];
  const cleanup = async (pids: number[]) => {
    await killAll(children, pids);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const vgio = collect([vg]);
    const pid = Number((await vgio.waitFor(/vgdb .*--pid=(\d+)/))[1]);
    // Valgrind announces itself before its FIFOs and shared memory file exist: wait for all three.
    for (let i = 0; i < 1000 && fs.readdirSync(dir).filter((f) => f.includes(`-${pid}-`)).length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    const port = await freePort();
    const relay = spawn('vgdb', [prefix, `--pid=${pid}`, `--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(relay);
    const rio = collect([relay]);
    await rio.waitFor(/listening on port/);
    // vgdb says so just before it listens, and takes a single connection: wait for the socket, do not probe it.
    for (let i = 0; i < 500 && !listening(port); i++) await new Promise((r) => setTimeout(r, 10));
    return {
      port,
      pid,
      output: () => vgio.output() + rio.output(),
      waitFor: vgio.waitFor,
      alive: () => pidAlive(pid),
      dispose: () => cleanup([pid]),
    };
  } catch (err) {
    await cleanup(vg.pid ? [vg.pid] : []);
    throw err;
  }
}

/** Thread ids of a live process, from /proc (independent of any stub). */
export function procThreads(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
}
