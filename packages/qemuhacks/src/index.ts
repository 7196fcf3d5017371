import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Raised when the preload library is not built (`ERR_QEMUHACKS_NOT_BUILT`). */
export class QemuhacksError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'QemuhacksError';
    this.code = code;
  }
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The absolute path of `libqemuhacks.so`, built by node-gyp when the package is
 * installed (or `$STACKDB_QEMUHACKS_LIB` when set). Throws `ERR_QEMUHACKS_NOT_BUILT`
 * when the file is missing.
 */
export function qemuhacksPath(): string {
  const lib = process.env.STACKDB_QEMUHACKS_LIB ?? path.join(packageRoot, 'build', 'Release', 'libqemuhacks.so');
  if (!fs.existsSync(lib)) throw new QemuhacksError('ERR_QEMUHACKS_NOT_BUILT', `${lib} is missing: run \`npm rebuild @stackdb/qemuhacks\` (needs a C compiler)`);
  return lib;
}

/**
 * The environment additions for a QEMU started with `-mem-path` under `prefix`:
 * `LD_PRELOAD` (the library first, then any preloads already in `env`) and
 * `QEMU_MEMPATH_PREFIX`. Files whose absolute path starts with `prefix` are then
 * mapped shared, kept on disk while QEMU runs, and removed when it exits.
 * A prefix is matched as a string: give a directory with a trailing `/`.
 */
export function qemuEnv(prefix: string, env: NodeJS.ProcessEnv = process.env): { LD_PRELOAD: string; QEMU_MEMPATH_PREFIX: string } {
  const lib = qemuhacksPath();
  const others = (env.LD_PRELOAD ?? '').split(/[: ]+/).filter((p) => p && p !== lib);
  return { LD_PRELOAD: [lib, ...others].join(':'), QEMU_MEMPATH_PREFIX: path.resolve(prefix) + (prefix.endsWith('/') ? '/' : '') };
}

/**
 * The guest-RAM files QEMU has made under `prefix` (`qemu_back_mem.<block>.XXXXXX`
 * when `-mem-path` names a directory), for `--qemu-mem-path`.
 */
export function ramFilesUnder(prefix: string): string[] {
  const full = path.resolve(prefix) + (prefix.endsWith('/') ? '/' : '');
  const dir = full.endsWith('/') ? full : path.dirname(full);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((n) => path.join(dir, n)).filter((p) => p.startsWith(full) && path.basename(p).startsWith('qemu_back_mem.')).sort();
}
