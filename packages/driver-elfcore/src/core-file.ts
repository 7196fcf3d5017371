import fs from 'node:fs';
import { getLogger } from '@stackdb/core';
import { EM, ET, ElfError, ElfFile, PF, PT } from '@stackdb/dwdebug';
import { CoreFileError } from './errors.js';
import { parseNotes } from './notes.js';

const log = getLogger('T_CORE');

/** What a core file holds: one process, or a whole machine's physical memory. */
export type CoreKind = 'process' | 'vm';

/** One PT_LOAD segment of a core. */
export interface LoadSegment {
  /** Program header index. */
  readonly index: number;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly memsz: bigint;
  /** File offset of the segment's bytes. */
  readonly offset: number;
  /** Bytes the headers say the file holds (0 when the dump left the memory out). */
  readonly filesz: number;
  /** Bytes of `filesz` really in the file: less when the core is truncated. */
  readonly available: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
}

/** One note of a core, with its place in the file. */
export interface CoreNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
  /** File offset of the note header. */
  readonly fileOffset: number;
}

const KDUMP_SIGNATURE = 'KDUMP   ';

/**
 * An opened ELF core: its load segments and notes, decoded once at open, and
 * positioned asynchronous reads of its bytes (a core can be many gigabytes and is
 * never read whole). Damage it can live with (a truncated file, a cut note
 * segment) is recorded in {@link problems}; damage that leaves nothing to read
 * throws a {@link CoreFileError}.
 */
export class CoreFile {
  /** Problems found while opening, each naming what is missing. */
  readonly problems: CoreFileError[] = [];

  readonly kind: CoreKind;
  /** PT_LOAD segments in program-header order. */
  readonly segments: readonly LoadSegment[];
  readonly notes: readonly CoreNote[];

  private constructor(
    readonly path: string,
    private readonly handle: fs.promises.FileHandle,
    /** File size in bytes. */
    readonly size: number,
    decoded: Decoded,
  ) {
    this.kind = decoded.kind;
    this.segments = decoded.segments;
    this.notes = decoded.notes;
    this.problems.push(...decoded.problems);
    for (const p of this.problems) log.warn('%s', p.message);
    log.debug(1, 'opened %s core %s: %d segments, %d notes', this.kind, path, this.segments.length, this.notes.length);
  }

