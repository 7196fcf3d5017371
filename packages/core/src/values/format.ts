import { DW_ATE, strip, sizeOf, typeName, type DwarfType, type Member } from '@stackdb/dwdebug';
import type { ProgramSymbols } from '../symbols/program.js';
import type { Target } from '../target/target.js';
import { formatFloatValue } from './float.js';
import { anyBit, type Value } from './value.js';

/** How much of a value to render. */
export interface FormatOptions {
  /** Bytes of a C string shown (default 200). */
  readonly maxString?: number;
  /** Array elements shown (default 200). */
  readonly maxElements?: number;
  /** Render structs, unions and arrays as `...` (gdb's `frame-arguments scalars`, used by backtraces). */
  readonly scalarsOnly?: boolean;
  /**
   * Prefix a pointer value with its type, as gdb's `print` does for the value
   * it prints (`(int *) 0x404028 <i32>`); strings (char pointers) never are.
   */
  readonly pointerType?: boolean;
}

/** What rendering may consult: the target for strings behind pointers, symbols for addresses. */
export interface FormatContext {
  readonly target: Target;
  readonly program?: ProgramSymbols;
}

const CHAR_NAMES: Record<number, string> = { 0: '\\000', 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 27: '\\033', 34: '\\"', 39: "\\'", 92: '\\\\' };

function escapeChar(c: number, quote: '"' | "'"): string {
  if (c === 34 && quote === "'") return '"';
  if (c === 39 && quote === '"') return "'";
  if (CHAR_NAMES[c] !== undefined) return CHAR_NAMES[c]!;
  if (c < 32 || c >= 127) return `\\${c.toString(8).padStart(3, '0')}`;
  return String.fromCharCode(c);
}

/** Reads an integer of `size` bytes (little-endian) at `off`. */
export function readInteger(bytes: Uint8Array, off: number, size: number, signed: boolean): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[off + i] ?? 0);
  return signed ? BigInt.asIntN(size * 8, v) : v;
}

function isCharType(t: DwarfType): boolean {
  const s = strip(t);
  return s.kind === 'base' && s.size === 1 && (s.encoding === DW_ATE.signed_char || s.encoding === DW_ATE.unsigned_char || /char/.test(s.name ?? ''));
}

/** gdb's threshold: a run of more equal elements than this prints as `<repeats N times>`. */
const REPEAT_THRESHOLD = 10;

/**
 * Characters as gdb prints a string: quoted segments, with runs of more than
 * ten equal characters as `'c' <repeats N times>`, joined by commas. At most
 * `limit` elements are shown, a run counting as ten (gdb's `print elements`);
 * `...` follows when some were left out or the text was cut before (`truncated`).
 * An empty string is `""`.
 */
export function gdbString(chars: Uint8Array, truncated: boolean, limit = 200): string {
  const parts: string[] = [];
  let seg = '';
  let shown = 0;
  let i = 0;
  while (i < chars.length && shown < limit) {
    let j = i + 1;
    while (j < chars.length && chars[j] === chars[i]) j++;
    if (j - i > REPEAT_THRESHOLD) {
      if (seg) parts.push(`"${seg}"`);
      seg = '';
      parts.push(`'${escapeChar(chars[i]!, "'")}' <repeats ${j - i} times>`);
      shown += REPEAT_THRESHOLD;
      i = j;
      continue;
    }
    for (; i < j && shown < limit; i++, shown++) seg += escapeChar(chars[i]!, '"');
  }
  if (seg || parts.length === 0) parts.push(`"${seg}"`);
  return parts.join(', ') + (truncated || i < chars.length ? '...' : '');
}

/** Renders a value as gdb prints it (`42`, `0x4005d0 "text"`, `{a = 1, b = 0x0}`, `<optimized out>`). */
export async function formatValue(value: Value, ctx: FormatContext, opts: FormatOptions = {}): Promise<string> {
  if (value.status !== 'ok' || !value.bytes) {
    return value.status === 'optimized-out' ? '<optimized out>' : value.status === 'not-in-scope' ? '<not in scope>' : '<unavailable>';
  }
  if (value.location?.kind === 'implicit-pointer') return '<synthetic pointer>';
  const text = await new Renderer(ctx, opts, value).render(value.type, value.bytes, 0, 0);
  const t = strip(value.type);
  if (opts.pointerType && t.kind === 'pointer' && !isCharType(strip(t.target))) return `(${typeName(value.type)}) ${text}`;
  return text;
}

class Renderer {
  private readonly maxString: number;
  private readonly maxElements: number;

