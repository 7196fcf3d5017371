/*
 * A writer for the "newc" cpio format the Linux kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): each entry is a
 * 110-byte ASCII header ("070701" and thirteen 8-digit hex fields), the NUL-ended
 * name padded to 4 bytes, then the data padded to 4 bytes; "TRAILER!!!" ends the
 * archive. Timestamps, owners and inode numbers are fixed so equal inputs give
 * equal bytes, which lets the harness cache initramfs images by content hash.
 */

/** One archive member. Directories must come before their contents. */
export type CpioEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly type: 'file'; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string }
  | { readonly type: 'chardev'; readonly path: string; readonly major: number; readonly minor: number; readonly mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const enc = new TextEncoder();

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Serialises entries (and the trailer) into one newc archive. */
export function writeCpio(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let ino = 1;
  const push = (name: string, mode: number, data: Uint8Array, rdev: [number, number] = [0, 0], nlink = 1) => {
    const nameBytes = enc.encode(name + '\0');
    const fields = [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
    parts.push(enc.encode('070701' + fields.map(hex8).join('')));
    parts.push(nameBytes, new Uint8Array(pad4(110 + nameBytes.length)));
    parts.push(data, new Uint8Array(pad4(data.length)));
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    switch (e.type) {
      case 'dir': push(name, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(0), [0, 0], 2); break;
      case 'file': push(name, S_IFREG | (e.mode ?? 0o644), e.data); break;
      case 'symlink': push(name, S_IFLNK | 0o777, enc.encode(e.target)); break;
      case 'chardev': push(name, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(0), [e.major, e.minor]); break;
    }
  }
  ino = 0;
  push('TRAILER!!!', 0, new Uint8Array(0), [0, 0], 1);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
