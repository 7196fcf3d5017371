/*
 * The GDB remote serial protocol's framing, as a pure codec (no I/O, no timers).
 *
 * On the wire a packet is `$data#cc`, where `cc` is the two-digit hex sum of the
 * data bytes modulo 256; a notification is `%data#cc` and is never acknowledged.
 * Between packets the peers exchange one-byte acknowledgments (`+` good, `-`
 * resend) until no-ack mode is negotiated, and the client may send a raw `\x03`
 * to interrupt a running target. Anything else between packets is junk.
 *
 * Inside replies, `X*n` is run-length encoding: the character before `*` is
 * repeated `n - 29` more times (`n` is printable, so counts run from 3 up; the
 * encoder never makes `#` or `$` a count). The checksum covers the encoded
 * bytes; the decoder expands runs, as GDB does, before anyone looks at the data.
 *
 * Binary payloads (`X` writes, `qXfer` and `vFile:pread` replies) escape the
 * four bytes `# $ } *` as `}` followed by the byte XOR 0x20. Escaping is not a
 * framing matter (only the code that knows a payload is binary can undo it), so
 * it lives in separate functions here.
 *
 * The decoder is a byte-at-a-time state machine that survives any input split
 * at any point: it never throws on input, it reports what it could not make
 * sense of as frames of their own, and it resynchronises on the next `$` or `%`.
 */

const DOLLAR = 0x24;
const PERCENT = 0x25;
const HASH = 0x23;
const STAR = 0x2a;
const BRACE = 0x7d;
const PLUS = 0x2b;
const MINUS = 0x2d;
const CTRL_C = 0x03;

/** One thing read from the wire. */
export type RspFrame =
  /** A packet whose checksum matched; `payload` has run-length encoding expanded. */
  | { readonly type: 'packet'; readonly payload: Uint8Array }
  /** A notification (`%name:data#cc`) whose checksum matched. */
  | { readonly type: 'notification'; readonly payload: Uint8Array }
  | { readonly type: 'ack' }
  | { readonly type: 'nack' }
  | { readonly type: 'interrupt' }
  /** A complete packet or notification whose checksum did not match. */
  | { readonly type: 'bad-checksum'; readonly notification: boolean; readonly expected: number; readonly actual: number }
  /** A frame that could not be decoded (bad checksum digits, bad run length, too long, cut by a new `$`). */
  | { readonly type: 'malformed'; readonly reason: string }
  /** Bytes outside any frame. */
  | { readonly type: 'junk'; readonly bytes: Uint8Array };

/** Options of a {@link RspDecoder}. */
export interface DecoderOptions {
  /** Longest packet accepted, in bytes before and after expansion (default 4 MiB). */
  readonly maxPacket?: number;
}

const enum State {
  Outside,
  Data,
  Check1,
  Check2,
}

/** A growable byte buffer. */
class ByteBuilder {
  private buf = new Uint8Array(256);
  length = 0;

  push(b: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
  }

  /** The last byte pushed (the builder must not be empty). */
  last(): number {
    return this.buf[this.length - 1]!;
  }

  /** A copy of the contents; the builder is emptied. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    if (this.buf.length > 65536) this.buf = new Uint8Array(256);
    return out;
  }

  clear(): void {
    this.length = 0;
  }
}

/**
 * Incremental decoder of the byte stream a stub (or a client) sends. Feed it
 * chunks as they arrive; it returns the frames completed by each chunk.
 */
export class RspDecoder {
  private state = State.Outside;
  private notification = false;
  private sum = 0;
  private check = 0;
  private readonly data = new ByteBuilder();
  private readonly junk = new ByteBuilder();
  private readonly maxPacket: number;

  constructor(opts: DecoderOptions = {}) {
    this.maxPacket = opts.maxPacket ?? 4 * 1024 * 1024;
  }

  /** True when a frame has started but not ended. */
  get midFrame(): boolean {
    return this.state !== State.Outside;
  }

  /** Decodes one chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): RspFrame[] {
    const out: RspFrame[] = [];
    for (let i = 0; i < chunk.length; i++) this.byte(chunk[i]!, out);
    this.flushJunk(out);
    return out;
  }

  /** Forgets a partial frame (after a reconnect or a timeout). */
  reset(): void {
    this.state = State.Outside;
    this.data.clear();
    this.junk.clear();
  }

  private byte(b: number, out: RspFrame[]): void {
    switch (this.state) {
      case State.Outside:
        if (b === DOLLAR || b === PERCENT) {
          this.flushJunk(out);
          this.begin(b === PERCENT);
        } else if (b === PLUS || b === MINUS || b === CTRL_C) {
          this.flushJunk(out);
          out.push({ type: b === PLUS ? 'ack' : b === MINUS ? 'nack' : 'interrupt' });
        } else {
          this.junk.push(b);
        }
        return;
      case State.Data:
        if (b === HASH) {
          this.state = State.Check1;
        } else if (b === DOLLAR) {
          // A new packet started before this one ended: GDB drops the old one too.
          out.push({ type: 'malformed', reason: 'a packet was cut short by the start of another' });
          this.begin(false);
        } else if (this.data.length >= this.maxPacket) {
          out.push({ type: 'malformed', reason: `a packet is longer than ${this.maxPacket} bytes` });
          this.data.clear();
          this.state = State.Outside;
        } else {
          this.data.push(b);
          this.sum = (this.sum + b) & 0xff;
        }
        return;
      case State.Check1: {
        const d = hexValue(b);
        if (d < 0) return this.badDigit(b, out);
        this.check = d << 4;
        this.state = State.Check2;
        return;
      }
      case State.Check2: {
        const d = hexValue(b);
        if (d < 0) return this.badDigit(b, out);
        this.check |= d;
        this.state = State.Outside;
        this.finish(out);
        return;
      }
    }
  }

