import fs from 'node:fs';
import path from 'node:path';

/*
 * The file format of the on-disk caches: an 8-byte magic, a u32 length and a
 * JSON header, then typed arrays, each starting on an 8-byte boundary. The
 * header records the arrays' byte lengths; readers take the arrays back in the
 * order they were written.
 */

export type BlobArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array | BigUint64Array;

type Json = (key: string, value: unknown) => unknown;

/** Writes a blob file atomically (a temporary file renamed into place). Throws on I/O errors. */
export function writeBlobFile(file: string, magic: string, header: object, arrays: readonly BlobArray[], replacer?: Json): void {
  const json = Buffer.from(JSON.stringify({ ...header, lengths: arrays.map((a) => a.byteLength) }, replacer));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let open = true;
  try {
    const pre = Buffer.alloc(12);
    pre.write(magic, 0, 'latin1');
    pre.writeUInt32LE(json.length, 8);
    fs.writeSync(fd, pre);
    fs.writeSync(fd, json);
    const pad = Buffer.alloc(8);
    let pos = 12 + json.length;
    const align = () => {
      const n = (8 - (pos % 8)) % 8;
      if (n) fs.writeSync(fd, pad, 0, n);
      pos += n;
    };
    align();
    for (const a of arrays) {
      fs.writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      pos += a.byteLength;
      align();
    }
    open = false;
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (err) {
    if (open) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** A blob file read back: its header, and its arrays taken in order. */
export class BlobReader<H> {
  private pos: number;
  private next = 0;

  constructor(private readonly buf: Buffer, readonly header: H & { readonly lengths: readonly number[] }, start: number) {
    this.pos = start + ((8 - (start % 8)) % 8);
  }

  /** The next array, copied into a fresh aligned buffer (the file buffer's offsets need not suit every element size). */
  take<T extends BlobArray>(make: (b: ArrayBuffer) => T): T {
    const len = this.header.lengths[this.next++];
    if (len === undefined || this.pos + len > this.buf.length) throw new Error('short cache file');
    const copy = new ArrayBuffer(len);
    new Uint8Array(copy).set(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len + ((8 - (len % 8)) % 8);
    return make(copy);
  }
}

/** Reads a blob file; undefined when it is missing or not of this magic. Throws on a malformed header. */
export function readBlobFile<H>(file: string, magic: string, reviver?: Json): BlobReader<H> | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== magic) return undefined;
  const hlen = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + hlen), reviver) as H & { lengths: number[] };
  if (!Array.isArray(header.lengths)) return undefined;
  return new BlobReader(buf, header, 12 + hlen);
}
