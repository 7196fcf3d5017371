import { Reader, TRUNCATED } from './reader.js';
import type { SectionData } from './source.js';

/**
 * Runs `parse` over a section starting at `offset`, reading only a window of
 * the section: when the parse runs off the end of the window before the end of
 * the section, the window grows and the parse reruns. Lists and line programs
 * are small and their length is not known up front; this keeps a 24 MB
 * `.debug_loclists` on disk.
 */
export function parseAt<T>(
  sec: SectionData,
  offset: number,
  file: string,
  littleEndian: boolean,
  parse: (r: Reader) => T,
  initial = 512,
): { value: T; reader: Reader } {
  let size = sec.inMemory ? sec.size - offset : initial;
  for (;;) {
    const bytes = sec.read(offset, size);
    const r = new Reader(bytes, { file, section: sec.name }, littleEndian, offset);
    if (offset < 0 || offset > sec.size) {
      r.fail(`offset 0x${offset.toString(16)} outside the section`, offset);
      return { value: parse(r), reader: r };
    }
    const value = parse(r);
    if (r.error?.code === TRUNCATED && offset + bytes.length < sec.size) {
      size *= 8;
      continue;
    }
    return { value, reader: r };
  }
}
