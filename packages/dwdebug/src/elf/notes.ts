import { ByteReader } from './byte-reader.js';
import { NT_GNU, PT, SHT } from './constants.js';
import type { ElfFile } from './elf-file.js';

/** One ELF note (`Elf_Nhdr` + name + descriptor). */
export interface ElfNote {
  /** Owner namespace, e.g. `GNU`, `Linux`, `stapsdt`. */
  readonly name: string;
  readonly type: number;
  /** The descriptor bytes (a view). */
  readonly desc: Uint8Array;
}

/**
 * Decodes a note area. Name and descriptor are padded to 4 bytes (all notes
 * in practice, even in ELF64 files; 8-byte alignment only applies to
 * `.note.gnu.property` areas whose section alignment is 8).
 */
export function parseNotes(data: Uint8Array, littleEndian: boolean, origin: { file?: string; section?: string }, align = 4): ElfNote[] {
  const r = new ByteReader(data, littleEndian, origin);
  const notes: ElfNote[] = [];
  // The descriptor and the next note start at aligned offsets of the area.
  const alignUp = () => r.seek(Math.min(data.length, (r.pos + align - 1) & ~(align - 1)));
  while (r.remaining >= 12) {
    const namesz = r.u32();
    const descsz = r.u32();
    const type = r.u32();
    const nameBytes = r.bytes(namesz);
    alignUp();
    const desc = r.bytes(descsz);
    alignUp();
    const nul = nameBytes.indexOf(0);
    notes.push({ name: new TextDecoder().decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)), type, desc });
  }
  return notes;
}

/**
 * All notes of a file: from its `SHT_NOTE` sections, or from its `PT_NOTE`
 * segments when it has no section headers (cores, some stripped images).
 */
export function readNotes(elf: ElfFile): ElfNote[] {
  const out: ElfNote[] = [];
  const sections = elf.sectionsOfType(SHT.NOTE);
  if (sections.length > 0) {
    for (const s of sections) {
      const data = elf.sectionData(s);
      if (data) out.push(...parseNotes(data, elf.littleEndian, { file: elf.path, section: s.name }, s.addralign === 8 ? 8 : 4));
    }
    return out;
  }
  for (const p of elf.segments) {
    if (p.type !== PT.NOTE || p.filesz === 0) continue;
    out.push(...parseNotes(elf.readRaw(p.offset, p.filesz), elf.littleEndian, { file: elf.path, section: 'PT_NOTE' }, Number(p.align) === 8 ? 8 : 4));
  }
  return out;
}

/** The GNU build-id (`NT_GNU_BUILD_ID`) as lowercase hex, or undefined. */
export function buildIdOf(elf: ElfFile): string | undefined {
  // The build-id note lives in `.note.gnu.build-id`; read just that when it exists.
  const s = elf.section('.note.gnu.build-id');
  const notes = s && s.type === SHT.NOTE ? parseNotes(elf.sectionData(s) ?? new Uint8Array(0), elf.littleEndian, { file: elf.path, section: s.name }) : readNotes(elf);
  const note = notes.find((n) => n.name === 'GNU' && n.type === NT_GNU.BUILD_ID && n.desc.length > 0);
  return note ? toHex(note.desc) : undefined;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
