import test from 'ava';
import { buildIdOf, parseNotes } from './notes.js';

/** One note, laid out as in a file: header, name and descriptor padded to `align`. */
function note(name: string, type: number, desc: Uint8Array, align = 4): Uint8Array {
  const pad = (n: number) => (n + align - 1) & ~(align - 1);
  const nameBytes = name ? new TextEncoder().encode(name + '\0') : new Uint8Array(0);
  const out = new Uint8Array(12 + pad(nameBytes.length) + pad(desc.length));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, nameBytes.length, true);
  dv.setUint32(4, desc.length, true);
  dv.setUint32(8, type, true);
  out.set(nameBytes, 12);
  out.set(desc, 12 + pad(nameBytes.length));
  return out;
}

const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

test('notes are parsed with their names, types and descriptor views', (t) => {
  const bytes = concat(note('CORE', 1, Uint8Array.of(1, 2, 3)), note('LINUX', 0x202, Uint8Array.of(9)), note('', 7, new Uint8Array(0)));
  const { notes, stoppedAt } = parseNotes(bytes);
  t.is(stoppedAt, undefined);
  t.deepEqual(notes.map((n) => [n.name, n.type, [...n.desc], n.offset]), [['CORE', 1, [1, 2, 3], 0], ['LINUX', 0x202, [9], 24], ['', 7, [], 48]]);
  t.is(notes[0]!.desc.buffer, bytes.buffer, 'descriptors are views, not copies');
});

test('8-byte aligned notes', (t) => {
  const bytes = concat(note('GNU', 5, Uint8Array.of(1, 2, 3, 4, 5), 8), note('GNU', 3, Uint8Array.of(0xab, 0xcd), 8));
  t.deepEqual(parseNotes(bytes, true, 8).notes.map((n) => n.type), [5, 3]);
});

test('a note cut short is dropped and the place is reported; earlier notes survive', (t) => {
  const bytes = concat(note('CORE', 1, new Uint8Array(16)), note('CORE', 2, new Uint8Array(512)));
  const { notes, stoppedAt } = parseNotes(bytes.subarray(0, 100));
  t.is(notes.length, 1);
  t.is(stoppedAt, 36);
  t.deepEqual(parseNotes(concat(note('CORE', 1, new Uint8Array(4)), new Uint8Array(8))).stoppedAt, undefined, 'zero padding is not a note');
  t.is(parseNotes(concat(note('CORE', 1, new Uint8Array(4)), Uint8Array.of(0, 0, 1, 0))).stoppedAt, 24, 'trailing garbage is');
});

test('the GNU build-id note as hex', (t) => {
  const { notes } = parseNotes(concat(note('GNU', 1, new Uint8Array(16)), note('GNU', 3, Uint8Array.of(0xde, 0xad, 0xbe, 0xef))));
  t.is(buildIdOf(notes), 'deadbeef');
  t.is(buildIdOf([]), undefined);
});
