import type { ExecutionContext, TestFn } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** True under CI, where a missing system is a failure, not a skip. */
export const isCI = process.env.CI === 'true';

/** Something a real-system test needs. */
export type Need =
  | { readonly command: string; readonly package?: string }
  | { readonly file: string; readonly package?: string; readonly what?: string }
  | { readonly root: true; readonly why?: string }
  | { readonly check: () => string | undefined; readonly what: string };

const commandCache = new Map<string, boolean>();

/** True when `cmd` is on PATH. */
export function commandExists(cmd: string): boolean {
  let ok = commandCache.get(cmd);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v ${JSON.stringify(cmd)}`], { stdio: 'ignore' }).status === 0;
    commandCache.set(cmd, ok);
  }
  return ok;
}

/** The reasons the needs are not met (empty when all are). */
export function missing(needs: readonly Need[]): string[] {
  const out: string[] = [];
  for (const n of needs) {
    if ('command' in n) {
      if (!commandExists(n.command)) out.push(`${n.command} not found${n.package ? ` (Debian package ${n.package})` : ''}`);
    } else if ('file' in n) {
      if (!fs.existsSync(n.file)) out.push(`${n.what ?? n.file} not found${n.package ? ` (Debian package ${n.package})` : ''}`);
    } else if ('root' in n) {
      if (process.getuid?.() !== 0) out.push(`needs root${n.why ? ` (${n.why})` : ''}`);
    } else {
      const why = n.check();
      if (why) out.push(`${n.what}: ${why}`);
    }
  }
  return out;
}

/**
 * Declares a test that needs real systems. When they are missing it is skipped
 * with the reason in its title, except under CI, where it fails saying what is
 * missing.
 */
export function systemTest(
  test: TestFn,
  title: string,
  needs: readonly Need[],
  fn: (t: ExecutionContext) => unknown,
  opts: { serial?: boolean } = {},
): void {
  const reasons = missing(needs);
  const run = opts.serial ? test.serial : test;
  if (reasons.length === 0) run(title, async (t) => { await fn(t); });
  else if (isCI) run(title, (t) => t.fail(`missing on this machine: ${reasons.join('; ')}`));
  else run.skip(`${title} [skipped: ${reasons.join('; ')}]`, async (t) => { await fn(t); });
}

/** Runs a command and returns its stdout; throws with stderr on failure. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, input: opts.input, timeout: opts.timeoutMs ?? 120_000, env: opts.env ?? process.env, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** The Python that has Debian's python3-drgn (another `python3` may come first on PATH). */
export const DRGN_PYTHON = '/usr/bin/python3';

/** What a test needs to run drgn, for {@link systemTest}. */
export const drgnNeed: Need = {
  what: 'drgn',
  check: () => {
    try {
      run(DRGN_PYTHON, ['-c', 'import drgn']);
      return undefined;
    } catch {
      return `${DRGN_PYTHON} cannot import drgn (Debian package python3-drgn)`;
    }
  },
};
