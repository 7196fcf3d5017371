import { PF, PT } from '@stackdb/dwdebug';
import { buildIdOf, parseNotes } from './notes.js';

/** One PT_LOAD of a mapped ELF image. */
export interface ImageLoad {
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
}

/** What the program headers of a mapped ELF image say. */
export interface ImageInfo {
  /** ELF type (ET_EXEC, ET_DYN). */
  readonly type: number;
  readonly entry: bigint;
  readonly loads: readonly ImageLoad[];
  /** Link-time address of the program headers (PT_PHDR), when the image has one. */
  readonly phdrVaddr?: bigint;
  readonly buildId?: string;
}

/** Reads `length` bytes at a file offset of the image; undefined when they are not there. */
export type ImageReader = (offset: bigint, length: number) => Promise<Uint8Array | undefined>;

const MAX_PHNUM = 512;
const MAX_NOTE = 64 * 1024;

/**
 * Reads the ELF header, program headers and build-id note of an ELF64
 * little-endian image through file offsets only. It works on an image mapped
 * in a core, where only the loaded parts exist (so the section headers
 * dwdebug's ElfFile starts from are usually absent), and on a file on disk.
 * Returns undefined when the bytes are not such an ELF image.
 */
export async function readImageInfo(read: ImageReader): Promise<ImageInfo | undefined> {
  const eh = await read(0n, 64);
  if (!eh || eh.length < 64 || eh[0] !== 0x7f || eh[1] !== 0x45 || eh[2] !== 0x4c || eh[3] !== 0x46 || eh[4] !== 2 || eh[5] !== 1) return undefined;
  const h = new DataView(eh.buffer, eh.byteOffset, 64);
  const phoff = h.getBigUint64(32, true);
  const phentsize = h.getUint16(54, true);
  const phnum = h.getUint16(56, true);
  if (phentsize < 56 || phnum > MAX_PHNUM) return undefined;
  const ph = await read(phoff, phentsize * phnum);
  if (!ph || ph.length < phentsize * phnum) return undefined;
  const p = new DataView(ph.buffer, ph.byteOffset, ph.byteLength);
  const loads: ImageLoad[] = [];
  const notes: [bigint, number][] = [];
  let phdrVaddr: bigint | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    const type = p.getUint32(at, true);
    const flags = p.getUint32(at + 4, true);
    const offset = p.getBigUint64(at + 8, true);
    const vaddr = p.getBigUint64(at + 16, true);
    const filesz = p.getBigUint64(at + 32, true);
    if (type === PT.LOAD) {
      loads.push({ offset, vaddr, filesz, memsz: p.getBigUint64(at + 40, true), readable: (flags & PF.R) !== 0, writable: (flags & PF.W) !== 0, executable: (flags & PF.X) !== 0 });
    } else if (type === PT.NOTE && filesz > 0n && filesz <= BigInt(MAX_NOTE)) {
      notes.push([offset, Number(filesz)]);
    } else if (type === PT.PHDR) {
      phdrVaddr = vaddr;
    }
  }
  let buildId: string | undefined;
  for (const [offset, size] of notes) {
    const bytes = await read(offset, size);
    if (!bytes) continue;
    buildId = buildIdOf(parseNotes(bytes).notes);
    if (buildId) break;
  }
  const info: ImageInfo = { type: h.getUint16(16, true), entry: h.getBigUint64(24, true), loads };
  return { ...info, ...(phdrVaddr === undefined ? {} : { phdrVaddr }), ...(buildId === undefined ? {} : { buildId }) };
}

/** The PT_LOAD whose file range holds `offset` (page-rounded down, as mmap maps it). */
export function loadAtOffset(info: ImageInfo, offset: bigint, pageSize = 4096n): ImageLoad | undefined {
  return info.loads.find((l) => l.offset - (l.offset % pageSize) <= offset && offset < l.offset + l.filesz);
}
