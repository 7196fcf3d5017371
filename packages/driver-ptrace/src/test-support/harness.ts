import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildFixture, run } from '@stackdb/test-support';
import type { Target } from '@stackdb/core';

/** Builds a C fixture of test/fixtures (gcc -g -O1 -pthread, plus `flags`). */
export function fixture(name: string, flags: readonly string[] = []): string {
  const suffix = flags.length ? `-${flags.join('').replace(/[^a-z0-9]/gi, '')}` : '';
  return buildFixture({ name: `${name}${suffix}`, sources: [`packages/driver-ptrace/test/fixtures/${name}.c`], flags: ['-g', '-O1', '-pthread', ...flags] });
}

/** Link-time address of a symbol, as `nm` (binutils) reads it from the file. */
export function nmAddress(file: string, symbol: string): bigint {
  for (const line of run('nm', [file]).split('\n')) {
    const [addr, , name] = line.trim().split(/\s+/);
    if (name === symbol && addr) return BigInt(`0x${addr}`);
  }
  throw new Error(`${symbol} not found in ${file}`);
}

/** Size of a symbol, as `nm -S` reads it from the file. */
export function nmSize(file: string, symbol: string): bigint {
  for (const line of run('nm', ['-S', file]).split('\n')) {
    const [, size, , name] = line.trim().split(/\s+/);
    if (name === symbol && size) return BigInt(`0x${size}`);
  }
  throw new Error(`${symbol} has no size in ${file}`);
}

/** Runtime address of a symbol of the main program: its link-time address (nm) plus the module's load bias. */
export async function runtimeAddress(target: Target, file: string, symbol: string): Promise<bigint> {
  const main = (await target.modules()).find((m) => m.main);
  if (!main) throw new Error('no main module');
  return main.bias + nmAddress(file, symbol);
}

/** A fresh temporary directory. */
export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-ptrace-'));
}

/**
 * Starts a program that is not a child of this process (through a shell that
 * exits at once), so libuv never reaps it; returns its pid. Output goes to `out`.
 */
export function startDetached(argv: readonly string[], out: string): number {
  const r = spawnSync('sh', ['-c', '"$@" > "$0" 2>&1 < /dev/null & echo $!', out, ...argv], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  if (!pid) throw new Error(`could not start ${argv.join(' ')}: ${r.stderr}`);
  return pid;
}

/** True while process `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function until<T>(fn: () => T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Kills a process (ignoring a missing one). */
export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone already */
  }
}

/** The last `beat N` number a spin fixture printed. */
export function lastBeat(out: string): number {
  const m = [...fs.readFileSync(out, 'utf8').matchAll(/beat (\d+)/g)];
  return m.length ? Number(m[m.length - 1]![1]) : 0;
}
