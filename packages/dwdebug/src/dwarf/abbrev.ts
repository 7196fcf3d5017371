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

/** One abbreviation declaration as parsed: what {@link AbbrevTable} stores. */
export interface AbbrevDecl {
  readonly code: number;
  readonly tag: number;
  readonly children: boolean;
  /** (attribute, form) pairs. */
  readonly spec: readonly number[];
  /** DW_FORM_implicit_const values by attribute index. */
  readonly implicit?: ReadonlyMap<number, bigint>;
}

/**
 * The abbreviations of one table (one `.debug_abbrev` offset). Stored flat in
 * typed arrays (tags, flags and (attribute, form) pairs) because a kernel has
 * 340,000 of them and a session may keep a thousand tables; {@link Abbrev}
 * objects are made only for the codes someone asks for.
 */
export class AbbrevTable {
  /** Declarations in table order. */
  readonly codes: Int32Array;
  private readonly tags: Int32Array;
  private readonly children: Uint8Array;
  /** Index into `spec` (in pairs) of each declaration's first attribute, and the attribute count. */
  private readonly specStart: Int32Array;
  private readonly specCount: Int32Array;
  /** (attribute, form) pairs of all declarations. */
  private readonly spec: Uint16Array | Int32Array;
  /** implicit_const values by pair index. */
  private readonly implicitConst: ReadonlyMap<number, bigint>;
  /** Declaration index by code (dense codes), or a map for codes past 65,535. */
  private readonly indexOfCode: Int32Array;
  private readonly sparse: ReadonlyMap<number, number> | undefined;
  private readonly made: (Abbrev | undefined)[] = [];

  constructor(readonly offset: number, decls: readonly AbbrevDecl[]) {
    const n = decls.length;
    this.codes = new Int32Array(n);
    this.tags = new Int32Array(n);
    this.children = new Uint8Array(n);
    this.specStart = new Int32Array(n);
    this.specCount = new Int32Array(n);
    let pairs = 0;
    let wide = false;
    let dense = 0;
    for (const d of decls) {
      pairs += d.spec.length >> 1;
      for (const v of d.spec) if (v > 0xffff) wide = true;
      if (d.code < 65536 && d.code > dense) dense = d.code;
    }
    this.spec = wide ? new Int32Array(2 * pairs) : new Uint16Array(2 * pairs);
    this.indexOfCode = new Int32Array(dense + 1).fill(-1);
    const sparse = new Map<number, number>();
    const implicit = new Map<number, bigint>();
    let p = 0;
    decls.forEach((d, i) => {
      this.codes[i] = d.code;
      this.tags[i] = d.tag;
      this.children[i] = d.children ? 1 : 0;
      this.specStart[i] = p;
      this.specCount[i] = d.spec.length >> 1;
      this.spec.set(d.spec, 2 * p);
      for (const [k, v] of d.implicit ?? []) implicit.set(p + k, v);
      p += d.spec.length >> 1;
      if (d.code < 65536) this.indexOfCode[d.code] = i;
      else sparse.set(d.code, i);
    });
    this.implicitConst = implicit;
    this.sparse = sparse.size ? sparse : undefined;
  }

  /** Declaration index of a code, or -1. */
  indexOf(code: number): number {
    if (code < this.indexOfCode.length) return this.indexOfCode[code]!;
    return this.sparse?.get(code) ?? -1;
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
    a = { code, tag: this.tags[i]!, hasChildren: this.children[i] === 1, attrs, forms, implicit };
    this.made[i] = a;
    return a;
  }

  /** Every abbreviation, in table order. */
  *all(): IterableIterator<Abbrev> {
    for (const c of this.codes) yield this.get(c)!;
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
  const decls: AbbrevDecl[] = [];
  const done = () => new AbbrevTable(offset, decls);
  r.seek(offset);
  if (r.error) return done();
  const b = r.bytes;
  const end = r.end;
  let p = r.pos;
  const v: number[] = [0];
  const seen = new Set<number>();
  const bad = (msg: string, at: number, code?: string) => {
    r.pos = at;
    r.fail(msg, r.base + at, code);
    return done();
  };
  for (;;) {
    const declAt = p;
    if ((p = uleb(b, p, end, v)) < 0) return bad('truncated abbreviation table', declAt, TRUNCATED);
    const code = v[0]!;
    if (code === 0) break;
    if ((p = uleb(b, p, end, v)) < 0) return bad('truncated abbreviation', declAt, TRUNCATED);
    const tag = v[0]!;
    if (p >= end) return bad('truncated abbreviation', declAt, TRUNCATED);
    const children = b[p++] !== 0;
    if (seen.has(code)) return bad(`duplicate abbreviation code ${code}`, declAt);
    seen.add(code);
    const spec: number[] = [];
    let implicit: Map<number, bigint> | undefined;
    for (;;) {
      if ((p = uleb(b, p, end, v)) < 0) return bad('truncated abbreviation', declAt, TRUNCATED);
      const at = v[0]!;
      if ((p = uleb(b, p, end, v)) < 0) return bad('truncated abbreviation', declAt, TRUNCATED);
      const form = v[0]!;
      if (at === 0 && form === 0) break;
      if (form === DW_FORM.implicit_const) {
        // A signed LEB128 follows; keep it exact.
        r.pos = p;
        (implicit ??= new Map()).set(spec.length >> 1, r.slebBig());
        if (r.error) return done();
        p = r.pos;
      }
      spec.push(at, form);
      if (spec.length > 200_000) return bad('abbreviation with too many attributes', declAt);
    }
    decls.push({ code, tag, children, spec, ...(implicit ? { implicit } : {}) });
  }
  r.pos = p;
  return done();
}
