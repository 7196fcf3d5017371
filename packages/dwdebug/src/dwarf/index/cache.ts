/**
 * An on-disk cache of built indexes (like gdb's index-cache): the name
 * index, the function code ranges and the unit roots of a file, stored under
 * a key made of the file's path, size, modification time and inode, so a
 * second load of the same file skips the scan. Opt-in: a library writes to
 * disk only when asked.
 *
 * Format: "SDBDWIX1", a u32 length and a JSON header (key, roots, errors,
 * array lengths), then the arrays' bytes, each padded to 8 bytes. A cache
 * that cannot be read or does not match is ignored (and rewritten).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DwarfError } from '../../errors.js';
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
  let st: fs.Stats;
  try {
    st = fs.statSync(ctx.path);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  const id = JSON.stringify({ f: FORMAT, p: path.resolve(ctx.path), s: st.size, m: st.mtimeMs, i: st.ino, d: st.dev, u: ctx.units.length, sup: ctx.isSupplementary });
  return createHash('sha256').update(id).digest('hex');
}

// JSON cannot hold bigints: the roots' address attributes carry some.
const toJson = (_k: string, v: unknown) => (typeof v === 'bigint' ? { $big: v.toString() } : v);
const fromJson = (_k: string, v: unknown) => (v && typeof v === 'object' && '$big' in v ? BigInt((v as { $big: string }).$big) : v);

type Arrays = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/** Writes a built index under its key. Errors are swallowed: a cache is an optimisation. */
export function writeCache(dir: string, key: string, ctx: DwarfContext, built: BuiltIndex): void {
  try {
    const names = built.index.toArrays();
    const f = built.functions;
    const arrays: Arrays[] = [new TextEncoder().encode(names.texts.join('\0')), names.keys, names.start, names.die, names.tag, names.flags, f.byUnit];
    for (const o of f.outputs) arrays.push(o.die, o.kind, o.a, o.b, o.units);
    const header = Buffer.from(JSON.stringify({
      key, texts: names.texts.length, outputs: f.outputs.length, lengths: arrays.map((a) => a.byteLength),
      roots: ctx.roots, errors: built.errors.map((e) => ({ code: e.code, message: e.message.replace(/ \([^()]*\)$/, ''), section: e.section, offset: e.offset })),
    }, toJson));
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${key}.idx`);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      const pre = Buffer.alloc(12);
      pre.write(MAGIC, 0, 'latin1');
      pre.writeUInt32LE(header.length, 8);
      fs.writeSync(fd, pre);
      fs.writeSync(fd, header);
      const pad = Buffer.alloc(8);
      let pos = 12 + header.length;
      const align = () => {
        const n = (8 - (pos % 8)) % 8;
        if (n) fs.writeSync(fd, pad, 0, n);
        pos += n;
      };
      align();
      for (const a of arrays) {
        fs.writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
        pos += a.byteLength;
        align();
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch {
    // A read-only or full disk only costs the next load a scan.
  }
}

/** Reads a cached index for a key into `ctx.roots`; undefined when there is none or it does not fit. */
export function readCache(dir: string, key: string, ctx: DwarfContext): BuiltIndex | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path.join(dir, `${key}.idx`));
  } catch {
    return undefined;
  }
  try {
    if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return undefined;
    const hlen = buf.readUInt32LE(8);
    const header = JSON.parse(buf.toString('utf8', 12, 12 + hlen), fromJson) as {
      key: string; texts: number; outputs: number; lengths: number[]; roots: (RootInfo | null)[];
      errors: { code: string; message: string; section?: string; offset?: number }[];
    };
    if (header.key !== key || header.roots.length !== ctx.units.length) return undefined;
    let pos = 12 + hlen;
    pos += (8 - (pos % 8)) % 8;
    let k = 0;
    // Copies into fresh, aligned buffers: the file buffer's offset need not suit every element size.
    const take = <T extends Arrays>(make: (b: ArrayBuffer) => T): T => {
      const len = header.lengths[k++]!;
      if (pos + len > buf.length) throw new Error('short cache');
      const copy = new ArrayBuffer(len);
      new Uint8Array(copy).set(buf.subarray(pos, pos + len));
      pos += len + ((8 - (len % 8)) % 8);
      return make(copy);
    };
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
