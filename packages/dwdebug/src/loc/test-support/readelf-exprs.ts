/**
 * Location expressions as readelf shows them, for comparing the decoder and
 * the disassembler with an independent tool: exprloc blocks from
 * `readelf --debug-dump=info` (bytes and text on one line) and location list
 * entries from `readelf --debug-dump=loc` (text), whose bytes are decoded
 * here at the entry offsets readelf prints.
 */
import { ByteReader } from '../../elf/byte-reader.js';

/** One `N byte block: .. (DW_OP_...)` attribute of `readelf -wi`. */
export interface ReadelfBlock {
  readonly cuOffset: number;
  readonly version: number;
  readonly addressSize: number;
  readonly attribute: string;
  readonly bytes: Uint8Array;
  readonly text: string;
}

/** Expression blocks of location-like attributes in a `readelf -wi` dump. */
export function readelfBlocks(dump: string): ReadelfBlock[] {
  const out: ReadelfBlock[] = [];
  let cuOffset = 0;
  let version = 5;
  let addressSize = 8;
  for (const line of dump.split('\n')) {
    const cu = /Compilation Unit @ offset (0x[0-9a-f]+|0):/.exec(line);
    if (cu) {
      cuOffset = Number(cu[1]);
      continue;
    }
    const v = /^\s+Version:\s+(\d+)/.exec(line);
    if (v) version = Number(v[1]);
    const p = /^\s+Pointer Size:\s+(\d+)/.exec(line);
    if (p) addressSize = Number(p[1]);
    const m = /^\s+<[0-9a-f]+>\s+(DW_AT_\w+)\s*: (?:\(exprloc\) )?\d+ byte block: ([0-9a-f ]*?)\s*\t\((.*)\)\s*$/.exec(line);
    if (!m || !/location|frame_base|call_value|call_target|data_member_location|GNU_call_site/.test(m[1]!)) continue;
    const bytes = new Uint8Array(m[2]!.trim().split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));
    out.push({ cuOffset, version, addressSize, attribute: m[1]!, bytes, text: m[3]! });
  }
  return out;
}

/** Expression text per location-list entry offset in a `readelf -wo` dump. */
export function readelfLocTexts(dump: string): Map<number, string> {
  const out = new Map<number, string>();
  let entry = -1;
  for (const line of dump.split('\n')) {
    const off = /^ {4}([0-9a-f]{8}) /.exec(line);
    if (off) entry = parseInt(off[1]!, 16);
    const expr = /\((DW_OP_.*?)\)(?: \(start [=>]+ end\))?\s*$/.exec(line);
    if (expr && entry >= 0) out.set(entry, expr[1]!);
  }
  return out;
}

/**
 * The expression bytes of the DWARF 5 `.debug_loclists` entry at an offset
 * (readelf prints each entry's offset). Entries are decoded where readelf
 * says they are: gcc's location view pairs carry no kind byte, so the
 * section cannot be walked without the DIEs that point into it.
 */
export function loclistExprAt(section: Uint8Array, offset: number, littleEndian: boolean, addressSize = 8): Uint8Array | undefined {
  const r = new ByteReader(section, littleEndian, { section: '.debug_loclists' });
  r.seek(offset);
  const loc = () => r.bytes(r.uleb());
  switch (r.u8()) {
    case 2: case 3: case 4: r.uleb(); r.uleb(); return loc();
    case 5: return loc();
    case 7: r.skip(addressSize * 2); return loc();
    case 8: r.skip(addressSize); r.uleb(); return loc();
    default: return undefined;
  }
}