  constructor(private readonly ctx: FormatContext, private readonly opts: FormatOptions, private readonly root?: Value) {
    this.maxString = opts.maxString ?? 200;
    this.maxElements = opts.maxElements ?? 200;
  }

  /** For bits of the value being formatted: `<optimized out>` or `<unavailable>` when some of them are missing. */
  private gap(bytes: Uint8Array, bitFrom: number, bitCount: number): string | undefined {
    const g = this.root?.gaps;
    if (!g || bytes !== this.root?.bytes) return undefined;
    if (anyBit(g.optimizedOut, bitFrom, bitCount)) return '<optimized out>';
    if (anyBit(g.unavailable, bitFrom, bitCount)) return '<unavailable>';
    return undefined;
  }

  async render(type: DwarfType, bytes: Uint8Array, off: number, depth: number, bitfield?: { bitOffset: number; bitSize: number }): Promise<string> {
    const t = strip(type);
    if (t.kind !== 'struct' && t.kind !== 'union' && t.kind !== 'class' && t.kind !== 'array') {
      // A scalar is all there or not at all, as gdb shows it.
      const missing = bitfield ? this.gap(bytes, off * 8 + bitfield.bitOffset, bitfield.bitSize) : this.gap(bytes, off * 8, (sizeOf(t) ?? 0) * 8);
      if (missing) return missing;
    }
    switch (t.kind) {
      case 'base': {
        const size = t.size ?? 0;
        let v: bigint;
        if (bitfield) v = this.bits(bytes, off, bitfield, t.signed);
        else if (t.encoding === DW_ATE.float) return formatFloatValue(bytes, off, size);
        else if (t.encoding === DW_ATE.complex_float) return `${formatFloatValue(bytes, off, size / 2)} + ${formatFloatValue(bytes, off + size / 2, size / 2)}i`;
        else v = readInteger(bytes, off, size, t.signed);
        if (t.encoding === DW_ATE.boolean) return v === 0n ? 'false' : v === 1n ? 'true' : String(v);
        if (isCharType(t)) return `${v} '${escapeChar(Number(BigInt.asUintN(8, v)), "'")}'`;
        return String(v);
      }
      case 'enum': {
        const size = t.size ?? 4;
        const signed = t.enumerators.some((e) => e.value < 0n);
        const v = bitfield ? this.bits(bytes, off, bitfield, signed) : readInteger(bytes, off, size, signed);
        const e = t.enumerators.find((x) => x.value === v);
        if (e) return e.name;
        // A flag enum: a combination of its bits.
        const flags = t.enumerators.filter((x) => x.value > 0n && (x.value & (x.value - 1n)) === 0n && (v & x.value) === x.value);
        const rest = flags.reduce((acc, x) => acc & ~x.value, v);
        if (flags.length && v > 0n) return `(${flags.map((x) => x.name).join(' | ')}${rest ? ` | unknown: 0x${rest.toString(16)}` : ''})`;
        return String(v);
      }
      case 'pointer':
        return this.pointer(t.target, readInteger(bytes, off, t.size, false));
      case 'reference':
      case 'rvalue-reference': {
        const addr = readInteger(bytes, off, t.size, false);
        const target = t.target;
        const size = sizeOf(target) ?? 0;
        const buf = new Uint8Array(size);
        const n = await this.ctx.target.readInto(addr, buf).catch(() => 0);
        const inner = n < size ? `<error: Cannot access memory at address 0x${addr.toString(16)}>` : await this.render(target, buf, 0, depth + 1);
        return `@0x${addr.toString(16)}: ${inner}`;
      }
      case 'struct':
      case 'union':
      case 'class': {
        if (this.opts.scalarsOnly) return '...';
        const def = t.complete();
        const parts: string[] = [];
        for (const m of def.members) {
          if (m.isStatic) continue;
          parts.push(await this.member(m, bytes, off, depth));
        }
        return `{${parts.join(', ')}}`;
      }
      case 'array': {
        if (this.opts.scalarsOnly) return '...';
        return this.array(t.element, t.dimensions.map((d) => d.count), bytes, off, depth);
      }
      case 'function':
        return `{${typeName(t)}}`;
      case 'void':
        return 'void';
      case 'ptr-to-member':
        return `0x${readInteger(bytes, off, sizeOf(t) ?? 8, false).toString(16)}`;
      default:
        return `<${typeName(t)}>`;
    }
  }

  private bits(bytes: Uint8Array, off: number, bf: { bitOffset: number; bitSize: number }, signed: boolean): bigint {
    let v = 0n;
    for (let i = bf.bitSize - 1; i >= 0; i--) {
      const b = bf.bitOffset + i;
      v = (v << 1n) | BigInt((bytes[off + (b >> 3)]! >> (b & 7)) & 1);
    }
    return signed ? BigInt.asIntN(bf.bitSize, v) : v;
  }

