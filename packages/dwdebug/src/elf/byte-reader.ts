import { DwarfError } from '../errors.js';

/** Where a reader's bytes come from, for error messages. */
export interface ReaderOrigin {
  readonly file?: string;
  readonly section?: string;
  /** Offset of `data[0]` within the named section (errors report section offsets). */
  readonly base?: number;
}

const TWO_53 = 2 ** 53;

/**
 * A bounds-checked cursor over a byte view, in the file's byte order. Every
 * read past the end throws a {@link DwarfError} (code `ERR_TRUNCATED`) naming
 * the file, section and section offset; nothing else is ever thrown, so
 * parsers built on it fail with typed errors only.
 *
 * Numbers: fixed-size reads up to 32 bits and LEB128 values that fit in 53
 * bits come back as `number` (the hot paths: CFI, offsets); 64-bit reads and
 * `*Big` LEB128 reads come back as `bigint`.
 */
export class ByteReader {
  /** Current position, relative to the view. */
  pos = 0;
  private readonly view: DataView;

  constructor(
    readonly data: Uint8Array,
    readonly littleEndian: boolean,
    readonly origin: ReaderOrigin = {},
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Bytes left after the cursor. */
  get remaining(): number {
    return this.data.length - this.pos;
  }

  /** True when the cursor is at (or past) the end. */
  get atEnd(): boolean {
    return this.pos >= this.data.length;
  }

  /** A typed error at a view offset (default: the cursor), reported as a section offset. */
  error(message: string, at = this.pos, code = 'ERR_BAD_DATA'): DwarfError {
    const where: { file?: string; section?: string; offset?: number } = { offset: (this.origin.base ?? 0) + at };
    if (this.origin.file !== undefined) where.file = this.origin.file;
    if (this.origin.section !== undefined) where.section = this.origin.section;
    return new DwarfError(code, message, where);
  }

  private need(n: number): number {
    const p = this.pos;
    if (n < 0 || p + n > this.data.length) throw this.error(`truncated: need ${n} bytes, ${Math.max(0, this.data.length - p)} left`, p, 'ERR_TRUNCATED');
    this.pos = p + n;
    return p;
  }

  /** Moves the cursor to an absolute view offset (checked). */
  seek(pos: number): void {
    if (pos < 0 || pos > this.data.length) throw this.error(`offset 0x${pos.toString(16)} outside the data`, this.pos, 'ERR_TRUNCATED');
    this.pos = pos;
  }

  skip(n: number): void {
    this.need(n);
  }

  u8(): number {
    return this.data[this.need(1)]!;
  }

  s8(): number {
    return this.view.getInt8(this.need(1));
  }

  u16(): number {
    return this.view.getUint16(this.need(2), this.littleEndian);
  }

  s16(): number {
    return this.view.getInt16(this.need(2), this.littleEndian);
  }

  u32(): number {
    return this.view.getUint32(this.need(4), this.littleEndian);
  }

  s32(): number {
    return this.view.getInt32(this.need(4), this.littleEndian);
  }

  u64(): bigint {
    return this.view.getBigUint64(this.need(8), this.littleEndian);
  }

  s64(): bigint {
    return this.view.getBigInt64(this.need(8), this.littleEndian);
  }

  /** An unsigned value of 1, 2, 4 or 8 bytes. */
  unsigned(size: number): bigint {
    switch (size) {
      case 1: return BigInt(this.u8());
      case 2: return BigInt(this.u16());
      case 4: return BigInt(this.u32());
      case 8: return this.u64();
      default: throw this.error(`unsupported value size ${size}`);
    }
  }

  /** A signed value of 1, 2, 4 or 8 bytes. */
  signed(size: number): bigint {
    switch (size) {
      case 1: return BigInt(this.s8());
      case 2: return BigInt(this.s16());
      case 4: return BigInt(this.s32());
      case 8: return this.s64();
      default: throw this.error(`unsupported value size ${size}`);
    }
  }

  /** A 4- or 8-byte section offset as a number (checked against 2^53). */
  offset(size: 4 | 8): number {
    if (size === 4) return this.u32();
    const at = this.pos;
    const v = this.u64();
    if (v >= BigInt(TWO_53)) throw this.error(`offset 0x${v.toString(16)} too large`, at);
    return Number(v);
  }

  /** Unsigned LEB128 that must fit in 53 bits. */
  uleb(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      // A 50th bit and beyond may not be exact in a double: take the bigint path.
      if (mul > 2 ** 46) {
        this.pos = start;
        const big = this.ulebBig();
        if (big >= BigInt(TWO_53)) throw this.error(`LEB128 value too large`, start);
        return Number(big);
      }
    }
    return result;
  }

  /** Signed LEB128 that must fit in 53 bits. */
  sleb(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    let b: number;
    for (;;) {
      b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
      if (mul > 2 ** 46) {
        this.pos = start;
        const big = this.slebBig();
        if (big >= BigInt(TWO_53) || big <= -BigInt(TWO_53)) throw this.error(`LEB128 value too large`, start);
        return Number(big);
      }
    }
    if (b & 0x40) result -= mul;
    return result;
  }

  /** Unsigned LEB128 of any length, as a 64-bit value (higher bits dropped). */
  ulebBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.u8();
      if (shift < 64n) result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
    }
    return BigInt.asUintN(64, result);
  }

  /** Signed LEB128 of any length, as a signed 64-bit value. */
  slebBig(): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    for (;;) {
      b = this.u8();
      if (shift < 64n) result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
    }
    if (shift < 64n && b & 0x40) result -= 1n << shift;
    return BigInt.asIntN(64, result);
  }

  /** A view of the next `n` bytes (not a copy). */
  bytes(n: number): Uint8Array {
    const p = this.need(n);
    return this.data.subarray(p, p + n);
  }

  /** A NUL-terminated string (UTF-8), cursor moved past the NUL. */
  cstring(): string {
    const start = this.pos;
    const end = this.data.indexOf(0, start);
    if (end < 0) throw this.error('unterminated string', start, 'ERR_TRUNCATED');
    this.pos = end + 1;
    return decoder.decode(this.data.subarray(start, end));
  }
}

const decoder = new TextDecoder();

/** The NUL-terminated string at `offset` of a string table, or undefined when out of range. */
export function stringAt(table: Uint8Array, offset: number): string | undefined {
  if (offset < 0 || offset >= table.length) return undefined;
  const end = table.indexOf(0, offset);
  return decoder.decode(table.subarray(offset, end < 0 ? table.length : end));
}
