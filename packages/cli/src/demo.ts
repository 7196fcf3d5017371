import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StackdbError } from '@stackdb/core';
import { placeOnce } from '@stackdb/dwdebug';

const source = fileURLToPath(new URL('../demo/dummy.c', import.meta.url));

/**
 * The bundled demo program (the seed's `dummy`, or `dummy.threads` with two
 * threads), compiled on first use with the system's C compiler into
 * `$XDG_CACHE_HOME/stackdb` (or `~/.cache/stackdb`). Returns its path.
 */
export function demoProgram(opts: { threads?: boolean } = {}): string {
  const text = fs.readFileSync(source);
  const flags = ['-g', '-O0', ...(opts.threads ? ['-DTHREADS', '-pthread'] : [])];
  const hash = createHash('sha256').update(text).update(flags.join(' ')).digest('hex').slice(0, 12);
  const cacheRoot = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const dir = path.join(cacheRoot, 'stackdb', `demo-${hash}`);
  const out = path.join(dir, opts.threads ? 'dummy.threads' : 'dummy');
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}`;
  for (const cc of [process.env.CC, 'gcc', 'cc', 'clang'].filter((c): c is string => !!c)) {
    const r = spawnSync(cc, [...flags, '-o', tmp, source], { encoding: 'utf8' });
    if (r.error) continue;
    if (r.status !== 0) throw new StackdbError('ERR_DEMO_BUILD', `cannot build the demo program with ${cc}: ${r.stderr.trim().split('\n')[0]}`);
    placeOnce(tmp, out);
    return out;
  }
  throw new StackdbError('ERR_DEMO_BUILD', 'the demo program needs a C compiler (gcc, cc or clang; or set CC)');
}
