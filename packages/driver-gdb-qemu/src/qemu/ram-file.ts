import fs from 'node:fs';
import { QEMU_ERROR, QemuHelperError } from './errors.js';

/*
 * QEMU's guest-RAM file, read and written with positioned reads and writes.
 *
 * They are synchronous on purpose. The file is RAM QEMU keeps mapped shared (on
 * tmpfs or hugetlbfs, or pages of any file that QEMU's own mapping keeps in the
 * page cache), so a pread is a memory copy that never waits for a device: 1.6
 * million 4 KiB reads a second here, where a trip through libuv's thread pool
 * costs ≈40 µs and caps 4 KiB reads at ≈90 MiB/s. Mapping the file would need a
 * native addon for no further gain.
 */
export class RamFile {
  readonly size: bigint;
  private fd: number | undefined;

  private constructor(readonly path: string, fd: number, readonly writable: boolean) {
    this.fd = fd;
    this.size = BigInt(fs.fstatSync(fd).size);
  }

  /** Opens the file read-write when allowed, else read-only. Throws `ERR_QEMU_RAM_FILE`. */
  static open(path: string, opts: { writable?: boolean } = {}): RamFile {
    const wantWrite = opts.writable ?? true;
    try {
      return new RamFile(path, fs.openSync(path, wantWrite ? 'r+' : 'r'), wantWrite);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (wantWrite && (e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'EPERM')) return RamFile.open(path, { writable: false });
      throw new QemuHelperError(QEMU_ERROR.RAM_FILE, `cannot open the guest RAM file ${path}: ${e.message}`, { cause: err });
    }
  }

  /** Reads at `offset`; returns the bytes read (fewer only at the end of the file). */
  read(offset: bigint, buf: Uint8Array): number {
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(this.handle(), buf, done, buf.length - done, offset + BigInt(done));
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  /** Writes at `offset`; returns the bytes written. Throws `ERR_QEMU_RAM_FILE` when opened read-only. */
  write(offset: bigint, data: Uint8Array): number {
    if (!this.writable) throw new QemuHelperError(QEMU_ERROR.RAM_FILE, `the guest RAM file ${this.path} is open read-only`);
    let done = 0;
    while (done < data.length) {
      const end = offset + BigInt(done);
      if (end >= this.size) break;
      const room = Number(this.size - end < BigInt(data.length - done) ? this.size - end : BigInt(data.length - done));
      done += fs.writeSync(this.handle(), data, done, room, Number(end));
    }
    return done;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private handle(): number {
    if (this.fd === undefined) throw new QemuHelperError(QEMU_ERROR.RAM_FILE, `the guest RAM file ${this.path} is closed`);
    return this.fd;
  }
}
