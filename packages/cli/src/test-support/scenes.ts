import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { buildFixture } from '@stackdb/test-support';
import { main } from '../main.js';

/** The backtrace test program (test/bt-scenes.c) at an optimization level. */
export function scenesProgram(opt: '-O0' | '-O2'): string {
  return buildFixture({ name: `bt-scenes${opt}`, sources: ['packages/cli/test/bt-scenes.c'], flags: ['-g', opt, '-pthread'] });
}

/** The library bt-scenes loads with dlopen. */
export function scenesPlugin(): string {
  return buildFixture({ name: 'libbtplugin.so', sources: ['packages/cli/test/bt-plugin.c'], flags: ['-g', '-O2', '-shared', '-fPIC'] });
}

/** A running program that is not a child of this process (ptrace attach needs that). */
export interface Detached {
  readonly pid: number;
  /** The program's stdout so far. */
  output(): string;
  kill(): void;
}

/**
 * Starts a program through a shell, in the background, so that it is no child
 * of Node (whose libuv would reap its ptrace stops); waits until its stdout
 * matches `ready`.
 */
export async function startDetached(argv: readonly string[], ready: RegExp, timeoutMs = 20_000): Promise<Detached> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-cli-'));
  const out = path.join(dir, 'stdout');
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync('sh', ['-c', `${quoted} >${out} 2>&1 </dev/null & echo $!`], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  if (!pid) throw new Error(`cannot start ${argv[0]}: ${r.stderr}`);
  const output = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '');
  const kill = () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(output())) {
    if (Date.now() > deadline) {
      const text = output();
      kill();
      throw new Error(`${argv[0]} did not get ready: ${text}`);
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  return { pid, output, kill };
}

/** Runs `stackdb ARGS` in this process; resolves with its exit code and output. */
export async function stackdb(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      add(chunk.toString());
      cb();
    },
  });
  const code = await main(argv, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

/** The state of a process from /proc (R, S, t, ...), or undefined when it is gone. */
export function procState(pid: number): string | undefined {
  try {
    return /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The tracer of a process (0 when none). */
export function tracerOf(pid: number): number {
  return Number(/^TracerPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? -1);
}
