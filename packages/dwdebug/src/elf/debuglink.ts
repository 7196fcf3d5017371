import fs from 'node:fs';
import zlib from 'node:zlib';
import { ByteReader } from './byte-reader.js';
import type { ElfFile } from './elf-file.js';
import { toHex } from './notes.js';

/** `.gnu_debuglink`: the separate debug file's name and the CRC32 of its contents. */
export interface DebugLink {
  readonly name: string;
  readonly crc: number;
}

/** `.gnu_debugaltlink` (dwz): the supplementary file's path and its build-id. */
export interface DebugAltLink {
  readonly path: string;
  readonly buildId: string;
}

/** DWARF 5 `.debug_sup`: the supplementary file's name and checksum (often a build-id). */
export interface DebugSup {
  readonly version: number;
  readonly isSupplementary: boolean;
  readonly name: string;
  readonly checksum: string;
}

/** Decodes `.gnu_debuglink` (name, NUL, padding to 4, CRC32 in the file's byte order). */
export function debugLinkOf(elf: ElfFile): DebugLink | undefined {
  const data = elf.hasContents('.gnu_debuglink') ? elf.sectionData('.gnu_debuglink') : undefined;
  if (!data) return undefined;
  const r = new ByteReader(data, elf.littleEndian, { file: elf.path, section: '.gnu_debuglink' });
  const name = r.cstring();
  r.seek((r.pos + 3) & ~3);
  return { name, crc: r.u32() };
}

/** Decodes `.gnu_debugaltlink` (path, NUL, build-id bytes). */
export function debugAltLinkOf(elf: ElfFile): DebugAltLink | undefined {
  const data = elf.hasContents('.gnu_debugaltlink') ? elf.sectionData('.gnu_debugaltlink') : undefined;
  if (!data) return undefined;
  const r = new ByteReader(data, elf.littleEndian, { file: elf.path, section: '.gnu_debugaltlink' });
  const path = r.cstring();
  return { path, buildId: toHex(r.bytes(r.remaining)) };
}

/** Decodes DWARF 5 `.debug_sup`. */
export function debugSupOf(elf: ElfFile): DebugSup | undefined {
  const data = elf.hasContents('.debug_sup') ? elf.sectionData('.debug_sup') : undefined;
  if (!data) return undefined;
  const r = new ByteReader(data, elf.littleEndian, { file: elf.path, section: '.debug_sup' });
  const version = r.u16();
  const isSupplementary = r.u8() !== 0;
  const name = r.cstring();
  const len = r.uleb();
  return { version, isSupplementary, name, checksum: toHex(r.bytes(len)) };
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;

/** CRC-32 (IEEE, the one `.gnu_debuglink` uses), continuing from `crc`. */
export function crc32(data: Uint8Array, crc = 0): number {
  // zlib.crc32 exists from Node 20.15; the table version serves older runtimes.
  if (nativeCrc32) return nativeCrc32(data, crc);
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC-32 of a whole file, read in chunks. */
export function fileCrc32(path: string): number {
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    let crc = 0;
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return crc;
      crc = crc32(buf.subarray(0, n), crc);
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}
