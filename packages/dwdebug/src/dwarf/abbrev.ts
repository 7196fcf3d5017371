import { DW_FORM } from './constants.js';
import { TRUNCATED, type Reader } from './reader.js';

/** One abbreviation declaration: the shape shared by every DIE that uses its code. */
export interface Abbrev {
  readonly code: number;
  readonly tag: number;
  readonly hasChildren: boolean;
  /** Attribute names, in order. */
  readonly attrs: readonly number[];
  /** Attribute forms, parallel to `attrs`. */
  readonly forms: readonly number[];
  /** DW_FORM_implicit_const values by attribute index (only where the form is implicit_const). */
  readonly implicit: ReadonlyMap<number, bigint> | undefined;
}

/**
 * The abbreviations of one table (one `.debug_abbrev` offset). Stored flat
 * (tags, flags and (attribute, form) pairs in arrays) because a kernel has
 * 200,000 of them and the indexer reads them once; {@link Abbrev} objects are
 * made only for the codes someone asks for.
 */
export class AbbrevTable {
  /** Declarations in table order. */
  readonly codes: number[] = [];
  readonly tags: number[] = [];
  readonly children: boolean[] = [];
  /** Index into `spec` (in pairs) of each declaration's first attribute, and the attribute count. */
  readonly specStart: number[] = [];
  readonly specCount: number[] = [];
  /** (attribute, form) pairs of all declarations. */
  spec: number[] = [];
  /** implicit_const values by pair index. */
  readonly implicitConst = new Map<number, bigint>();
  private readonly indexOfCode: number[] = [];
  private readonly sparse = new Map<number, number>();
  private readonly made: (Abbrev | undefined)[] = [];

  constructor(readonly offset: number) {}

  /** Declaration index of a code, or -1. */
  indexOf(code: number): number {
    const i = code < 65536 ? this.indexOfCode[code] : this.sparse.get(code);
    return i === undefined ? -1 : i;
  }

  get(code: number): Abbrev | undefined {
    const i = this.indexOf(code);
    if (i < 0) return undefined;
    let a = this.made[i];
    if (a) return a;
    const attrs: number[] = [];
    const forms: number[] = [];
    let implicit: Map<number, bigint> | undefined;
    for (let k = 0; k < this.specCount[i]!; k++) {
      const p = this.specStart[i]! + k;
      attrs.push(this.spec[2 * p]!);
      forms.push(this.spec[2 * p + 1]!);
      const c = this.implicitConst.get(p);
      if (c !== undefined) (implicit ??= new Map()).set(k, c);
    }
    a = { code, tag: this.tags[i]!, hasChildren: this.children[i]!, attrs, forms, implicit };
    this.made[i] = a;
    return a;
  }

  /** Every abbreviation, in table order. */
  *all(): IterableIterator<Abbrev> {
    for (const c of this.codes) yield this.get(c)!;
  }

  /** @internal */
  add(code: number): boolean {
    if (this.indexOf(code) >= 0) return false;
    const i = this.codes.length;
    this.codes.push(code);
    if (code < 65536) {
      while (this.indexOfCode.length <= code) this.indexOfCode.push(undefined as unknown as number);
      this.indexOfCode[code] = i;
    } else this.sparse.set(code, i);
    return true;
  }
}

/** ULEB128 at `p` of `b`: value and next position; a value past 2^53 or past `end` reports -1. */
function uleb(b: Uint8Array, p: number, end: number, out: number[]): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (p >= end) return -1;
    const c = b[p++]!;
    v += (c & 0x7f) * mul;
    if (!(c & 0x80)) break;
    mul *= 128;
    if (mul > 2 ** 56) return -1;
  }
  out[0] = v;
  return p;
}

/**
 * Parses the abbreviation table at a `.debug_abbrev` offset. Malformed input
 * leaves a sticky error on the reader; the table holds what was read before it.
 */
export function parseAbbrevTable(r: Reader, offset: number): AbbrevTable {
  const table = new AbbrevTable(offset);
  r.seek(offset);
  if (r.error) return table;
  const b = r.bytes;
  const end = r.end;
  let p = r.pos;
  const v: number[] = [0];
  const spec = table.spec;
  const bad = (msg: string, at: number, code?: string) => {
    r.pos = at;
    r.fail(msg, r.base + at, code);
  };
  for (;;) {
    const declAt = p;
    if ((p = uleb(b, p, end, v)) < 0) return bad('truncated abbreviation table', declAt, TRUNCATED), table;
    const code = v[0]!;
    if (code === 0) break;
    if ((p = uleb(b, p, end, v)) < 0) return bad('truncated abbreviation', declAt, TRUNCATED), table;
    const tag = v[0]!;
    if (p >= end) return bad('truncated abbreviation', declAt, TRUNCATED), table;
    const children = b[p++] !== 0;
    if (!table.add(code)) return bad(`duplicate abbreviation code ${code}`, declAt), table;
    table.tags.push(tag);
    table.children.push(children);
    const first = spec.length >> 1;
    table.specStart.push(first);
    for (;;) {
      if ((p = uleb(b, p, end, v)) < 0) return bad('truncated abbreviation', declAt, TRUNCATED), table;
      const at = v[0]!;
      if ((p = uleb(b, p, end, v)) < 0) return bad('truncated abbreviation', declAt, TRUNCATED), table;
      const form = v[0]!;
      if (at === 0 && form === 0) break;
      if (form === DW_FORM.implicit_const) {
        // A signed LEB128 follows; keep it exact.
        r.pos = p;
        table.implicitConst.set(spec.length >> 1, r.slebBig());
        if (r.error) return table;
        p = r.pos;
      }
      spec.push(at, form);
      if ((spec.length >> 1) - first > 100_000) return bad('abbreviation with too many attributes', declAt), table;
    }
    table.specCount.push((spec.length >> 1) - first);
  }
  r.pos = p;
  return table;
}
