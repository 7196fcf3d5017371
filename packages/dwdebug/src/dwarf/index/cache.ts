/**
 * An on-disk cache of built indexes (like gdb's index-cache): the name
 * index, the function code ranges and the unit roots of a file, stored under
 * a key made of the file's identity (device, inode, size, modification time)
 * and unit count, so a second load of the same file skips the scan. Opt-in:
 * a library writes to disk only when asked.
 *
 * Format: a blob file (blob-file.ts) with magic "SDBDWIX1" whose JSON header
 * holds the key, roots and errors. A cache that cannot be read or does not
 * match is ignored (and rewritten).
 */
import os from 'node:os';
import path from 'node:path';
import { DwarfError } from '../../errors.js';
import { fileIdentity } from '../../elf/section-cache.js';
import { readBlobFile, writeBlobFile, type BlobArray } from '../blob-file.js';
import type { DwarfContext } from '../context.js';
import type { AttrValue } from '../die.js';
import type { RootInfo } from '../root.js';
import type { BuiltIndex, FunctionIndex } from './build.js';
import { NameIndex } from './name-index.js';
import { nameStrings } from './strings.js';

const MAGIC = 'SDBDWIX1';
const FORMAT = 2;

/** The default cache directory: `$XDG_CACHE_HOME/stackdb/dwarf-index` or `~/.cache/stackdb/dwarf-index`. */
export function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'stackdb', 'dwarf-index');
}

/** The cache key of a context's file, or undefined when it is not a file on disk. */
export function cacheKey(ctx: DwarfContext): string | undefined {
  const f = fileIdentity(ctx.path);
  if (!f?.stats.isFile()) return undefined;
  return `${f.id}-${ctx.units.length}${ctx.isSupplementary ? '-sup' : ''}-f${FORMAT}`;
}

// JSON cannot hold bigints: the roots' address attributes carry some.
const toJson = (_k: string, v: unknown) => (typeof v === 'bigint' ? { $big: v.toString() } : v);
const fromJson = (_k: string, v: unknown) => (v && typeof v === 'object' && '$big' in v ? BigInt((v as { $big: string }).$big) : v);

/** Writes a built index under its key. Errors are swallowed: a cache is an optimisation. */
export function writeCache(dir: string, key: string, ctx: DwarfContext, built: BuiltIndex): void {
  try {
    const names = built.index.toArrays();
    const f = built.functions;
    const arrays: BlobArray[] = [new TextEncoder().encode(names.texts.join('\0')), names.keys, names.start, names.die, names.tag, names.flags, f.byUnit];
    for (const o of f.outputs) arrays.push(o.die, o.kind, o.a, o.b, o.units);
    writeBlobFile(path.join(dir, `${key}.idx`), MAGIC, {
      key, texts: names.texts.length, outputs: f.outputs.length,
      roots: ctx.roots, errors: built.errors.map((e) => ({ code: e.code, message: e.message.replace(/ \([^()]*\)$/, ''), section: e.section, offset: e.offset })),
    }, arrays, toJson);
  } catch {
    // A read-only or full disk only costs the next load a scan.
  }
}

/** Reads a cached index for a key into `ctx.roots`; undefined when there is none or it does not fit. */
export function readCache(dir: string, key: string, ctx: DwarfContext): BuiltIndex | undefined {
  try {
    const blob = readBlobFile<{
      key: string; texts: number; outputs: number; roots: (RootInfo | null)[];
      errors: { code: string; message: string; section?: string; offset?: number }[];
    }>(path.join(dir, `${key}.idx`), MAGIC, fromJson);
    if (!blob) return undefined;
    const header = blob.header;
    if (header.key !== key || header.roots.length !== ctx.units.length) return undefined;
    const take = <T extends BlobArray>(make: (b: ArrayBuffer) => T): T => blob.take(make);
    const textBytes = take((b) => new Uint8Array(b));
    const texts = header.texts ? new TextDecoder().decode(textBytes).split('\0') : [];
    if (texts.length !== header.texts) return undefined;
    const index = NameIndex.fromArrays({
      texts, keys: take((b) => new Float64Array(b)), start: take((b) => new Uint32Array(b)), die: take((b) => new Float64Array(b)), tag: take((b) => new Uint16Array(b)), flags: take((b) => new Uint8Array(b)),
    }, nameStrings(ctx));
    if (!index) return undefined;
    const byUnit = take((b) => new Int32Array(b));
    const outputs: FunctionIndex['outputs'][number][] = [];
    for (let i = 0; i < header.outputs; i++) {
      outputs.push({ die: take((b) => new Float64Array(b)), kind: take((b) => new Uint8Array(b)), a: take((b) => new Uint32Array(b)), b: take((b) => new Uint32Array(b)), units: take((b) => new Int32Array(b)) });
    }
    header.roots.forEach((r, i) => {
      if (r) ctx.roots[i] = r as RootInfo & { lowPc?: AttrValue };
    });
    const errors = header.errors.map((e) => new DwarfError(e.code, e.message, { file: ctx.path, ...(e.section ? { section: e.section } : {}), ...(e.offset !== undefined ? { offset: e.offset } : {}) }));
    return { index, functions: { outputs, byUnit }, errors };
  } catch {
    return undefined;
  }
}
