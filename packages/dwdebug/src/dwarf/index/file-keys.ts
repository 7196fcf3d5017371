/**
 * Keys of a line table's files, for telling apart definitions of a type in
 * different headers: a hash of each file's name as the table writes it,
 * without its directory. Directories are spelled relative to each unit's
 * compilation directory (glibc's units each build in their own), so the same
 * header has a different full path in every unit; its name is the same, and
 * with the declaration line it tells struct definitions apart well. Names in
 * string sections are keyed by offset, so nothing is decoded.
 */
import { DW_FORM } from '../constants.js';
import type { Reader } from '../reader.js';

/** FNV-1a of the bytes of a NUL-terminated string at the reader's cursor; advances past it. */
function fnvCstring(r: Reader, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  const b = r.bytes;
  let p = r.pos;
  while (p < r.end && b[p] !== 0) h = Math.imul(h ^ b[p++]!, 0x01000193);
  if (p >= r.end) r.fail('unterminated string');
  else r.pos = p + 1;
  return h >>> 0;
}

function mix(a: number, b: number): number {
  return (Math.imul(a ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35)) >>> 0;
}

/**
 * File keys of a line table header, indexed by file
 * number (DWARF 5 from 0, earlier versions from 1). Undefined on a header it
 * cannot read.
 */
export function readFileKeys(r: Reader): Uint32Array | undefined {
  const { offsetSize } = r.initialLength();
  const version = r.u16();
  if (r.error || version < 2 || version > 5) return undefined;
  if (version >= 5) r.skip(2);
  r.skip(offsetSize); // header_length
  r.skip(version >= 4 ? 4 : 3); // min_inst_length, [max_ops], default_is_stmt, line_base
  r.u8(); // line_range
  const opcodeBase = r.u8();
  r.skip(Math.max(0, opcodeBase - 1));
  if (version < 5) {
    while (!r.atEnd && r.bytes[r.pos] !== 0) fnvCstring(r, 0);
    r.skip(1);
    const keys = [0];
    while (!r.atEnd && r.bytes[r.pos] !== 0) {
      keys.push(fnvCstring(r, 0));
      r.skipLeb();
      r.skipLeb();
      r.skipLeb();
    }
    return r.error ? undefined : Uint32Array.from(keys);
  }
  // DWARF 5: entry formats, then entries; a string is keyed by its section offset when it has one.
  const readTable = (): number[] | undefined => {
    const nfmt = r.u8();
    const fmt: number[] = [];
    for (let i = 0; i < nfmt; i++) fmt.push(r.uleb(), r.uleb());
    const count = r.uleb();
    if (r.error || count > 1_000_000) return undefined;
    const out: number[] = [];
    for (let e = 0; e < count && !r.error; e++) {
      let path = 0;
      for (let i = 0; i < fmt.length; i += 2) {
        const type = fmt[i]!;
        const form = fmt[i + 1]!;
        let v = 0;
        switch (form) {
          case DW_FORM.string: v = fnvCstring(r, 0); break;
          case DW_FORM.line_strp: v = mix(1, r.offsetOf(offsetSize as 4 | 8)); break;
          case DW_FORM.strp: v = mix(2, r.offsetOf(offsetSize as 4 | 8)); break;
          case DW_FORM.udata: v = r.uleb(); break;
          case DW_FORM.data1: v = r.u8(); break;
          case DW_FORM.data2: v = r.u16(); break;
          case DW_FORM.data4: v = r.u32(); break;
          case DW_FORM.data8: r.skip(8); break;
          case DW_FORM.data16: r.skip(16); break;
          case DW_FORM.block: r.skip(r.uleb()); break;
          case DW_FORM.strx: case DW_FORM.GNU_str_index: v = mix(3, r.uleb()); break;
          case DW_FORM.strx1: v = mix(3, r.u8()); break;
          case DW_FORM.strx2: v = mix(3, r.u16()); break;
          case DW_FORM.strx3: v = mix(3, r.u24()); break;
          case DW_FORM.strx4: v = mix(3, r.u32()); break;
          default:
            r.fail(`unsupported form 0x${form.toString(16)} in line table header`);
        }
        if (type === 1) path = v;
      }
      out.push(path);
    }
    return r.error ? undefined : out;
  };
  if (!readTable()) return undefined;
  const files = readTable();
  return files ? Uint32Array.from(files) : undefined;
}
