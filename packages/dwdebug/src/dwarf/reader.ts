import { DwarfError } from '../errors.js';

/** Where a reader's bytes come from, for error messages. */
export interface ReaderOrigin {
  readonly file: string;
  readonly section: string;
}

/** Error code of a read past the end of the data (a window may be too small, or the section truncated). */
export const TRUNCATED = 'ERR_DWARF_TRUNCATED';

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes a byte range as UTF-8. Names in DWARF are almost always ASCII, where
 * building the string directly beats TextDecoder for short runs.
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return '';
  if (n <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  return textDecoder.decode(bytes.subarray(start, end));
}

/**
 * A bounds-checked cursor over a view of one DWARF section. `base` is the
 * section offset of `bytes[0]`, so `offset` always reports section offsets even
 * when the view holds only one unit read from the file.
 *
 * Errors are sticky: the first out-of-bounds read or malformed value records a
 * {@link DwarfError} naming file, section and offset, moves the cursor to the
 * end, and every later read yields zero. Callers check {@link Reader.error} at
 * the points where a half-read value would matter, and surface it as a typed
 * error; nothing deep inside a parse throws.
 */
export class Reader {
  /** Index into `bytes` of the next byte. */
  pos: number;
  /** Exclusive limit into `bytes`. */
  end: number;
  /** The first error met, if any. */
  error: DwarfError | undefined;
  private readonly dv: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly origin: ReaderOrigin,
    readonly littleEndian: boolean,
    readonly base = 0,
    start = 0,
    end = bytes.length,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = Math.min(end, bytes.length);
  }

  /** Section offset of the cursor. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes left before the limit. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** True at (or past) the limit, or after an error. */
  get atEnd(): boolean {
    return this.pos >= this.end || this.error !== undefined;
  }

  /** Moves to a section offset. An offset outside the view records an error. */
  seek(sectionOffset: number): void {
    const p = sectionOffset - this.base;
    if (p < 0 || p > this.end || !Number.isFinite(p)) this.fail(`offset 0x${sectionOffset.toString(16)} outside the data`, sectionOffset);
    else this.pos = p;
  }

  /** A reader over the next `length` bytes (a sub-view sharing the bytes); advances past them. */
  sub(length: number): Reader {
    const start = this.pos;
    const ok = this.need(length);
    const r = new Reader(this.bytes, this.origin, this.littleEndian, this.base, start, ok ? start + length : start);
    if (!ok) r.error = this.error;
    return r;
  }

  /** Records an error (the first one wins) and stops the reader. */
  fail(message: string, at = this.offset, code = 'ERR_DWARF_FORMAT'): void {
    if (!this.error) this.error = new DwarfError(code, message, { file: this.origin.file, section: this.origin.section, offset: at });
    this.pos = this.end;
  }

  /** Throws the recorded error, if any. Used at API boundaries. */
  check(): void {
    if (this.error) throw this.error;
  }

  private need(n: number): boolean {
    if (this.error) return false;
    if (n < 0 || this.pos + n > this.end) {
      this.fail(`truncated data: need ${n} bytes, ${Math.max(0, this.end - this.pos)} left`, this.offset, TRUNCATED);
      return false;
    }
    return true;
  }

  u8(): number {
    if (!this.need(1)) return 0;
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    if (!this.need(2)) return 0;
    const v = this.dv.getUint16(this.pos, this.littleEndian);
    this.pos += 2;
    return v;
  }

  u24(): number {
    if (!this.need(3)) return 0;
    const b = this.bytes;
    const p = this.pos;
    this.pos += 3;
    return this.littleEndian ? b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) : (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(): number {
    if (!this.need(4)) return 0;
    const v = this.dv.getUint32(this.pos, this.littleEndian);
    this.pos += 4;
    return v;
  }

  i8(): number {
    return (this.u8() << 24) >> 24;
  }
  i16(): number {
    return (this.u16() << 16) >> 16;
  }
  i32(): number {
    return this.u32() | 0;
  }

  u64(): bigint {
    if (!this.need(8)) return 0n;
    const v = this.dv.getBigUint64(this.pos, this.littleEndian);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    if (!this.need(8)) return 0n;
    const v = this.dv.getBigInt64(this.pos, this.littleEndian);
    this.pos += 8;
    return v;
  }

  /** A 64-bit value that must fit a JS number (an offset or a length); larger values are an error. */
  u64n(): number {
    const at = this.offset;
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.fail(`value 0x${v.toString(16)} too large`, at);
      return 0;
    }
    return Number(v);
  }

  /** An unsigned value of 1, 2, 4 or 8 bytes as a number (8-byte values must be below 2^53). */
  uN(size: number): number {
    switch (size) {
      case 1: return this.u8();
      case 2: return this.u16();
      case 4: return this.u32();
      case 8: return this.u64n();
      default:
        this.fail(`unsupported value size ${size}`);
        return 0;
    }
  }

  /** A section offset of the unit's offset size (4 or 8). */
  offsetOf(size: 4 | 8): number {
    return size === 4 ? this.u32() : this.u64n();
  }

  /** A target address of `size` bytes (1, 2, 4 or 8). */
  address(size: number): bigint {
    switch (size) {
      case 8: return this.u64();
      case 4: return BigInt(this.u32());
      case 2: return BigInt(this.u16());
      case 1: return BigInt(this.u8());
      default:
        this.fail(`unsupported address size ${size}`);
        return 0n;
    }
  }

  /** ULEB128 as a number; values at or above 2^53 are an error (they are never counts or offsets). */
  uleb(): number {
    const b = this.bytes;
    let result = 0;
    let mul = 1;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end || this.error) {
        this.fail('truncated LEB128', this.base + start, TRUNCATED);
        return 0;
      }
      const byte = b[this.pos++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
      mul *= 128;
    }
    if (result > Number.MAX_SAFE_INTEGER) {
      this.fail('LEB128 value too large', this.base + start);
      return 0;
    }
    return result;
  }

  /** SLEB128 as a number (values beyond ±2^53 lose precision; use {@link Reader.slebBig} for constants). */
  sleb(): number {
    const b = this.bytes;
    let result = 0;
    let mul = 1;
    let byte = 0;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end || this.error) {
        this.fail('truncated LEB128', this.base + start, TRUNCATED);
        return 0;
      }
      byte = b[this.pos++]!;
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if ((byte & 0x80) === 0) break;
    }
    if (byte & 0x40) result -= mul;
    return result;
  }

  /** ULEB128 of any size. */
  ulebBig(): bigint {
    const b = this.bytes;
    let result = 0n;
    let shift = 0n;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end || this.error) {
        this.fail('truncated LEB128', this.base + start, TRUNCATED);
        return 0n;
      }
      const byte = b[this.pos++]!;
      if (shift < 128n) result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if ((byte & 0x80) === 0) break;
    }
    return result;
  }

  /** SLEB128 of any size. */
  slebBig(): bigint {
    const b = this.bytes;
    let result = 0n;
    let shift = 0n;
    let byte = 0;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end || this.error) {
        this.fail('truncated LEB128', this.base + start, TRUNCATED);
        return 0n;
      }
      byte = b[this.pos++]!;
      if (shift < 128n) result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if ((byte & 0x80) === 0) break;
    }
    if (byte & 0x40 && shift < 128n) result -= 1n << shift;
    return result;
  }

  /** Skips a LEB128 of any size. */
  skipLeb(): void {
    const b = this.bytes;
    while (this.pos < this.end && b[this.pos++]! & 0x80);
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const start = this.pos;
    const nul = this.bytes.indexOf(0, start);
    if (nul < 0 || nul >= this.end) {
      this.fail('unterminated string', this.offset, TRUNCATED);
      return '';
    }
    this.pos = nul + 1;
    return decodeUtf8(this.bytes, start, nul);
  }

  /** The next `n` bytes as a view (not a copy). */
  bytesN(n: number): Uint8Array {
    if (!this.need(n)) return new Uint8Array(0);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    if (this.need(n)) this.pos += n;
  }

  /**
   * An initial length field: returns the unit length and its offset size
   * (0xffffffff escapes to 64-bit DWARF; 0xfffffff0-0xfffffffe are reserved).
   */
  initialLength(): { length: number; offsetSize: 4 | 8 } {
    const at = this.offset;
    const l = this.u32();
    if (l < 0xfffffff0) return { length: l, offsetSize: 4 };
    if (l === 0xffffffff) return { length: this.u64n(), offsetSize: 8 };
    this.fail(`reserved initial length 0x${l.toString(16)}`, at);
    return { length: 0, offsetSize: 4 };
  }
}

/** Reads a NUL-terminated string at a section offset of a string section. */
export function stringAt(bytes: Uint8Array, offset: number): string | undefined {
  if (offset < 0 || offset >= bytes.length) return undefined;
  const nul = bytes.indexOf(0, offset);
  if (nul < 0) return undefined;
  return decodeUtf8(bytes, offset, nul);
}
