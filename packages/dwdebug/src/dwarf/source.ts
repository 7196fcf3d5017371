import fs from 'node:fs';
import { DwarfError } from '../errors.js';
import { ET } from '../elf/constants.js';
import type { Binfile } from '../elf/binfile.js';
import type { ElfFile } from '../elf/elf-file.js';
import type { DwarfSections } from '../sections.js';

/** Where an uncompressed, unrelocated section lies in a file, so it can be read piecewise. */
export interface DwarfSectionFileRange {
  readonly path: string;
  /** File offset of the section's first byte. */
  readonly offset: number;
  readonly size: number;
}

/**
 * {@link DwarfSections} that can also say where a section's bytes lie in a
 * file. When a provider offers this for a section, the DWARF engine reads that
 * section by positioned reads (unit by unit, in worker threads when indexing)
 * instead of holding all of it in memory: this is what keeps a 174 MB
 * `.debug_info` out of the heap. Providers must offer it only for sections that
 * are stored uncompressed and need no relocation.
 */
export interface DwarfFileSections extends DwarfSections {
  sectionFileRange?(name: string): DwarfSectionFileRange | undefined;
}

/** A serialisable description of a section, for worker threads. */
export type SectionSpec =
  | { readonly kind: 'file'; readonly name: string; readonly path: string; readonly offset: number; readonly size: number }
  | { readonly kind: 'bytes'; readonly name: string; readonly bytes: Uint8Array };

/** One DWARF section, in memory or read piecewise from a file. */
export interface SectionData {
  readonly name: string;
  readonly size: number;
  /** True when `read` returns views of bytes held in memory. */
  readonly inMemory: boolean;
  /**
   * Bytes `[offset, offset + length)` of the section, clipped to its end: a view
   * for an in-memory section, a fresh positioned read for a file-backed one.
   */
  read(offset: number, length: number): Uint8Array;
  /** Like `read`, but a file-backed section reads into `buffer` (which must be large enough) instead of allocating. */
  readInto(offset: number, length: number, buffer: Uint8Array): Uint8Array;
  /** The whole section (read once and kept, for file-backed sections). */
  all(): Uint8Array;
  /** How a worker thread reaches the same bytes. */
  spec(): SectionSpec;
}

/** A section whose bytes are all in memory. */
export function memorySection(name: string, bytes: Uint8Array): SectionData {
  return {
    name,
    size: bytes.length,
    inMemory: true,
    read: (offset, length) => bytes.subarray(Math.max(0, offset), Math.max(0, Math.min(bytes.length, offset + length))),
    readInto: (offset, length) => bytes.subarray(Math.max(0, offset), Math.max(0, Math.min(bytes.length, offset + length))),
    all: () => bytes,
    spec: () => ({ kind: 'bytes', name, bytes }),
  };
}

/** Positioned reads of a file, sharing one descriptor per path until closed. */
export class FileReader {
  private fd: number | undefined;

  constructor(readonly path: string) {}

  /** Reads `length` bytes at a file offset; short only at the end of the file. */
  read(fileOffset: number, length: number, into?: Uint8Array): Uint8Array {
    if (this.fd === undefined) {
      try {
        this.fd = fs.openSync(this.path, 'r');
      } catch (err) {
        throw new DwarfError('ERR_DWARF_IO', `cannot open: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: this.path, cause: err });
      }
    }
    const buf = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = fs.readSync(this.fd, buf, done, length - done, fileOffset + done);
      } catch (err) {
        throw new DwarfError('ERR_DWARF_IO', `read failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: this.path, offset: fileOffset + done, cause: err });
      }
      if (n === 0) break;
      done += n;
    }
    return done === length ? buf : buf.subarray(0, done);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A section read piecewise from a file range. */
export function fileSection(name: string, range: DwarfSectionFileRange, reader: FileReader): SectionData {
  let whole: Uint8Array | undefined;
  const readInto = (offset: number, length: number, buffer?: Uint8Array) => {
    if (whole) return whole.subarray(Math.max(0, offset), Math.max(0, Math.min(whole.length, offset + length)));
    const start = Math.max(0, Math.min(offset, range.size));
    const n = Math.max(0, Math.min(range.size, offset + length) - start);
    return reader.read(range.offset + start, n, buffer);
  };
  return {
    name,
    size: range.size,
    inMemory: false,
    read: (offset, length) => readInto(offset, length),
    readInto,
    all() {
      whole ??= reader.read(range.offset, range.size);
      return whole;
    },
    spec: () => ({ kind: 'file', name, path: range.path, offset: range.offset, size: range.size }),
  };
}

/** Rebuilds a section from its spec inside a worker thread. */
export function sectionFromSpec(spec: SectionSpec, readers: Map<string, FileReader>): SectionData {
  if (spec.kind === 'bytes') return memorySection(spec.name, spec.bytes);
  let r = readers.get(spec.path);
  if (!r) readers.set(spec.path, (r = new FileReader(spec.path)));
  return fileSection(spec.name, spec, r);
}

/**
 * Adapts an {@link ElfFile} whose DWARF needs no relocation (an executable, a
 * shared library, a separate debug file) to {@link DwarfFileSections}.
 * Uncompressed sections are offered as file ranges so that the engine can read
 * them piecewise. Relocatable objects need the relocated sections a `Binfile`
 * provides.
 */
export function elfDwarfSections(elf: ElfFile, supplementary?: DwarfSections): DwarfFileSections {
  return {
    path: elf.path,
    littleEndian: elf.littleEndian,
    is64: elf.is64,
    section: (name) => elf.sectionData(name),
    sectionFileRange: (name) => elf.sectionFileRange(name),
    ...(supplementary ? { supplementary } : {}),
  };
}

/**
 * The DWARF of a {@link Binfile} as {@link DwarfFileSections}: its merged,
 * decompressed (and for ET_REL, relocated) view, plus file ranges of the
 * debug file's and dwz file's uncompressed sections so that large sections
 * are read piecewise. ET_REL files get no ranges: their sections must be
 * relocated in memory. Undefined when the binary has no DWARF.
 */
export function binfileDwarfSections(bf: Binfile): DwarfFileSections | undefined {
  const view = bf.dwarf();
  if (!view) return undefined;
  const ranged = (v: DwarfSections, elf: ElfFile | undefined): DwarfFileSections => {
    const sup = v.supplementary ? ranged(v.supplementary, bf.altElf) : undefined;
    return {
      path: v.path,
      littleEndian: v.littleEndian,
      is64: v.is64,
      section: (name) => v.section(name),
      sectionFileRange(name) {
        if (!elf || elf.type === ET.REL) return undefined;
        return elf.sectionFileRange(name);
      },
      ...(sup ? { supplementary: sup } : {}),
    };
  };
  return ranged(view, bf.debugElf);
}
