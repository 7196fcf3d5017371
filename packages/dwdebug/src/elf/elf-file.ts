import fs from 'node:fs';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { ElfError } from '../errors.js';
import { stringAt } from './byte-reader.js';
import { ELFCOMPRESS, SHF, SHT } from './constants.js';
import { SECTION_CACHE_MIN_BYTES, cachedSection, sectionCachePath, storeSection } from './section-cache.js';


// Loaded on first use: most runs never meet a zstd-compressed section.
let fzstd: typeof import('fzstd') | undefined;
const zstd = () => (fzstd ??= createRequire(import.meta.url)('fzstd') as typeof import('fzstd'));

/** One section header. Offsets and sizes are numbers (files over 2^53 bytes do not exist). */
export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

/** One program header. */
export interface ElfSegment {
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: number;
  readonly memsz: bigint;
  readonly align: bigint;
}

/** Where the bytes of an ELF file come from: memory, or positioned reads of a file. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

/** Bytes already in memory. */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
    close: () => undefined,
  };
}

/** A file read with positioned reads, so only the parts used are ever in memory. */
export function fileSource(path: string): ByteSource {
  const fd = fs.openSync(path, 'r');
  const size = fs.fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const end = Math.min(size, offset + length);
      const buf = Buffer.allocUnsafe(Math.max(0, end - offset));
      let done = 0;
      while (done < buf.length) {
        const n = fs.readSync(fd, buf, done, buf.length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, done);
    },
    close: () => fs.closeSync(fd),
  };
}

/**
 * An ELF32/ELF64 file of either byte order. Headers are decoded at open; section
 * contents are read (and decompressed: `SHF_COMPRESSED` zlib/zstd, legacy
 * `.zdebug_*`) on first use and kept. Nothing is copied that need not be.
 */
export class ElfFile {
  readonly is64: boolean;
  readonly littleEndian: boolean;
  readonly type: number;
  readonly machine: number;
  readonly entry: bigint;
  readonly sections: readonly ElfSection[];
  readonly segments: readonly ElfSegment[];
  private readonly byName = new Map<string, ElfSection>();
  private readonly contents = new Map<number, Uint8Array>();

