import path from 'node:path';
import { ElfFile, PF, PT } from '@stackdb/dwdebug';
import type { Addr, LoadedModule, Region } from './types.js';

const PAGE = 4096n;

/** The facts of an ELF image that placing it needs. */
export interface ImageInfo {
  readonly path: string;
  readonly type: number;
  readonly entry: bigint;
  readonly loads: readonly { readonly vaddr: bigint; readonly memsz: bigint; readonly offset: bigint; readonly flags: number }[];
  readonly interp?: string;
  readonly dynamic?: bigint;
}

/** Reads the placement facts of an ELF file (undefined when it cannot be read). */
export function readImage(target: string, local: string): ImageInfo | undefined {
  let elf: ElfFile;
  try {
    elf = ElfFile.open(local);
  } catch {
    return undefined;
  }
  try {
    const loads = elf.segments.filter((s) => s.type === PT.LOAD).map((s) => ({ vaddr: s.vaddr, memsz: s.memsz, offset: BigInt(s.offset), flags: s.flags }));
    const interpSeg = elf.segments.find((s) => s.type === PT.INTERP);
    const dyn = elf.segments.find((s) => s.type === PT.DYNAMIC);
    let interp: string | undefined;
    if (interpSeg) {
      const raw = elf.readRaw(interpSeg.offset, interpSeg.filesz);
      const z = raw.indexOf(0);
      interp = Buffer.from(raw.subarray(0, z < 0 ? raw.length : z)).toString('utf8');
    }
    return { path: target, type: elf.type, entry: elf.entry, loads, ...(interp ? { interp } : {}), ...(dyn ? { dynamic: dyn.vaddr } : {}) };
  } catch {
    return undefined;
  } finally {
    elf.close();
  }
}

/** The regions an image occupies once moved by `bias` (page-rounded, as the loader maps them). */
export function imageRegions(image: ImageInfo, bias: Addr): Region[] {
  return image.loads.map((l) => {
    const start = ((l.vaddr + bias) / PAGE) * PAGE;
    const end = ((l.vaddr + l.memsz + bias + PAGE - 1n) / PAGE) * PAGE;
    return {
      start,
      end,
      readable: (l.flags & PF.R) !== 0,
      writable: (l.flags & PF.W) !== 0,
      executable: (l.flags & PF.X) !== 0,
      offset: (l.offset / PAGE) * PAGE,
      path: image.path,
    };
  });
}

/** A loaded module for an image at `bias`. */
export function imageModule(image: ImageInfo, bias: Addr, main: boolean): LoadedModule {
  return {
    path: image.path,
    name: path.basename(image.path),
    bias,
    ranges: imageRegions(image, bias).map((r) => [r.start, r.end] as const),
    ...(main ? { main: true } : {}),
  };
}
