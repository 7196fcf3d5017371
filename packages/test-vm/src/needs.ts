import fs from 'node:fs';
import type { Need } from '@stackdb/test-support';
import { findKernel } from './kernel.js';

/** True when `file` is an ELF executable without a program interpreter (statically linked). */
export function isStaticElf(file: string): boolean {
  let b: Buffer;
  try {
    b = fs.readFileSync(file);
  } catch {
    return false;
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > b.length) return false;
    if (b.readUInt32LE(off) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

/** The static busybox the initramfs is built around. */
export const busyboxPath = process.env.STACKDB_VM_BUSYBOX ?? '/bin/busybox';

/**
 * What a test needs to boot the test VM, for `systemTest` from @stackdb/test-support:
 * QEMU, a kernel with its debug vmlinux, a static busybox, and gcc with a static libc
 * for the guest programs.
 */
export const vmNeeds: readonly Need[] = [
  { command: 'qemu-system-x86_64', package: 'qemu-system-x86' },
  {
    what: 'a kernel with debuginfo (Debian packages linux-image-amd64 and linux-image-amd64-dbg)',
    check: () => (findKernel() ? undefined : 'no /boot/vmlinuz-* with a matching /usr/lib/debug/boot/vmlinux-*'),
  },
  { what: 'a static busybox (Debian package busybox-static)', check: () => (isStaticElf(busyboxPath) ? undefined : `${busyboxPath} is missing or not statically linked`) },
  { command: 'gcc', package: 'gcc' },
  { file: '/usr/lib/x86_64-linux-gnu/libc.a', package: 'libc6-dev', what: 'static glibc' },
];