  private begin(notification: boolean): void {
    this.state = State.Data;
    this.notification = notification;
    this.sum = 0;
    this.data.clear();
  }

  private badDigit(b: number, out: RspFrame[]): void {
    out.push({ type: 'malformed', reason: 'a packet checksum is not two hex digits' });
    this.data.clear();
    this.state = State.Outside;
    // The offending byte may itself start the next frame.
    if (b === DOLLAR || b === PERCENT || b === PLUS || b === MINUS || b === CTRL_C) this.byte(b, out);
  }

  private finish(out: RspFrame[]): void {
    const raw = this.data.take();
    if (this.check !== this.sum) {
      out.push({ type: 'bad-checksum', notification: this.notification, expected: this.check, actual: this.sum });
      return;
    }
    const expanded = expandRuns(raw, this.maxPacket);
    if (typeof expanded === 'string') {
      out.push({ type: 'malformed', reason: expanded });
      return;
    }
    out.push({ type: this.notification ? 'notification' : 'packet', payload: expanded });
  }

  private flushJunk(out: RspFrame[]): void {
    if (this.junk.length) out.push({ type: 'junk', bytes: this.junk.take() });
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Expands run-length encoding; returns the reason when the encoding is broken.
 * Like GDB, every raw `*` is a run (binary payloads escape `*`, so a raw one is
 * never data), and the repeated character is the raw byte before it.
 */
export function expandRuns(raw: Uint8Array, max = Infinity): Uint8Array | string {
  if (!raw.includes(STAR)) return raw;
  const out = new ByteBuilder();
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === STAR) {
      if (out.length === 0) return 'a run length has no character to repeat';
      if (i + 1 >= raw.length) return 'a run length is missing its count';
      const count = raw[++i]! - 29;
      if (count < 1 || count > 126 - 29) return `bad run length count 0x${raw[i]!.toString(16)}`;
      const prev = out.last();
      if (out.length + count > max) return `a packet is longer than ${max} bytes`;
      for (let k = 0; k < count; k++) out.push(prev);
    } else {
      out.push(b);
    }
  }
  return out.take();
}

/** The modulo-256 sum of the bytes. */
export function checksum(data: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s = (s + data[i]!) & 0xff;
  return s;
}

/**
 * Frames a packet: `$payload#cc`. The payload must already be escaped where it
 * carries binary data; a raw `$` or `#` in it is a programming error.
 */
export function encodePacket(payload: Uint8Array | string): Uint8Array {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  if (data.includes(DOLLAR) || data.includes(HASH)) throw new RangeError('an RSP payload must not contain raw $ or # (escape binary data first)');
  const out = new Uint8Array(data.length + 4);
  out[0] = DOLLAR;
  out.set(data, 1);
  const cs = checksum(data);
  out[data.length + 1] = HASH;
  out[data.length + 2] = HEX_DIGITS.charCodeAt(cs >> 4);
  out[data.length + 3] = HEX_DIGITS.charCodeAt(cs & 15);
  return out;
}

const HEX_DIGITS = '0123456789abcdef';

/** True for the bytes binary payloads must escape. */
function mustEscape(b: number): boolean {
  return b === HASH || b === DOLLAR || b === BRACE || b === STAR;
}

/** Escapes binary data for a payload (`}` then byte XOR 0x20 for `# $ } *`). */
export function escapeBinary(data: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < data.length; i++) if (mustEscape(data[i]!)) extra++;
  if (!extra) return data;
  const out = new Uint8Array(data.length + extra);
  let j = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (mustEscape(b)) {
      out[j++] = BRACE;
      out[j++] = b ^ 0x20;
    } else {
      out[j++] = b;
    }
  }
  return out;
}

/** Length of `data` once escaped. */
export function escapedLength(data: Uint8Array): number {
  let n = data.length;
  for (let i = 0; i < data.length; i++) if (mustEscape(data[i]!)) n++;
  return n;
}

/** Undoes {@link escapeBinary}; returns undefined when the data ends in a lone `}`. */
export function unescapeBinary(data: Uint8Array): Uint8Array | undefined {
  const first = data.indexOf(BRACE);
  if (first < 0) return data;
  const out = new Uint8Array(data.length);
  out.set(data.subarray(0, first));
  let j = first;
  for (let i = first; i < data.length; i++) {
    const b = data[i]!;
    if (b === BRACE) {
      if (++i >= data.length) return undefined;
      out[j++] = data[i]! ^ 0x20;
    } else {
      out[j++] = b;
    }
  }
  return out.subarray(0, j);
}

/** The interrupt byte a client sends to stop a running target. */
export const INTERRUPT = Uint8Array.of(CTRL_C);
/** The acknowledgment bytes. */
export const ACK = Uint8Array.of(PLUS);
export const NACK = Uint8Array.of(MINUS);
