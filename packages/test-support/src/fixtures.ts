import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './system.js';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where built fixtures are cached (gitignored). */
export const fixtureCache = process.env.STACKDB_FIXTURE_CACHE ?? path.join(repoRoot, '.cache', 'fixtures');

/** How to build one C/C++ fixture. */
export interface FixtureSpec {
  /** Output file name. */
  readonly name: string;
  /** Source files (absolute, or relative to the repo root). */
  readonly sources: readonly string[];
  /** Compiler: gcc (default), g++, clang, clang++. */
  readonly compiler?: string;
  /** Flags, e.g. ['-g', '-O2', '-gdwarf-5', '-pthread']. */
  readonly flags?: readonly string[];
  /** Other files the build reads (headers, inputs of post steps): part of the cache key. */
  readonly deps?: readonly string[];
  /** Commands run after linking, with `$OUT` replaced by the output path (objcopy, dwz...). */
  readonly post?: readonly (readonly string[])[];
}

function compilerVersion(cc: string): string {
  try {
    return run(cc, ['--version']).split('\n')[0] ?? cc;
  } catch {
    return cc;
  }
}

/**
 * Builds a fixture from sources in the repo (once per content hash) and returns
 * the output path. Safe to call from concurrent test processes: the first to finish
 * a build places it, and no one replaces it after.
 */
export function buildFixture(spec: FixtureSpec): string {
  const cc = spec.compiler ?? 'gcc';
  const sources = spec.sources.map((s) => (path.isAbsolute(s) ? s : path.join(repoRoot, s)));
  const h = createHash('sha256');
  h.update(JSON.stringify({ cc: compilerVersion(cc), flags: spec.flags ?? [], post: spec.post ?? [], name: spec.name }));
  for (const s of [...sources, ...(spec.deps ?? []).map((d) => (path.isAbsolute(d) ? d : path.join(repoRoot, d)))]) h.update(fs.readFileSync(s));
  const dir = path.join(fixtureCache, h.digest('hex').slice(0, 16));
  const out = path.join(dir, spec.name);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(dir, { recursive: true });
  const tmpDir = fs.mkdtempSync(path.join(dir, '.build-'));
  const tmp = path.join(tmpDir, spec.name);
  run(cc, [...(spec.flags ?? []), '-o', tmp, ...sources]);
  for (const cmd of spec.post ?? []) {
    const [bin, ...args] = cmd.map((a) => a.replaceAll('$OUT', tmp).replaceAll('$DIR', tmpDir));
    run(bin!, args, { cwd: tmpDir });
  }
  // Link every product (debug files made by post steps too) into place, the main output last.
  // A product another process put there first is kept: replacing it would leave a program
  // already running from it mapping a deleted file.
  for (const f of fs.readdirSync(tmpDir)) if (f !== spec.name) linkUnlessPresent(path.join(tmpDir, f), path.join(dir, f));
  linkUnlessPresent(tmp, out);
  fs.rmSync(tmpDir, { recursive: true, force: true });
  return out;
}

function linkUnlessPresent(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
