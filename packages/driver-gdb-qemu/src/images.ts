import { imageModule, imageRegions, readImage, type Addr, type ImageInfo, type LoadedModule, type Region } from '@stackdb/core';
import { ET } from '@stackdb/dwdebug';
import { findAll, parseXml } from './rsp/xml.js';

/*
 * Where a process's images are, when the stub cannot show /proc/PID/maps.
 *
 * The auxiliary vector (qXfer:auxv) gives the main program's entry point as
 * loaded (AT_ENTRY, so a PIE's bias is AT_ENTRY minus e_entry) and the dynamic
 * linker's load address (AT_BASE). Shared libraries come from the stub's SVR4
 * library list when it has one (qXfer:libraries-svr4), else from the dynamic
 * linker's own list in memory: the main program's DT_DEBUG entry points at
 * `struct r_debug`, whose r_map heads the chain of `struct link_map`s
 * (l_addr = bias, l_name, l_ld, l_next), the same walk GDB makes. Each image's
 * PT_LOAD segments, moved by its bias, give its regions.
 */

const PAGE = 4096n;
const AT_BASE = 7n;
const AT_ENTRY = 9n;
const DT_NULL = 0n;
const DT_DEBUG = 21n;
/** Never follow more link_map entries than this (a corrupt list may loop). */
const MAX_LIBRARIES = 4096;

/** What the image code needs from the target. */
export interface ImageContext {
  /** Reads exactly `length` bytes of the process's memory (throws on a fault). */
  read(address: Addr, length: number): Promise<Uint8Array>;
  readString(address: Addr): Promise<string>;
  /** A `qXfer` object, or undefined when the stub does not offer it. */
  xfer(object: string, annex: string): Promise<Uint8Array | undefined>;
  /** Maps a path as the target names it to one readable here (`-R`). */
  openPath(p: string): string;
}


/** Parses an auxiliary vector (pairs of 64-bit little-endian words). */
export function parseAuxv(bytes: Uint8Array): Map<bigint, bigint> {
  const out = new Map<bigint, bigint>();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 16 <= bytes.length; i += 16) {
    const type = dv.getBigUint64(i, true);
    if (type === 0n) break;
    out.set(type, dv.getBigUint64(i + 8, true));
  }
  return out;
}

/** One library of an SVR4 list: its path and load bias. */
export interface Library {
  readonly path: string;
  readonly bias: Addr;
}

/** Parses the stub's `<library-list-svr4>`. */
export function parseSvr4(xml: string): Library[] {
  const doc = parseXml(xml);
  if ('error' in doc) return [];
  const out: Library[] = [];
  for (const lib of findAll(doc, 'library')) {
    const name = lib.attrs.name;
    const lAddr = lib.attrs.l_addr;
    if (!name || !lAddr || !/^0x[0-9a-fA-F]+$/.test(lAddr)) continue;
    out.push({ path: name, bias: BigInt(lAddr) });
  }
  return out;
}

/** Follows the dynamic linker's link_map chain from the main program's DT_DEBUG. */
export async function walkLinkMap(ctx: ImageContext, dynamicAddress: Addr): Promise<Library[]> {
  const u64 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
  let rDebug = 0n;
  for (let i = 0; i < 256; i++) {
    const ent = await ctx.read(dynamicAddress + BigInt(i * 16), 16);
    const tag = u64(ent, 0);
    if (tag === DT_NULL) break;
    if (tag === DT_DEBUG) {
      rDebug = u64(ent, 8);
      break;
    }
  }
  // r_debug is filled in by the dynamic linker once it has run.
  if (rDebug === 0n) return [];
  let lm = u64(await ctx.read(rDebug + 8n, 8), 0);
  const out: Library[] = [];
  for (let n = 0; lm !== 0n && n < MAX_LIBRARIES; n++) {
    const ent = await ctx.read(lm, 32);
    const namePtr = u64(ent, 8);
    const name = namePtr ? await ctx.readString(namePtr).catch(() => '') : '';
    if (name) out.push({ path: name, bias: u64(ent, 0) });
    lm = u64(ent, 24);
  }
  return out;
}

/**
 * Places the main program, its dynamic linker and its libraries without
 * /proc/PID/maps (see the comment at the top). `mainPath` is the program as the
 * target names it.
 */
export async function placeImages(ctx: ImageContext, mainPath: string): Promise<{ modules: LoadedModule[]; regions: Region[] }> {
  const main = readImage(mainPath, ctx.openPath(mainPath));
  if (!main) return { modules: [], regions: [] };
  const auxvBytes = await ctx.xfer('auxv', '').catch(() => undefined);
  const auxv = auxvBytes ? parseAuxv(auxvBytes) : new Map<bigint, bigint>();
  const entry = auxv.get(AT_ENTRY);
  const mainBias = main.type === ET.DYN && entry !== undefined ? entry - main.entry : 0n;
  const modules: LoadedModule[] = [imageModule(main, mainBias, true)];
  const regions: Region[] = imageRegions(main, mainBias);
  const seen = new Set([mainPath]);
  const place = (image: ImageInfo, bias: Addr) => {
    seen.add(image.path);
    modules.push(imageModule(image, bias, false));
    regions.push(...imageRegions(image, bias));
  };
  const add = (p: string, bias: Addr) => {
    if (seen.has(p) || !p.startsWith('/')) return;
    const image = readImage(p, ctx.openPath(p));
    if (image) place(image, bias);
  };
  let libraries: Library[] = [];
  const svr4 = await ctx.xfer('libraries-svr4', '').catch(() => undefined);
  if (svr4) libraries = parseSvr4(Buffer.from(svr4).toString('utf8'));
  else if (main.dynamic !== undefined) libraries = await walkLinkMap(ctx, main.dynamic + mainBias).catch(() => []);
  for (const lib of libraries) add(lib.path, lib.bias);
  const base = auxv.get(AT_BASE);
  if (main.interp && base) {
    const interp = readImage(main.interp, ctx.openPath(main.interp));
    const first = interp?.loads[0];
    if (interp && first && !seen.has(main.interp)) place(interp, base - (first.vaddr / PAGE) * PAGE);
  }
  regions.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { modules, regions };
}