  /** Opens and decodes a core file. */
  static async open(path: string): Promise<CoreFile> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(path, 'r');
    } catch (err) {
      throw new CoreFileError('ERR_CORE_FILE', path, `cannot open: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    try {
      const size = (await handle.stat()).size;
      const head = Buffer.alloc(64);
      const { bytesRead } = await handle.read(head, 0, 64, 0);
      if (head.subarray(0, 8).toString('latin1') === KDUMP_SIGNATURE) {
        throw new CoreFileError('ERR_CORE_FORMAT', path, 'is a compressed kdump (diskdump) file, not an ELF core: make the dump without a kdump-* format, or convert it to ELF');
      }
      const elf = openElf(path, head.subarray(0, bytesRead), size);
      let decoded: Decoded;
      try {
        decoded = await decode(path, size, elf, (offset, buf) => readFully(handle, offset, buf));
      } finally {
        elf.close();
      }
      return new CoreFile(path, handle, size, decoded);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Notes with this owner name (and type). */
  notesNamed(name: string, type?: number): CoreNote[] {
    return this.notes.filter((n) => n.name === name && (type === undefined || n.type === type));
  }

  /** Reads file bytes at `offset` into `buf`; returns how many the file had. */
  read(offset: number, buf: Uint8Array): Promise<number> {
    return readFully(this.handle, offset, buf);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Opens the ELF headers, turning ElfErrors into core errors that say what is wrong. */
function openElf(path: string, head: Uint8Array, size: number): ElfFile {
  let elf: ElfFile;
  try {
    elf = ElfFile.open(path);
  } catch (err) {
    if (!(err instanceof ElfError)) throw err;
    // ElfFile reports every header problem alike; tell truncation apart, since a
    // truncated core is the common damaged one and its message should say so.
    const ph = programHeaderExtent(head);
    if (ph !== undefined && ph > size) {
      throw new CoreFileError('ERR_CORE_TRUNCATED', path, `the file has ${size} bytes but its program headers end at ${ph}: it is truncated`, { cause: err });
    }
    throw new CoreFileError('ERR_CORE_FORMAT', path, `not a readable ELF core: ${err.message}`, { cause: err });
  }
  const fail = (msg: string) => {
    elf.close();
    return new CoreFileError('ERR_CORE_FORMAT', path, msg);
  };
  if (elf.type !== ET.CORE) throw fail(`not a core file (ELF type ${elf.type}, expected ET_CORE ${ET.CORE})`);
  if (!elf.is64 || !elf.littleEndian || elf.machine !== EM.X86_64) {
    throw fail(`an ${elf.is64 ? 64 : 32}-bit ${elf.littleEndian ? 'little' : 'big'}-endian core for machine ${elf.machine}: only x86-64 cores are supported`);
  }
  return elf;
}

/** End of the program header table of a 64-bit little-endian header, if it looks like one. */
function programHeaderExtent(head: Uint8Array): number | undefined {
  if (head.length < 64 || head[4] !== 2 || head[5] !== 1) return undefined;
  const dv = new DataView(head.buffer, head.byteOffset, 64);
  return Number(dv.getBigUint64(32, true)) + dv.getUint16(54, true) * dv.getUint16(56, true);
}

interface Decoded {
  readonly kind: CoreKind;
  readonly segments: LoadSegment[];
  readonly notes: CoreNote[];
  readonly problems: CoreFileError[];
}

async function decode(path: string, size: number, elf: ElfFile, read: (offset: number, buf: Uint8Array) => Promise<number>): Promise<Decoded> {
  const problems: CoreFileError[] = [];
  const segments: LoadSegment[] = [];
  const notes: CoreNote[] = [];
  let truncated = 0;
  for (const [index, ph] of elf.segments.entries()) {
    if (ph.type === PT.LOAD) {
      const available = Math.max(0, Math.min(ph.filesz, size - ph.offset));
      if (available < ph.filesz) truncated++;
      segments.push({
        index, vaddr: ph.vaddr, paddr: ph.paddr, memsz: ph.memsz, offset: ph.offset, filesz: ph.filesz, available,
        readable: (ph.flags & PF.R) !== 0, writable: (ph.flags & PF.W) !== 0, executable: (ph.flags & PF.X) !== 0,
      });
    } else if (ph.type === PT.NOTE) {
      const bytes = new Uint8Array(Math.max(0, Math.min(ph.filesz, size - ph.offset)));
      await read(ph.offset, bytes);
      const parsed = parseNotes(bytes, true, ph.align === 8n ? 8 : 4);
      for (const n of parsed.notes) notes.push({ name: n.name, type: n.type, desc: n.desc, fileOffset: ph.offset + n.offset });
      if (parsed.stoppedAt !== undefined) {
        const cut = bytes.length < ph.filesz;
        problems.push(new CoreFileError(cut ? 'ERR_CORE_TRUNCATED' : 'ERR_CORE_NOTE', path,
          cut ? `note segment ${index} is cut short by the end of the file (${bytes.length} of ${ph.filesz} bytes); notes after the first ${parsed.notes.length} are lost`
            : `note segment ${index} holds a malformed note; notes after the first ${parsed.notes.length} are ignored`,
          { offset: ph.offset + parsed.stoppedAt }));
      }
    }
  }
  if (truncated) {
    const need = Math.max(...segments.map((s) => s.offset + s.filesz));
    problems.push(new CoreFileError('ERR_CORE_TRUNCATED', path, `the file is truncated: it has ${size} bytes, its segments need ${need}; ${truncated} of ${segments.length} memory segments are incomplete`));
  }
  const kind: CoreKind = notes.some((n) => n.name === 'QEMU' || n.name === 'VMCOREINFO') ? 'vm' : 'process';
  return { kind, segments, notes, problems };
}

/** Positioned read that keeps going until `buf` is full or the file ends; returns the bytes read. */
export async function readFully(handle: fs.promises.FileHandle, offset: number, buf: Uint8Array): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
