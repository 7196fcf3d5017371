import fs from 'node:fs';
import path from 'node:path';
import { getLogger } from '@stackdb/core';
import { readFully } from '../core-file.js';
import { readImageInfo, type ImageInfo } from '../elf-image.js';
import { CoreFileError } from '../errors.js';
import type { VmcoreInfo } from '../vmcoreinfo.js';

const log = getLogger('T_CORE');

/** Where x86-64 kernels map themselves: the upper half of the address space. */
const KERNEL_HALF = 0xffff800000000000n;

/** The kernel of a VM dump: its vmlinux here, and where it ran. */
export interface KernelImage {
  /** The vmlinux (with debuginfo) used for the kernel. */
  readonly path: string;
  /** Its GNU build-id. */
  readonly buildId?: string;
  /** KASLR offset: run-time minus link-time addresses (VMCOREINFO's KERNELOFFSET). */
  readonly bias: bigint;
  /** Run-time range of its text and data, [start, end). */
  readonly range: readonly [bigint, bigint];
}

/** Where distributions put a release's vmlinux, debuginfo first. */
function candidates(release: string, root: string): string[] {
  return [
    `/usr/lib/debug/boot/vmlinux-${release}`,
    `/usr/lib/debug/lib/modules/${release}/vmlinux`,
    `/boot/vmlinux-${release}`,
    `/lib/modules/${release}/build/vmlinux`,
  ].map((p) => (root ? path.join(root, p) : p));
}

async function imageOf(file: string): Promise<ImageInfo | undefined> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    return await readImageInfo(async (offset, length) => {
      const b = new Uint8Array(length);
      return (await readFully(handle, Number(offset), b)) === length ? b : undefined;
    });
  } finally {
    await handle.close();
  }
}

/**
 * Finds the dump's kernel: `--core-exe` when given (kept even when its build-id
 * contradicts VMCOREINFO's, with a problem saying so), else the vmlinux of
 * VMCOREINFO's OSRELEASE in the usual places under the `-R` root whose build-id
 * matches. Its bias is VMCOREINFO's KERNELOFFSET.
 */
export async function findKernelImage(opts: { exe?: string; rootPrefix?: string; info?: VmcoreInfo; corePath: string }): Promise<{ image?: KernelImage; problems: CoreFileError[] }> {
  const problems: CoreFileError[] = [];
  const info = opts.info;
  const want = info?.buildId;
  let file: string | undefined;
  let image: ImageInfo | undefined;
  if (opts.exe !== undefined) {
    image = await imageOf(opts.exe);
    if (!image) throw new CoreFileError('ERR_CORE_FILE', opts.exe, '--core-exe: not a readable x86-64 ELF file');
    file = opts.exe;
    if (want && image.buildId && image.buildId !== want) {
      const p = new CoreFileError('ERR_CORE_FILE', opts.exe, `has build-id ${image.buildId} but the dumped kernel's VMCOREINFO says ${want}: symbols will not match memory`);
      log.warn('%s', p.message);
      problems.push(p);
    }
  } else if (info?.osRelease) {
    for (const c of candidates(info.osRelease, opts.rootPrefix ?? '')) {
      const im = await imageOf(c);
      if (!im) continue;
      if (want && im.buildId && im.buildId !== want) {
        log.debug(1, 'skipping %s: build-id %s, the dump wants %s', c, im.buildId, want);
        continue;
      }
      file = c;
      image = im;
      break;
    }
  }
  if (!file || !image) return { problems };
  if (!info) problems.push(new CoreFileError('ERR_CORE_NOTE', opts.corePath, 'has no VMCOREINFO: the kernel is assumed not to be relocated (KASLR offset 0)'));
  const bias = info?.kernelOffset ?? 0n;
  const loads = image.loads.filter((l) => l.vaddr >= KERNEL_HALF && l.memsz > 0n);
  const start = loads.reduce((m, l) => (l.vaddr < m ? l.vaddr : m), loads[0]?.vaddr ?? 0n);
  const end = loads.reduce((m, l) => (l.vaddr + l.memsz > m ? l.vaddr + l.memsz : m), 0n);
  return { image: { path: file, ...(image.buildId ? { buildId: image.buildId } : {}), bias, range: [start + bias, end + bias] }, problems };
}
