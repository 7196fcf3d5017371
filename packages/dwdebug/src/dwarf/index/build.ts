/**
 * Builds a file's name index, in worker threads for large files.
 *
 * The main thread only walks unit headers (a few bytes each). Workers get the
 * list of units and a shared claim counter; each claims the next-largest unit,
 * reads it by a positioned read of the file (or from a SharedArrayBuffer when
 * the section had to be decompressed), scans it, and at the end posts its
 * names and entries back. The main thread merges the per-thread tables,
 * resolves the few names that live in another unit, and keeps only the
 * compact index. No thread ever holds all of `.debug_info`.
 */
import os from 'node:os';
import { DwarfError } from '../../errors.js';
import type { DwarfContext, SectionKey } from '../context.js';
import { DW_AT } from '../constants.js';
import type { SectionSpec } from '../source.js';
import { dieIdSection, DieSection, type DieId, type UnitHeader } from '../unit.js';
import { cacheKey, readCache, writeCache } from './cache.js';
import { Dedup } from './entries.js';
import type { MatchWant } from './match.js';
import { NameIndex, type IndexEntry } from './name-index.js';
import { EntryFlag, type FunctionRanges, type ScanError, type ScanOutput } from './scan.js';
import { nameStrings } from './strings.js';
import { runIndexJob, type IndexJob, type IndexSections } from './task.js';

/** Options of {@link buildIndex}. */
export interface BuildOptions {
  /** A directory for the on-disk index cache (see cache.ts); none by default. */
  readonly indexCache?: string;
  /**
   * Worker threads besides the calling thread, which scans too (so a load
   * keeps its thread busy until the index is built). 0 scans in the calling
   * thread alone. Default: one per idle CPU (by the load average) beyond the
   * calling thread's, at most 7, on machines with four CPUs or more; none for
   * small files.
   */
  readonly workers?: number;
}

/**
 * Worker threads to start by default: one per CPU that is idle now, besides
 * the calling thread's, on machines with at least four CPUs. On a busy
 * machine an extra thread only competes for the same CPU (and costs its own
 * heap). On two CPUs it does not pay either: a scanning thread already keeps
 * V8's compiler and garbage-collector threads busy on the second CPU
 * (≈1.35 CPUs for one scan of the kernel), so a worker slowed the kernel's
 * index from 0.68 s to 0.81 s when measured.
 */
