import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/*
 * Decompressed copies of large compressed sections (glibc's debug file keeps
 * its DWARF zlib-compressed), kept on disk so that later runs read the bytes
 * they need piecewise instead of inflating whole sections every time. A copy is
 * keyed by the compressed file's identity (device, inode, size, modification
 * time) and the section, so a changed file never meets a stale copy. The cache
 * lives in $STACKDB_CACHE_DIR, else $XDG_CACHE_HOME/stackdb, else
 * ~/.cache/stackdb; STACKDB_NO_CACHE=1 turns it off. Any failure to use it
 * silently falls back to decompressing in memory.
 */

/** Sections smaller than this stay in memory: a file is not worth it. */
export const SECTION_CACHE_MIN_BYTES = 64 * 1024;

/**
 * Stackdb's cache directory ($STACKDB_CACHE_DIR, else $XDG_CACHE_HOME/stackdb,
 * else ~/.cache/stackdb), or undefined when STACKDB_NO_CACHE=1 turns caching off.
 */
export function stackdbCacheDir(): string | undefined {
  if (process.env.STACKDB_NO_CACHE === '1') return undefined;
  return process.env.STACKDB_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'stackdb');
}

/**
 * Moves a finished build `tmp` to `out` unless another process placed `out`
 * first (then `tmp` is dropped): a program already running from `out` keeps
 * its file, where a rename would replace it under that program.
 */
export function placeOnce(tmp: string, out: string): void {
  try {
    fs.linkSync(tmp, out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The section cache directory, or undefined when caching is off. */
export function sectionCacheDir(): string | undefined {
  const base = stackdbCacheDir();
  return base && path.join(base, 'sections');
}

/**
 * A file's identity in cache names: device, inode, size and modification
 * time, so a changed file never meets a stale entry. Undefined when it cannot
 * be stat'ed.
 */
export function fileIdentity(file: string): { readonly id: string; readonly stats: fs.Stats } | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  return { id: `${st.dev}-${st.ino}-${st.size}-${st.mtimeMs}`, stats: st };
}

/** Where the decompressed copy of a section of `file` lives (whether or not it exists yet). */
export function sectionCachePath(file: string, section: string, sectionOffset: number): string | undefined {
  const dir = sectionCacheDir();
  const f = dir && fileIdentity(file);
  return f ? path.join(dir, `${f.id}-${sectionOffset}${section}`) : undefined;
}

/** The cached copy's path when it exists with the expected size. */
export function cachedSection(cachePath: string, size: number): boolean {
  try {
    return fs.statSync(cachePath).size === size;
  } catch {
    return false;
  }
}

/** Writes a decompressed section to the cache (atomically); false when it cannot. */
export function storeSection(cachePath: string, bytes: Uint8Array): boolean {
  const tmp = `${cachePath}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(cachePath), { recursive: true });
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, cachePath);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}
