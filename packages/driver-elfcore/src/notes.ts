/** One ELF note: owner name, type, and a view of its descriptor. */
export interface ElfNote {
  /** Owner name without its NUL (`CORE`, `LINUX`, `QEMU`, `VMCOREINFO`, `GNU`). */
  readonly name: string;
  readonly type: number;
  /** The descriptor bytes (a view into the note segment). */
  readonly desc: Uint8Array;
  /** Offset of the note header within the bytes that were parsed. */
  readonly offset: number;
}

/** Result of {@link parseNotes}: the whole notes, and where parsing stopped early. */
export interface ParsedNotes {
  readonly notes: ElfNote[];
  /** Offset (within the parsed bytes) of a note that does not fit, when one does not. */
  readonly stoppedAt?: number;
}

const latin1 = new TextDecoder('latin1');

/**
 * Parses a note segment or section: `namesz, descsz, type` (32-bit words in the
 * file's byte order), then the name and the descriptor, each padded to `align`
 * (4 for cores and most notes; 8 for segments with `p_align` 8). A note that
 * runs past the end is not returned; `stoppedAt` says where that happened, so
 * a truncated core keeps every complete note before the cut.
 */
export function parseNotes(bytes: Uint8Array, littleEndian = true, align: 4 | 8 = 4): ParsedNotes {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const notes: ElfNote[] = [];
  const pad = (n: number) => (n + align - 1) & ~(align - 1);
  let off = 0;
  while (off + 12 <= bytes.length) {
    const namesz = dv.getUint32(off, littleEndian);
    const descsz = dv.getUint32(off + 4, littleEndian);
    const type = dv.getUint32(off + 8, littleEndian);
    const nameAt = off + 12;
    const descAt = nameAt + pad(namesz);
    const end = descAt + pad(descsz);
    // The last note may omit its final padding.
    if (descAt + descsz > bytes.length || namesz > bytes.length || descsz > bytes.length) return { notes, stoppedAt: off };
    let nameEnd = nameAt + namesz;
    while (nameEnd > nameAt && bytes[nameEnd - 1] === 0) nameEnd--;
    notes.push({ name: latin1.decode(bytes.subarray(nameAt, nameEnd)), type, desc: bytes.subarray(descAt, descAt + descsz), offset: off });
    off = end;
  }
  // Trailing bytes shorter than a note header are padding unless they hold data.
  if (off < bytes.length && bytes.subarray(off).some((b) => b !== 0)) return { notes, stoppedAt: off };
  return { notes };
}

/** The GNU build-id among some notes, as lower-case hex. */
export function buildIdOf(notes: readonly ElfNote[]): string | undefined {
  const n = notes.find((x) => x.name === 'GNU' && x.type === 3);
  return n && n.desc.length ? Buffer.from(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength).toString('hex') : undefined;
}
