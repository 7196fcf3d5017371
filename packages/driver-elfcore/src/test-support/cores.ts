/*
 * Makes real process cores of the threads fixture for the tests: one with
 * gdb's gcore, one written by the kernel on SIGSEGV. Both come from a live
 * run of the fixture built from test/fixtures/threads.c.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildFixture, run, type Need } from '@stackdb/test-support';

/** The threads fixture, built once per source hash. */
export function threadsFixture(): string {
  return buildFixture({
    name: 'elfcore-threads',
    sources: ['packages/driver-elfcore/test/fixtures/threads.c'],
    flags: ['-g', '-O0', '-pthread'],
  });
}

/** A fixture run that printed its readiness line. */
interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startFixture(cmd: string, args: string[], cwd: string): Promise<Running> {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve({ child, pid: Number(m[1]), exited });
    });
    child.on('error', reject);
    void exited.then((e) => reject(new Error(`fixture exited before it was ready (${e.code ?? e.signal})`)));
  });
}

/** A core made for a test, with the fixture's pid and the directory to remove afterwards. */
export interface TestCore {
  readonly core: string;
  readonly exe: string;
  readonly pid: number;
  readonly dir: string;
}

/** Runs the fixture and dumps it with gcore; the process is killed afterwards. */
export async function makeGcore(exe: string): Promise<TestCore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elfcore-gcore-'));
  const r = await startFixture(exe, [], dir);
  try {
    run('gcore', ['-o', path.join(dir, 'core'), String(r.pid)]);
  } finally {
    r.child.kill('SIGKILL');
    await r.exited;
  }
  return { core: path.join(dir, `core.${r.pid}`), exe, pid: r.pid, dir };
}

/** Why the kernel would not write a core into the crashing process's directory, if it would not. */
export function kernelCoreUnavailable(): string | undefined {
  let pattern: string;
  try {
    pattern = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
  } catch {
    return 'cannot read /proc/sys/kernel/core_pattern';
  }
  if (pattern.startsWith('|')) return `core_pattern pipes cores to ${pattern.slice(1).split(' ')[0]}`;
  if (pattern.includes('/')) return `core_pattern ${pattern} writes cores outside the working directory`;
  return undefined;
}

/** The need for kernel cores, for systemTest. */
export const KERNEL_CORES: Need = { check: kernelCoreUnavailable, what: 'kernel core dumps into the working directory' };

/**
 * Runs the fixture with an unlimited core size in a fresh directory, sends it
 * SIGSEGV and returns the core the kernel wrote there. The system's
 * core_pattern is left alone (see {@link kernelCoreUnavailable}).
 */
export async function makeKernelCore(exe: string): Promise<TestCore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elfcore-kcore-'));
  const r = await startFixture('sh', ['-c', `ulimit -c unlimited && exec "$0"`, exe], dir);
  r.child.kill('SIGSEGV');
  const end = await r.exited;
  if (end.signal !== 'SIGSEGV') throw new Error(`fixture ended with ${end.code ?? end.signal}, not SIGSEGV`);
  const name = fs.readdirSync(dir).find((f) => f.startsWith('core'));
  if (!name) throw new Error(`the kernel wrote no core into ${dir}`);
  return { core: path.join(dir, name), exe, pid: r.pid, dir };
}

/** Runs gdb in batch mode on a core and returns its stdout. */
export function gdbOnCore(exe: string, core: string, commands: readonly string[]): string {
  const args = ['-nx', '-batch', '-iex', 'set debuginfod enabled off', '-c', core, exe];
  for (const c of commands) args.push('-ex', c);
  return run('gdb', args);
}
