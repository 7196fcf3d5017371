import fs from 'node:fs';
import { getLogger } from '@stackdb/core';
import { readFully } from '../core-file.js';
import { readImageInfo, type ImageInfo } from '../elf-image.js';
import { CoreFileError } from '../errors.js';
import { IntervalMap } from '../interval-map.js';
import type { NtFileEntry } from '../x86-64-notes.js';

const log = getLogger('T_CORE');

const PAGE = 4096n;

/** A file the process had mapped, as the core's NT_FILE note lists it. */
export interface MappedFile {
  /** The path as the core names it. */
  readonly path: string;
  /** Where it is read on this machine (`--core-exe`, or the `-R` prefix applied). */
  readonly localPath: string;
  /** Its mappings, in address order. */
  readonly ranges: readonly NtFileEntry[];
  /** GNU build-id from the copy of its ELF headers in the core, when the core has them. */
  readonly buildId?: string;
  /** GNU build-id of the local file. */
  readonly fileBuildId?: string;
  /**
   * Whether memory the core left out is read from the local file: it exists and
   * its build-id does not contradict the core's.
   */
  readonly usable: boolean;
  /** Why it is not usable. */
  readonly problem?: CoreFileError;
  /** Its ELF program headers (from the core's copy, else the local file's), when it is ELF. */
  readonly image?: ImageInfo;
}

/** One mapping with the file it maps. */
interface Mapping extends NtFileEntry {
  readonly file: OpenedFile;
}

interface OpenedFile {
  info: MappedFile;
  handle?: fs.promises.FileHandle;
  size: bigint;
}

/** How {@link MappedFiles.open} reaches the core and the local files. */
export interface MappedFilesOptions {
  /** The core's path, for messages. */
  readonly corePath: string;
  /** Maps a path the core names to one readable here. */
  readonly localPath: (path: string) => string;
  /** Reads process memory from the core only (no fallback): bytes read. */
  readonly readCore: (address: bigint, buf: Uint8Array) => Promise<number>;
}

/**
 * The files a process core says were mapped, and read-only fallback reads from
 * them for memory the core left out (program text, read-only data: kernels and
 * gcore omit file-backed memory nobody wrote to, which is exactly what the file
 * still holds). A file is trusted only when its build-id matches the one in the
 * core's copy of its ELF headers, or when the core has no copy to compare.
 */
export class MappedFiles {
  private constructor(
    private readonly mappings: IntervalMap<Mapping>,
    /** Every mapped file, in order of first mapping. */
    readonly files: readonly MappedFile[],
    private readonly opened: readonly OpenedFile[],
  ) {}

  static async open(entries: readonly NtFileEntry[], opts: MappedFilesOptions): Promise<MappedFiles> {
    const byPath = new Map<string, NtFileEntry[]>();
    for (const e of entries) {
      const list = byPath.get(e.path) ?? [];
      list.push(e);
      byPath.set(e.path, list);
    }
    const opened: OpenedFile[] = [];
    const mappings: Mapping[] = [];
    for (const [path, ranges] of byPath) {
      ranges.sort((a, b) => (a.start < b.start ? -1 : 1));
      const file = await openOne(path, ranges, opts);
      opened.push(file);
      for (const r of ranges) mappings.push({ ...r, file });
    }
    return new MappedFiles(new IntervalMap(mappings), opened.map((o) => o.info), opened);
  }

  /** The mapping covering `address`, with its file. */
  find(address: bigint): { readonly entry: NtFileEntry; readonly file: MappedFile } | undefined {
    const m = this.mappings.find(address);
    return m && { entry: m, file: m.file.info };
  }

  /** Every mapping in address order. */
  get entries(): readonly NtFileEntry[] {
    return this.mappings.all;
  }

  /**
   * Reads up to `buf.length` bytes at `address` from the file mapped there, not
   * beyond the mapping. Past the file's end, the rest of its last page reads as
   * zeros (as the mapping shows it). Returns the bytes read; 0 when no usable
   * file is mapped there.
   */
  async read(address: bigint, buf: Uint8Array): Promise<number> {
    const m = this.mappings.find(address);
    if (!m || !m.file.info.usable || !m.file.handle) return 0;
    const want = Number(bigMin(BigInt(buf.length), m.end - address));
    const pos = m.offset + (address - m.start);
    const got = pos < m.file.size ? await readFully(m.file.handle, Number(pos), buf.subarray(0, want)) : 0;
    if (got === want) return got;
    const lastPageEnd = (m.file.size + PAGE - 1n) & ~(PAGE - 1n);
    const zeros = Number(bigMin(BigInt(want - got), lastPageEnd - (pos + BigInt(got))));
    if (zeros <= 0) return got;
    buf.fill(0, got, got + zeros);
    return got + zeros;
  }

  async close(): Promise<void> {
    for (const o of this.opened) await o.handle?.close().catch(() => undefined);
  }
}

function bigMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** Opens one mapped file and decides whether it may stand in for memory the core left out. */
async function openOne(path: string, ranges: readonly NtFileEntry[], opts: MappedFilesOptions): Promise<OpenedFile> {
  const localPath = opts.localPath(path);
  const coreImage = await imageInCore(ranges, opts.readCore);
  const base = { path, localPath, ranges, ...(coreImage?.buildId ? { buildId: coreImage.buildId } : {}) };
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(localPath, 'r');
  } catch (err) {
    const problem = new CoreFileError('ERR_CORE_FILE', localPath, `mapped by the process, not readable here (${(err as NodeJS.ErrnoException).code ?? 'error'}): memory the core left out of its mappings is unavailable`, { cause: err });
    log.debug(2, '%s', problem.message);
    return { info: { ...base, usable: false, problem, ...(coreImage ? { image: coreImage } : {}) }, size: 0n };
  }
  const size = BigInt((await handle.stat()).size);
  const fileImage = await readImageInfo(async (offset, length) => {
    const b = new Uint8Array(length);
    return (await readFully(handle, Number(offset), b)) === length ? b : undefined;
  });
  const image = coreImage ?? fileImage;
  const info = { ...base, ...(fileImage?.buildId ? { fileBuildId: fileImage.buildId } : {}), ...(image ? { image } : {}) };
  if (coreImage?.buildId && fileImage?.buildId && coreImage.buildId !== fileImage.buildId) {
    const problem = new CoreFileError('ERR_CORE_FILE', localPath, `has build-id ${fileImage.buildId} but the process mapped ${path} with build-id ${coreImage.buildId}: not used for memory the core left out`);
    log.warn('%s', problem.message);
    await handle.close();
    return { info: { ...info, usable: false, problem }, size };
  }
  return { info: { ...info, usable: true }, handle, size };
}

/**
 * The program headers and build-id of a file's image as the core holds them
 * (kernels dump the first page of every mapped ELF file for this purpose),
 * translating file offsets to addresses through the file's mappings.
 */
function imageInCore(ranges: readonly NtFileEntry[], readCore: MappedFilesOptions['readCore']): Promise<ImageInfo | undefined> {
  return readImageInfo(async (offset, length) => {
    const r = ranges.find((m) => m.offset <= offset && offset + BigInt(length) <= m.offset + (m.end - m.start));
    if (!r) return undefined;
    const b = new Uint8Array(length);
    return (await readCore(r.start + (offset - r.offset), b)) === length ? b : undefined;
  });
}
