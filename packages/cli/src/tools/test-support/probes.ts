import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixture, repoRoot, run } from '@stackdb/test-support';
import { ProgramSymbols, Registry, SymbolProbes, openTargets, parseCommandLine, standardWalker, type Target } from '@stackdb/core';

/** The stackdb command of this package. */
export const stackdbBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/stackdb.js');

/** Builds a C fixture of test/probes (gcc -g, -O0 unless `flags` say otherwise, -pthread). */
export function probeFixture(name: string, flags: readonly string[] = ['-O0']): string {
  const suffix = flags.join('').replace(/[^a-z0-9]/gi, '');
  return buildFixture({ name: `${name}-${suffix}`, sources: [`packages/cli/test/probes/${name}.c`], flags: ['-g', '-pthread', ...flags] });
}

/** The line of a fixture source holding `marker` (a `LINE_...` comment). */
export function markerLine(name: string, marker: string): number {
  const lines = fs.readFileSync(path.join(repoRoot, 'packages/cli/test/probes', `${name}.c`), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`${marker} not found in ${name}.c`);
  return i + 1;
}

let registry: Registry | undefined;

/** A fresh temporary directory. */
export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-probes-'));
}

/** A launched program under the ptrace driver (through the registry, as the tools open it), with its probes by name. */
export interface Launched {
  readonly target: Target;
  readonly probes: SymbolProbes;
  /** Where its stdout goes. */
  readonly out: string;
  /** Its output so far. */
  output(): string;
}

/** Launches `argv` stopped at its first instruction, stdout to a file. */
export async function launch(argv: readonly string[]): Promise<Launched> {
  registry ??= Registry.discover();
  const out = path.join(tmpDir(), 'out');
  const args = parseCommandLine(['-O', out, '--', ...argv], { drivers: registry.drivers });
  const [target] = await openTargets(args.targets, registry);
  const program = new ProgramSymbols(target!);
  const probes = SymbolProbes.for(target!, { program, walker: standardWalker(target!, program) });
  return { target: target!, probes, out, output: () => fs.readFileSync(out, 'utf8') };
}

/** Little-endian unsigned integer of a value's bytes. */
export function valueOf(bytes: Uint8Array | undefined, signed = false): bigint {
  if (!bytes) throw new Error('no bytes');
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return signed ? BigInt.asIntN(bytes.length * 8, v) : v;
}

/** The program's own output for the same arguments, run without a debugger. */
export function plainOutput(argv: readonly string[]): string {
  return run(argv[0]!, argv.slice(1));
}

/** Runs `stackdb ARGS` to completion. */
export function stackdb(args: readonly string[], opts: { input?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [stackdbBin, ...args], { encoding: 'utf8', ...(opts.input !== undefined ? { input: opts.input } : {}), timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running process with its stdout collected, started from this test process. */
export class Running {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(argv: readonly string[], opts: { stdin?: 'pipe' | 'ignore' } = {}) {
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits until stdout (or stderr) matches. */
  async waitFor(re: RegExp, where: 'stdout' | 'stderr' = 'stdout', ms = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this[where]);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in ${where}: ${JSON.stringify(this[where].slice(-500))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  write(text: string): void {
    this.child.stdin!.write(text);
  }

  end(): void {
    this.child.stdin!.end();
  }
}
