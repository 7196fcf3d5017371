import fs from 'node:fs';
import path from 'node:path';

/** An installed distribution kernel with its debuginfo. */
export interface KernelInfo {
  /** `uname -r` of the kernel, e.g. `6.1.0-56-amd64`. */
  readonly version: string;
  /** The bootable image, `/boot/vmlinuz-VERSION`. */
  readonly vmlinuz: string;
  /** The debug ELF image, `/usr/lib/debug/boot/vmlinux-VERSION`. */
  readonly vmlinux: string;
  /** The real System.map (the -dbg package's; the one in /boot is a stub), when present. */
  readonly systemMap?: string;
  /** `/lib/modules/VERSION`. */
  readonly modulesDir: string;
  /** `/usr/lib/debug/lib/modules/VERSION`, when present. */
  readonly debugModulesDir?: string;
}

/** Compares kernel versions the way `sort -V` does for the parts that matter (numbers numerically). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/([0-9]+)/);
  const pb = b.split(/([0-9]+)/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (i % 2 === 1 && !Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Finds the newest installed kernel (`/boot/vmlinuz-*`) that has a matching debug
 * vmlinux under `/usr/lib/debug/boot` (Debian's `linux-image-amd64` plus
 * `linux-image-amd64-dbg`). `root` prefixes every path (for tests of this function).
 */
export function findKernel(root = '/'): KernelInfo | undefined {
  const boot = path.join(root, 'boot');
  let names: string[];
  try {
    names = fs.readdirSync(boot);
  } catch {
    return undefined;
  }
  const versions = names.filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice('vmlinuz-'.length)).sort(compareVersions).reverse();
  for (const version of versions) {
    const vmlinux = path.join(root, 'usr/lib/debug/boot', `vmlinux-${version}`);
    if (!fs.existsSync(vmlinux)) continue;
    const systemMap = path.join(root, 'usr/lib/debug/boot', `System.map-${version}`);
    const debugModulesDir = path.join(root, 'usr/lib/debug/lib/modules', version);
    return {
      version,
      vmlinuz: path.join(boot, `vmlinuz-${version}`),
      vmlinux,
      modulesDir: path.join(root, 'lib/modules', version),
      ...(fs.existsSync(systemMap) ? { systemMap } : {}),
      ...(fs.existsSync(debugModulesDir) ? { debugModulesDir } : {}),
    };
  }
  return undefined;
}