function defaultWorkers(): number {
  const cpus = Math.min(8, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  if (cpus < 4) return 0;
  const idle = Math.floor(cpus - os.loadavg()[0]! + 0.5);
  return Math.max(0, Math.min(cpus, idle) - 1);
}

/** Files with less `.debug_info` than this are scanned in the calling thread: starting workers costs more. */
const WORKER_MIN_BYTES = 8 * 1024 * 1024;

function shared(spec: SectionSpec | undefined): SectionSpec | undefined {
  if (!spec || spec.kind !== 'bytes' || spec.bytes.buffer instanceof SharedArrayBuffer) return spec;
  const sab = new SharedArrayBuffer(spec.bytes.length);
  const copy = new Uint8Array(sab);
  copy.set(spec.bytes);
  return { kind: 'bytes', name: spec.name, bytes: copy };
}

function sectionsOf(ctx: DwarfContext, forWorkers: boolean): IndexSections {
  const spec = (k: SectionKey, c: DwarfContext = ctx) => {
    const s = c.section(k)?.spec();
    return forWorkers ? shared(s) : s;
  };
  const out: Record<string, SectionSpec | undefined> = {
    info: spec('info'), types: spec('types'), abbrev: spec('abbrev'), str: spec('str'), lineStr: spec('line_str'),
    strOffsets: spec('str_offsets'), line: spec('line'), supStr: ctx.sup ? spec('str', ctx.sup) : undefined,
  };
  for (const k of Object.keys(out)) if (!out[k]) delete out[k];
  return out as IndexSections;
}

/**
 * The worker module, found through the package's own exports (this code may
 * run from a bundle elsewhere in dist/). When it runs from TypeScript sources
 * (the test suite, under tsx), the worker is a .ts file too, and worker threads
 * do not inherit the main thread's loader hooks: the worker then starts from a
 * tiny module that registers tsx before importing it.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL(import.meta.resolve('@stackdb/dwdebug/index-worker'));
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new URL('./worker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(worker)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

async function runWorker(job: IndexJob): Promise<ScanOutput> {
  const { Worker } = await import('node:worker_threads');
  return new Promise((resolve, reject) => {
    const w = new Worker(workerEntry(), { workerData: job });
    let done = false;
    w.once('message', (m: { ok: true; out: ScanOutput } | { ok: false; error: { code: string; message: string; file?: string; section?: string; offset?: number } }) => {
      done = true;
      if (m.ok) resolve(m.out);
      else reject(new DwarfError(m.error.code, m.error.message, { file: m.error.file ?? job.file }));
      void w.terminate();
    });
    w.once('error', (err) => {
      if (!done) reject(new DwarfError('ERR_DWARF_INDEX', `index worker failed: ${err.message}`, { file: job.file, cause: err }));
    });
    w.once('exit', (code) => {
      if (!done) reject(new DwarfError('ERR_DWARF_INDEX', `index worker exited with code ${code}`, { file: job.file }));
    });
  });
}

/** The result of indexing one file. */
export interface BuiltIndex {
  readonly index: NameIndex;
  /** Code ranges of every function definition the scan saw, by unit. */
  readonly functions: FunctionIndex;
  /** Units that could not be scanned (fully or in part). */
  readonly errors: DwarfError[];
}

function toError(ctx: DwarfContext, e: ScanError): DwarfError {
  // Messages from a worker already name their location; keep the bare message.
  const bare = e.message.replace(/ \([^()]*offset 0x[0-9a-f]+\)$/, '');
  return new DwarfError(e.code, bare, { file: ctx.path, ...(e.section ? { section: e.section } : {}), ...(e.offset !== undefined ? { offset: e.offset } : {}) });
}

/** Follows DW_AT_specification/abstract_origin from `target` to a DIE that has a name. */
function resolveName(ctx: DwarfContext, target: DieId): { name: string; external: boolean } | undefined {
  let id = target;
  let external = false;
  for (let depth = 0; depth < 8; depth++) {
    const c = dieIdSection(id) === DieSection.supInfo && !ctx.isSupplementary ? ctx.sup : ctx;
    if (!c) return undefined;
    const ui = c.unitIndexOf(id);
    if (ui < 0) return undefined;
    const d = c.dies(ui).at(id % 2 ** 44);
    if (!d) return undefined;
    const ev = d.attr(DW_AT.external);
    if (ev?.kind === 'flag' && ev.value) external = true;
    const name = c.string(d.attr(DW_AT.name), ui);
    if (name !== undefined) return { name, external };
    const next = d.attr(DW_AT.specification) ?? d.attr(DW_AT.abstract_origin);
    if (next?.kind !== 'ref') return undefined;
    id = next.id;
  }
  return undefined;
}

/**
 * Indexes every unit of a context: fills `ctx.roots` and returns the name
 * index. Decode errors of single units are returned, not thrown.
 */
export async function buildIndex(ctx: DwarfContext, opts: BuildOptions = {}): Promise<BuiltIndex> {
  const key = opts.indexCache ? cacheKey(ctx) : undefined;
  if (key) {
    const cached = readCache(opts.indexCache!, key, ctx);
    if (cached) return cached;
  }
  const built = await scanAll(ctx, opts);
  if (key) writeCache(opts.indexCache!, key, ctx, built);
  return built;
}

/** {@link buildIndex} in the calling thread, synchronously (for lookups that find no index yet). */
export function buildIndexSync(ctx: DwarfContext, opts: { indexCache?: string } = {}): BuiltIndex {
  const key = opts.indexCache ? cacheKey(ctx) : undefined;
  if (key) {
    const cached = readCache(opts.indexCache!, key, ctx);
    if (cached) return cached;
  }
  const built = finish(ctx, [runIndexJob({ ...jobBase(ctx), sections: sectionsOf(ctx, false) })]);
  if (key) writeCache(opts.indexCache!, key, ctx, built);
  return built;
}

function jobBase(ctx: DwarfContext): { file: string; littleEndian: boolean; units: readonly UnitHeader[]; order: Int32Array } {
  const units = ctx.units;
  // Largest first, so that the threads' last units are small and they finish together.
  const order = Int32Array.from(units.map((_, i) => i)).sort((a, b) => (units[b]!.end - units[b]!.offset) - (units[a]!.end - units[a]!.offset));
  return { file: ctx.path, littleEndian: ctx.littleEndian, units, order };
}

async function scanAll(ctx: DwarfContext, opts: BuildOptions): Promise<BuiltIndex> {
  const infoSize = (ctx.section('info')?.size ?? 0) + (ctx.section('types')?.size ?? 0);
  const nWorkers = Math.min(opts.workers ?? (infoSize >= WORKER_MIN_BYTES ? defaultWorkers() : 0), ctx.units.length);
  const base = jobBase(ctx);
  let outputs: ScanOutput[];
  if (nWorkers <= 0) {
    outputs = [runIndexJob({ ...base, sections: sectionsOf(ctx, false) })];
  } else {
    const next = new Int32Array(new SharedArrayBuffer(4));
    const job: IndexJob = { ...base, sections: sectionsOf(ctx, true), next };
    const pending = Array.from({ length: nWorkers }, () => runWorker(job));
    // While the workers start, this thread claims units from the same counter.
    const mine = runIndexJob({ ...base, sections: sectionsOf(ctx, false), next });
    outputs = [mine, ...(await Promise.all(pending))];
  }
  return finish(ctx, outputs);
}

/** Merges the threads' outputs into the index; records the roots the scan read. */
function finish(ctx: DwarfContext, outputs: ScanOutput[]): BuiltIndex {
  const errors: DwarfError[] = [];
  const pendingOut: ScanOutput = resolvePending(ctx, outputs, errors);
  for (const o of outputs) {
    for (const r of o.roots) ctx.roots[r.unit] = r.root;
    for (const e of o.errors) errors.push(toError(ctx, e));
  }
  return { index: NameIndex.merge(pendingOut.count ? [...outputs, pendingOut] : outputs, nameStrings(ctx)), functions: indexFunctions(outputs, ctx.units.length), errors };
}

/**
 * Looks one name up without an index (see match.ts): every unit (or those of
 * `order`, in that order) is scanned
 * in the calling thread, in section order, keeping only the DIEs named
 * `name` that `want` asks for. Returns the entries as an index lookup would
 * (duplicates dropped by the same rules, in DIE order) and the decode errors
 * met.
 */
export function matchScan(ctx: DwarfContext, name: string, want: MatchWant, order?: Int32Array): { entries: IndexEntry[]; errors: DwarfError[] } {
  const units = ctx.units;
  const out = runIndexJob({ file: ctx.path, littleEndian: ctx.littleEndian, units, order: order ?? Int32Array.from(units.keys()), sections: sectionsOf(ctx, false), match: { name, want } });
  const errors = out.errors.map((e) => toError(ctx, e));
  for (const r of out.roots) ctx.roots[r.unit] ??= r.root;
  const dedup = new Dedup();
  const entries: IndexEntry[] = [];
  // Units were scanned in file order, so the scanner kept the first of each set of duplicates.
  for (let i = 0; i < out.count; i++) {
    dedup.seen(0, out.tag[i]!, out.flags[i]!, out.declKey[i]!, i);
    entries.push({ die: out.die[i]! as DieId, tag: out.tag[i]!, flags: out.flags[i]! });
  }
  for (const p of out.pending) {
    const r = resolveNameOrNote(ctx, p.target, errors);
    const flags = p.flags | (r?.external ? EntryFlag.external : 0);
    if (r?.name !== name) continue;
    const prev = dedup.seen(0, p.tag, flags, 0, entries.length);
    if (prev < 0) entries.push({ die: p.die, tag: p.tag, flags });
    else if (p.die < entries[prev]!.die) entries[prev] = { die: p.die, tag: p.tag, flags };
  }
  return { entries: entries.sort((a, b) => a.die - b.die), errors };
}

/** Where each unit's function ranges are: the thread output holding them and their span. */
export interface FunctionIndex {
  readonly outputs: readonly FunctionRanges[];
  /** By unit index: output number, first entry, end entry (all -1 when the unit has none). */
  readonly byUnit: Int32Array;
}

function indexFunctions(outputs: readonly ScanOutput[], units: number): FunctionIndex {
  const byUnit = new Int32Array(units * 3).fill(-1);
  outputs.forEach((o, k) => {
    const u = o.functions.units;
    for (let i = 0; i + 2 < u.length; i += 3) {
      byUnit[3 * u[i]!] = k;
      byUnit[3 * u[i]! + 1] = u[i + 1]!;
      byUnit[3 * u[i]! + 2] = u[i + 2]!;
    }
  });
  return { outputs: outputs.map((o) => o.functions), byUnit };
}

/** The name a pending DIE's reference leads to; a decode error is noted in `errors` and gives undefined. */
function resolveNameOrNote(ctx: DwarfContext, target: DieId, errors: DwarfError[]): { name: string; external: boolean } | undefined {
  try {
    return resolveName(ctx, target);
  } catch (err) {
    if (err instanceof DwarfError) errors.push(err);
    else throw err;
    return undefined;
  }
}

/** Names of DIEs that refer to a DIE in another unit, resolved now that all units are known. */
function resolvePending(ctx: DwarfContext, outputs: readonly ScanOutput[], errors: DwarfError[]): ScanOutput {
  const texts: string[] = [];
  const ids = new Map<string, number>();
  const nameOf: number[] = [];
  const die: number[] = [];
  const tag: number[] = [];
  const flags: number[] = [];
  for (const o of outputs) {
    for (const p of o.pending) {
      const r = resolveNameOrNote(ctx, p.target, errors);
      if (!r) continue;
      let id = ids.get(r.name);
      if (id === undefined) {
        ids.set(r.name, (id = texts.length));
        texts.push(r.name);
      }
      nameOf.push(id);
      die.push(p.die);
      tag.push(p.tag);
      flags.push(p.flags | (r.external ? EntryFlag.external : 0));
    }
  }
  return {
    keys: Float64Array.from(texts, (_, i) => -1 - i), hashes: new Uint32Array(texts.length), texts, nameOf: Uint32Array.from(nameOf), die: Float64Array.from(die), tag: Uint16Array.from(tag), flags: Uint8Array.from(flags),
    declKey: new Uint32Array(die.length), count: die.length, roots: [], pending: [], errors: [],
    functions: { die: new Float64Array(0), kind: new Uint8Array(0), a: new Uint32Array(0), b: new Uint32Array(0), units: new Int32Array(0) },
  };
}