  private constructor(readonly path: string, private readonly source: ByteSource) {
    const ident = source.read(0, 64);
    if (ident.length < 16 || ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) {
      throw new ElfError('not an ELF file', { file: path, offset: 0 });
    }
    if (ident[4] !== 1 && ident[4] !== 2) throw new ElfError(`bad ELF class ${ident[4]}`, { file: path, offset: 4 });
    if (ident[5] !== 1 && ident[5] !== 2) throw new ElfError(`bad ELF data encoding ${ident[5]}`, { file: path, offset: 5 });
    this.is64 = ident[4] === 2;
    this.littleEndian = ident[5] === 1;
    const ehsize = this.is64 ? 64 : 52;
    if (ident.length < ehsize) throw new ElfError('truncated ELF header', { file: path, offset: 0 });
    const h = new DataView(ident.buffer, ident.byteOffset, ehsize);
    const le = this.littleEndian;
    this.type = h.getUint16(16, le);
    this.machine = h.getUint16(18, le);
    let phoff: number, shoff: number, off: number;
    if (this.is64) {
      this.entry = h.getBigUint64(24, le);
      phoff = Number(h.getBigUint64(32, le));
      shoff = Number(h.getBigUint64(40, le));
      off = 52;
    } else {
      this.entry = BigInt(h.getUint32(24, le));
      phoff = h.getUint32(28, le);
      shoff = h.getUint32(32, le);
      off = 40;
    }
    const phentsize = h.getUint16(off + 2, le);
    let phnum = h.getUint16(off + 4, le);
    const shentsize = h.getUint16(off + 6, le);
    let shnum = h.getUint16(off + 8, le);
    let shstrndx = h.getUint16(off + 10, le);

    // Extended numbering: the real counts live in section header 0.
    if (shoff && (shnum === 0 || shstrndx === 0xffff || phnum === 0xffff)) {
      const s0 = this.readHeader(shoff, shentsize, 'section header 0');
      if (shnum === 0) shnum = Number(this.is64 ? s0.getBigUint64(32, le) : BigInt(s0.getUint32(20, le)));
      if (shstrndx === 0xffff) shstrndx = s0.getUint32(this.is64 ? 40 : 24, le);
      if (phnum === 0xffff) phnum = s0.getUint32(this.is64 ? 44 : 28, le);
    }
    if (shnum > 0 && shentsize < (this.is64 ? 64 : 40)) throw new ElfError(`bad section header size ${shentsize}`, { file: path, offset: off + 6 });
    if (phnum > 0 && phentsize < (this.is64 ? 56 : 32)) throw new ElfError(`bad program header size ${phentsize}`, { file: path, offset: off + 2 });
    if (shnum > 65536 * 4 || shnum * shentsize > source.size) throw new ElfError(`implausible section count ${shnum}`, { file: path });
    if (phnum * phentsize > source.size) throw new ElfError(`implausible program header count ${phnum}`, { file: path });

    const raw: Omit<ElfSection, 'name'>[] = [];
    const nameOffsets: number[] = [];
    for (let i = 0; i < shnum; i++) {
      const s = this.readHeader(shoff + i * shentsize, shentsize, `section header ${i}`);
      if (this.is64) {
        nameOffsets.push(s.getUint32(0, le));
        raw.push({
          index: i, type: s.getUint32(4, le), flags: s.getBigUint64(8, le), addr: s.getBigUint64(16, le),
          offset: Number(s.getBigUint64(24, le)), size: Number(s.getBigUint64(32, le)), link: s.getUint32(40, le),
          info: s.getUint32(44, le), addralign: Number(s.getBigUint64(48, le)), entsize: Number(s.getBigUint64(56, le)),
        });
      } else {
        nameOffsets.push(s.getUint32(0, le));
        raw.push({
          index: i, type: s.getUint32(4, le), flags: BigInt(s.getUint32(8, le)), addr: BigInt(s.getUint32(12, le)),
          offset: s.getUint32(16, le), size: s.getUint32(20, le), link: s.getUint32(24, le), info: s.getUint32(28, le),
          addralign: s.getUint32(32, le), entsize: s.getUint32(36, le),
        });
      }
    }
    // A bad string table index or name offset leaves names empty rather than failing the file.
    let shstr: Uint8Array | undefined;
    if (shnum && shstrndx < shnum) {
      const ss = raw[shstrndx]!;
      if (ss.type !== SHT.NOBITS) shstr = source.read(ss.offset, ss.size);
    }
    this.sections = raw.map((s, i) => ({ ...s, name: (shstr && stringAt(shstr, nameOffsets[i]!)) ?? '' }));
    for (const s of this.sections) if (s.name && !this.byName.has(s.name)) this.byName.set(s.name, s);

    const segs: ElfSegment[] = [];
    for (let i = 0; i < phnum; i++) {
      const p = this.readHeader(phoff + i * phentsize, phentsize, `program header ${i}`);
      if (this.is64) {
        segs.push({
          type: p.getUint32(0, le), flags: p.getUint32(4, le), offset: Number(p.getBigUint64(8, le)), vaddr: p.getBigUint64(16, le),
          paddr: p.getBigUint64(24, le), filesz: Number(p.getBigUint64(32, le)), memsz: p.getBigUint64(40, le), align: p.getBigUint64(48, le),
        });
      } else {
        segs.push({
          type: p.getUint32(0, le), offset: p.getUint32(4, le), vaddr: BigInt(p.getUint32(8, le)), paddr: BigInt(p.getUint32(12, le)),
          filesz: p.getUint32(16, le), memsz: BigInt(p.getUint32(20, le)), flags: p.getUint32(24, le), align: BigInt(p.getUint32(28, le)),
        });
      }
    }
    this.segments = segs;
  }

