import path from 'node:path';
import { ElfFile, PT } from '@stackdb/dwdebug';
import { getLogger } from '../log/logger.js';
import type { LoadedModule, Region } from './types.js';

const log = getLogger('T_REGION');

/**
 * Groups file-backed regions into loaded modules and computes each one's load
 * bias from its ELF program headers: the region mapping file offset `off` at
 * `start` belongs to the PT_LOAD covering `off`, whose link-time address for
 * `off` is `vaddr - offset + off`; the bias is the difference. ET_EXEC files
 * come out with bias 0.
 *
 * @param openPath maps a path as the target names it to one readable here
 *   (e.g. adding the `-R` root prefix, or `/proc/PID/root`).
 */
export function modulesFromRegions(regions: readonly Region[], opts: { mainPath?: string; openPath?: (p: string) => string } = {}): LoadedModule[] {
  const byPath = new Map<string, Region[]>();
  for (const r of regions) {
    if (!r.path || !r.path.startsWith('/') || r.path.startsWith('/dev/') || r.path.startsWith('/memfd:')) continue;
    const list = byPath.get(r.path) ?? [];
    list.push(r);
    byPath.set(r.path, list);
  }
  const out: LoadedModule[] = [];
  for (const [p, rs] of byPath) {
    rs.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const bias = computeBias(opts.openPath ? opts.openPath(p) : p, rs);
    if (bias === undefined) continue;
    const m: LoadedModule = {
      path: p,
      name: path.basename(p),
      bias,
      ranges: rs.map((r) => [r.start, r.end] as const),
      ...(opts.mainPath !== undefined && p === opts.mainPath ? { main: true } : {}),
    };
    out.push(m);
  }
  return out;
}

function computeBias(file: string, regions: readonly Region[]): bigint | undefined {
  let elf: ElfFile;
  try {
    elf = ElfFile.open(file);
  } catch (err) {
    log.debug(3, 'not an ELF module: %s (%s)', file, (err as Error).message);
    return undefined;
  }
  try {
    for (const r of regions) {
      const off = r.offset;
      const seg = elf.segments.find((s) => s.type === PT.LOAD && BigInt(s.offset) - (BigInt(s.offset) % 4096n) <= off && off < BigInt(s.offset + s.filesz));
      if (!seg) continue;
      return r.start - (seg.vaddr - BigInt(seg.offset) + off);
    }
    return undefined;
  } finally {
    elf.close();
  }
}