  private async member(m: Member, bytes: Uint8Array, off: number, depth: number): Promise<string> {
    const label = m.inheritance ? `<${typeName(m.type)}>` : (m.name ?? '');
    let text: string;
    if (m.bitSize !== undefined && m.bitOffset !== undefined) {
      text = await this.render(m.type, bytes, off, depth + 1, { bitOffset: m.bitOffset, bitSize: m.bitSize });
    } else {
      text = await this.render(m.type, bytes, off + (m.offset ?? Math.floor((m.bitOffset ?? 0) / 8)), depth + 1);
    }
    return label ? `${label} = ${text}` : text;
  }

  private async array(element: DwarfType, counts: readonly (bigint | undefined)[], bytes: Uint8Array, off: number, depth: number): Promise<string> {
    const [count, ...rest] = counts;
    if (count === undefined) return '<unknown bound>';
    const elemSize = rest.reduce<number>((acc, c) => acc * Number(c ?? 0n), sizeOf(element) ?? 0);
    const n = Number(count);
    if (rest.length === 0 && isCharType(element)) return this.charArray(bytes, off, n, element, depth);
    const items: string[] = [];
    let i = 0;
    // gdb's `print elements`: each element counts one, a collapsed run ten.
    let shown = 0;
    while (i < n && shown < this.maxElements) {
      const text = rest.length ? await this.array(element, rest, bytes, off + i * elemSize, depth + 1) : await this.render(element, bytes, off + i * elemSize, depth + 1);
      // Runs of more than ten equal elements collapse, as in gdb.
      let j = i + 1;
      while (j < n && elemSize > 0 && bytes.subarray(off + j * elemSize, off + (j + 1) * elemSize).every((b, k) => b === bytes[off + i * elemSize + k])) j++;
      if (j - i > REPEAT_THRESHOLD) {
        items.push(`${text} <repeats ${j - i} times>`);
        shown += REPEAT_THRESHOLD;
        i = j;
      } else {
        items.push(text);
        shown++;
        i++;
      }
    }
    return `{${items.join(', ')}${i < n ? '...' : ''}}`;
  }

  /** A char array as gdb prints it: every element but a final NUL (`"scene\\000\\000"`), runs collapsed. */
  private async charArray(bytes: Uint8Array, off: number, n: number, element: DwarfType, depth: number): Promise<string> {
    // With some characters missing, gdb shows the elements one by one.
    if (this.gap(bytes, off * 8, n * 8)) {
      const items: string[] = [];
      for (let i = 0; i < n && i < this.maxElements; i++) items.push(await this.render(element, bytes, off + i, depth + 1));
      return `{${items.join(', ')}${n > this.maxElements ? '...' : ''}}`;
    }
    const data = bytes.subarray(off, off + n);
    const len = n > 0 && data[n - 1] === 0 ? n - 1 : n;
    return gdbString(data.subarray(0, len), false, this.maxString);
  }

  private async pointer(target: DwarfType, addr: bigint): Promise<string> {
    const hex = `0x${addr.toString(16)}`;
    if (addr === 0n) return hex;
    const t = strip(target);
    if (isCharType(t)) {
      const buf = new Uint8Array(this.maxString + 1);
      const n = await this.ctx.target.readInto(addr, buf).catch(() => 0);
      if (n === 0) return `${hex} <error: Cannot access memory at address ${hex}>`;
      const data = buf.subarray(0, n);
      const z = data.indexOf(0);
      const end = z < 0 ? Math.min(n, this.maxString) : z;
      // gdb names the object a string points into when there is one (`0x404100 <longs> "..."`).
      const sym = await this.symbolFor(addr, false);
      return `${hex}${sym ? ` <${sym}>` : ''} ${gdbString(data.subarray(0, end), z < 0, this.maxString)}`;
    }
    const sym = await this.symbolFor(addr, t.kind === 'function');
    return sym ? `${hex} <${sym}>` : hex;
  }

  /** `name` or `name+off` when the address is inside a symbol (functions always; data when exact containment). */
  private async symbolFor(addr: bigint, code: boolean): Promise<string | undefined> {
    const s = await this.ctx.program?.symbolAt(addr).catch(() => undefined);
    if (!s) return undefined;
    const off = addr - s.start;
    if (off < 0n || (s.size > 0n && off >= s.size) || (!code && s.size === 0n && off !== 0n)) return undefined;
    return off === 0n ? s.name : `${s.name}+${off}`;
  }
}