  /** Opens a file for positioned reads. */
  static open(path: string): ElfFile {
    let source: ByteSource;
    try {
      source = fileSource(path);
    } catch (err) {
      throw new ElfError(`cannot open: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path, cause: err });
    }
    try {
      return new ElfFile(path, source);
    } catch (err) {
      source.close();
      throw err;
    }
  }

  /** Parses an ELF image already in memory. */
  static fromBytes(bytes: Uint8Array, path = '<memory>'): ElfFile {
    return new ElfFile(path, memorySource(bytes));
  }

  /** The first section with this name. */
  section(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /** All sections of a type (`SHT.*`), in header order. */
  sectionsOfType(type: number): ElfSection[] {
    return this.sections.filter((s) => s.type === type);
  }

  /** True when the section has contents in the file (not `SHT_NOBITS`, not empty). */
  hasContents(nameOrSection: string | ElfSection): boolean {
    const s = typeof nameOrSection === 'string' ? this.byName.get(nameOrSection) : nameOrSection;
    return s !== undefined && s.type !== SHT.NOBITS && s.type !== SHT.NULL && s.size > 0;
  }

  /**
   * Where a section's bytes can be read piecewise from a file: the section
   * itself when stored uncompressed, or, for a large compressed section, its
   * decompressed copy in the section cache (made on first use). Undefined when
   * the section must be read whole (small, absent, or no cache).
   */
  sectionFileRange(name: string): { path: string; offset: number; size: number } | undefined {
    let s = this.byName.get(name);
    if (!s && name.startsWith('.debug_')) s = this.byName.get('.z' + name.slice(1));
    if (!s || s.type !== SHT.PROGBITS || s.size === 0) return undefined;
    const compressed = (s.flags & BigInt(SHF.COMPRESSED)) !== 0n || s.name.startsWith('.zdebug');
    if (!compressed) return { path: this.path, offset: s.offset, size: s.size };
    const size = this.uncompressedSize(s);
    if (size === undefined || size < SECTION_CACHE_MIN_BYTES) return undefined;
    const cachePath = sectionCachePath(this.path, s.name, s.offset);
    if (!cachePath) return undefined;
    if (!cachedSection(cachePath, size)) {
      this.sectionData(s);
      if (!cachedSection(cachePath, size)) return undefined;
    }
    return { path: cachePath, offset: 0, size };
  }

  /** The decompressed copy of a compressed section from the section cache, when there is one. */
  private readCachedSection(s: ElfSection): Uint8Array | undefined {
    const size = this.uncompressedSize(s);
    if (size === undefined || size < SECTION_CACHE_MIN_BYTES || size === s.size) return undefined;
    const p = sectionCachePath(this.path, s.name, s.offset);
    if (!p || !cachedSection(p, size)) return undefined;
    try {
      return new Uint8Array(fs.readFileSync(p));
    } catch {
      return undefined;
    }
  }

  private storeCachedSection(s: ElfSection, data: Uint8Array): void {
    if (data.length < SECTION_CACHE_MIN_BYTES) return;
    const p = sectionCachePath(this.path, s.name, s.offset);
    if (p && !cachedSection(p, data.length)) storeSection(p, data);
  }

  /** A compressed section's size once decompressed, from its header. */
  private uncompressedSize(s: ElfSection): number | undefined {
    const head = this.source.read(s.offset, Math.min(s.size, 24));
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (s.name.startsWith('.zdebug')) return head.length >= 12 && String.fromCharCode(...head.subarray(0, 4)) === 'ZLIB' ? Number(dv.getBigUint64(4, false)) : undefined;
    if (head.length < (this.is64 ? 24 : 12)) return undefined;
    return Number(this.is64 ? dv.getBigUint64(8, this.littleEndian) : BigInt(dv.getUint32(4, this.littleEndian)));
  }

  /** Raw bytes of a range of the file. */
  readRaw(offset: number, length: number): Uint8Array {
    return this.source.read(offset, length);
  }

  /**
   * A section's contents, decompressed when compressed (`SHF_COMPRESSED`, or a
   * legacy `.zdebug_*` section, which is also found under its `.debug_*` name).
   * `SHT_NOBITS` sections are empty. Cached after the first call.
   */
  sectionData(nameOrSection: string | ElfSection): Uint8Array | undefined {
    let s = typeof nameOrSection === 'string' ? this.byName.get(nameOrSection) : nameOrSection;
    if (!s && typeof nameOrSection === 'string' && nameOrSection.startsWith('.debug_')) s = this.byName.get('.z' + nameOrSection.slice(1));
    if (!s) return undefined;
    const cached = this.contents.get(s.index);
    if (cached) return cached;
    let data: Uint8Array;
    if (s.type === SHT.NOBITS || s.type === SHT.NULL) {
      data = new Uint8Array(0);
    } else {
      if (s.offset > this.source.size || s.size > this.source.size - s.offset) throw new ElfError(`section extends past the end of the file`, { file: this.path, section: s.name, offset: s.offset });
      const compressed = (s.flags & BigInt(SHF.COMPRESSED)) !== 0n || s.name.startsWith('.zdebug');
      data = (compressed && this.readCachedSection(s)) || this.source.read(s.offset, s.size);
      if (compressed && data.length === s.size) {
        data = s.name.startsWith('.zdebug') ? this.decompressZdebug(s, data) : this.decompressChdr(s, data);
        this.storeCachedSection(s, data);
      }
    }
    this.contents.set(s.index, data);
    return data;
  }

  /** Releases the file descriptor; section data already read stays usable. */
  close(): void {
    this.source.close();
  }

  private readHeader(offset: number, size: number, what: string): DataView {
    const b = this.source.read(offset, size);
    if (b.length < size) throw new ElfError(`truncated ${what}`, { file: this.path, offset });
    return new DataView(b.buffer, b.byteOffset, size);
  }

  private decompressChdr(s: ElfSection, data: Uint8Array): Uint8Array {
    const hsize = this.is64 ? 24 : 12;
    if (data.length < hsize) throw new ElfError('truncated compression header', { file: this.path, section: s.name, offset: s.offset });
    const dv = new DataView(data.buffer, data.byteOffset, hsize);
    const le = this.littleEndian;
    const ctype = dv.getUint32(0, le);
    const size = Number(this.is64 ? dv.getBigUint64(8, le) : BigInt(dv.getUint32(4, le)));
    return this.inflate(s, ctype, data.subarray(hsize), size);
  }

  private decompressZdebug(s: ElfSection, data: Uint8Array): Uint8Array {
    // "ZLIB" + 8-byte big-endian uncompressed size + zlib stream.
    if (data.length < 12 || String.fromCharCode(...data.subarray(0, 4)) !== 'ZLIB') return data;
    const size = Number(new DataView(data.buffer, data.byteOffset + 4, 8).getBigUint64(0, false));
    return this.inflate(s, ELFCOMPRESS.ZLIB, data.subarray(12), size);
  }

  private inflate(s: ElfSection, ctype: number, payload: Uint8Array, size: number): Uint8Array {
    if (size > 4 * 1024 * 1024 * 1024) throw new ElfError(`implausible uncompressed size ${size}`, { file: this.path, section: s.name });
    let out: Uint8Array;
    try {
      if (ctype === ELFCOMPRESS.ZLIB) out = zlib.inflateSync(payload, { maxOutputLength: size + 1 });
      else if (ctype === ELFCOMPRESS.ZSTD) out = zstd().decompress(payload, new Uint8Array(size));
      else throw new ElfError(`unknown compression type ${ctype}`, { file: this.path, section: s.name, offset: s.offset });
    } catch (err) {
      if (err instanceof ElfError) throw err;
      throw new ElfError(`cannot decompress: ${(err as Error).message}`, { file: this.path, section: s.name, offset: s.offset, cause: err });
    }
    // zlib hands back a Buffer; callers get plain Uint8Array views everywhere.
    out = new Uint8Array(out.buffer, out.byteOffset, out.length);
    if (out.length !== size) throw new ElfError(`decompressed to ${out.length} bytes, header says ${size}`, { file: this.path, section: s.name, offset: s.offset });
    return out;
  }
}
