import fs from 'node:fs';
import path from 'node:path';
import { DwarfError } from '../errors.js';
import { debugLinkOf, fileCrc32 } from '../elf/debuglink.js';
import type { DebugAltLink, DebugSup } from '../elf/debuglink.js';
import { ElfFile } from '../elf/elf-file.js';
import { buildIdOf } from '../elf/notes.js';

/** Where to look for separate debuginfo. */
export interface DebugSearchOptions {
  /**
   * The `-R` root prefix: every path (the binary's, the debug directories,
   * absolute paths found in links) is looked up under it.
   */
  readonly rootPrefix?: string;
  /** Global debug directories as the target sees them; default `['/usr/lib/debug']`. */
  readonly debugDirs?: readonly string[];
}

/** A separate debug file that was found and verified. */
export interface DebugFileMatch {
  /** Path readable here (root prefix applied). */
  readonly path: string;
  readonly elf: ElfFile;
  /** How it was found. */
  readonly how: 'build-id' | 'debuglink';
}

const DEFAULT_DEBUG_DIRS = ['/usr/lib/debug'] as const;

/** A target path mapped under the root prefix (unchanged without one). */
export function hostPath(targetPath: string, rootPrefix?: string): string {
  if (!rootPrefix) return targetPath;
  return path.join(rootPrefix, path.resolve('/', targetPath));
}

/** `DIR/.build-id/xx/rest.debug` for a hex build-id. */
export function buildIdPath(debugDir: string, buildId: string): string {
  return path.join(debugDir, '.build-id', buildId.slice(0, 2), `${buildId.slice(2)}.debug`);
}

function debugDirsOf(opts: DebugSearchOptions): readonly string[] {
  return opts.debugDirs ?? DEFAULT_DEBUG_DIRS;
}

function tryOpen(p: string): ElfFile | undefined {
  try {
    if (!fs.statSync(p).isFile()) return undefined;
    return ElfFile.open(p);
  } catch (err) {
    // A candidate that is missing or not ELF is simply not the one.
    if (err instanceof DwarfError || (err as NodeJS.ErrnoException).code !== undefined) return undefined;
    throw err;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * The candidate paths (host side) where a debuglink name is looked for, in
 * gdb's order: next to the binary, in its `.debug/` subdirectory, and under
 * each global debug directory mirroring the binary's directory. Both the
 * directory as named and its symlink-resolved form are tried (`/lib` is a
 * link to `/usr/lib` on merged-usr systems).
 */
export function debugLinkCandidates(targetPath: string, linkName: string, opts: DebugSearchOptions = {}): string[] {
  const dirs = new Set<string>([path.dirname(path.resolve('/', targetPath))]);
  const host = hostPath(targetPath, opts.rootPrefix);
  try {
    const real = fs.realpathSync(host);
    const prefix = opts.rootPrefix ? fs.realpathSync(opts.rootPrefix) : '';
    if (!prefix || real.startsWith(prefix + path.sep)) dirs.add(path.dirname(prefix ? real.slice(prefix.length) : real));
  } catch {
    // An unresolvable path keeps just the directory as named.
  }
  const out: string[] = [];
  for (const dir of dirs) {
    out.push(path.join(dir, linkName), path.join(dir, '.debug', linkName));
    for (const g of debugDirsOf(opts)) out.push(path.join(g, dir, linkName));
  }
  return [...new Set(out.map((p) => hostPath(p, opts.rootPrefix)))];
}

/**
 * Finds the separate debug file of a binary: by build-id first
 * (`/usr/lib/debug/.build-id/xx/rest.debug`, build-id checked), then by
 * `.gnu_debuglink` (CRC32 checked, or the build-ids compared when both files
 * have one, which spares hashing a large file). Returns undefined when there
 * is none.
 *
 * @param targetPath the binary's path as the target names it
 * @param elf the binary, already open
 */
export function findDebugFile(targetPath: string, elf: ElfFile, opts: DebugSearchOptions = {}): DebugFileMatch | undefined {
  const buildId = buildIdOf(elf);
  const self = hostPath(targetPath, opts.rootPrefix);
  if (buildId && buildId.length > 2) {
    for (const dir of debugDirsOf(opts)) {
      const p = hostPath(buildIdPath(dir, buildId), opts.rootPrefix);
      if (sameFile(p, self)) continue;
      const cand = tryOpen(p);
      if (!cand) continue;
      if (buildIdOf(cand) === buildId) return { path: p, elf: cand, how: 'build-id' };
      cand.close();
    }
  }
  const link = debugLinkOf(elf);
  if (!link) return undefined;
  for (const p of debugLinkCandidates(targetPath, link.name, opts)) {
    if (sameFile(p, self)) continue;
    const cand = tryOpen(p);
    if (!cand) continue;
    const candId = buildIdOf(cand);
    const ok = buildId && candId ? buildId === candId : fileCrc32(p) === link.crc;
    if (ok) return { path: p, elf: cand, how: 'debuglink' };
    cand.close();
  }
  return undefined;
}

/**
 * Finds a dwz supplementary file named by `.gnu_debugaltlink` (or DWARF 5
 * `.debug_sup`): the path as given (absolute under the root prefix, or
 * relative to the debug file's directory), then by build-id in the debug
 * directories. The build-id must match when the link carries one.
 *
 * @param debugFileHostPath the host path of the file holding the link
 */
export function findAltFile(link: DebugAltLink | DebugSup, debugFileHostPath: string, opts: DebugSearchOptions = {}): { path: string; elf: ElfFile } | undefined {
  const name = 'path' in link ? link.path : link.name;
  const want = 'buildId' in link ? link.buildId : link.checksum;
  const candidates: string[] = [];
  if (path.isAbsolute(name)) candidates.push(hostPath(name, opts.rootPrefix));
  else candidates.push(path.join(path.dirname(debugFileHostPath), name));
  if (want) for (const dir of debugDirsOf(opts)) candidates.push(hostPath(buildIdPath(dir, want), opts.rootPrefix));
  for (const p of candidates) {
    const cand = tryOpen(p);
    if (!cand) continue;
    // `.debug_sup` checksums need not be build-ids; accept the named file then.
    if (!want || buildIdOf(cand) === want || !('buildId' in link)) return { path: p, elf: cand };
    cand.close();
  }
  return undefined;
}
