import type { Addr } from '@stackdb/core';
import { QEMU_ERROR, QemuHelperError } from './errors.js';

/*
 * Where each guest physical address lives in QEMU's RAM file.
 *
 * The RAM file is one RAM block ("pc.ram"): its byte at offset N is the block's
 * byte N. The machine maps pieces of the block into the guest physical address
 * space. On the x86 PC machines, RAM that does not fit below the PCI hole is
 * moved above 4 GiB (QEMU 7.2, measured with `info mtree -f`):
 *   pc (i440fx): all below when RAM < 3.5 GiB, else 3 GiB below and the rest at 4 GiB
 *                (machine types before pc-i440fx-1.7 split at 3.5 GiB instead);
 *   q35:         all below when RAM < 2.75 GiB, else 2 GiB below and the rest at 4 GiB
 *                (pc-q35 before 1.7: split at 2.75 GiB);
 *   both:        the machine property max-ram-below-4g lowers the split further.
 * The first MiB has holes of its own (VGA window, option ROMs, BIOS shadow).
 *
 * The authoritative source is QEMU itself: `info mtree -f` prints the flat view
 * of the "memory" address space, each line a guest range backed by a region at
 * an offset (`0000000100000000-000000011fffffff (prio 0, ram): pc.ram @00000000c0000000`).
 * The helper builds its layout from that; {@link pcRamLayout} computes the same
 * split from the rules above for when the flat view is not available.
 */

/** One guest-physical range backed by the RAM file. */
export interface RamSegment {
  /** First guest physical address. */
  readonly start: Addr;
  /** Exclusive end. */
  readonly end: Addr;
  /** File offset of `start`. */
  readonly offset: bigint;
  /** False for read-only (ROM-mode) ranges: reads come from the file, writes do not go there. */
  readonly writable: boolean;
}

/** Where one address is: its file offset, how many bytes follow in the same segment, whether writable. */
export interface RamLocation {
  readonly offset: bigint;
  readonly contiguous: bigint;
  readonly writable: boolean;
}

/** The guest-physical → file-offset map of one RAM block. */
export class RamLayout {
  readonly segments: readonly RamSegment[];

  constructor(segments: readonly RamSegment[]) {
    this.segments = [...segments].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    for (let i = 1; i < this.segments.length; i++) {
      if (this.segments[i]!.start < this.segments[i - 1]!.end) throw new QemuHelperError(QEMU_ERROR.LAYOUT, `RAM segments overlap at 0x${this.segments[i]!.start.toString(16)}`);
    }
  }

  /** Bytes of the file the layout reaches (the RAM block must be at least this big). */
  get fileBytes(): bigint {
    return this.segments.reduce((m, s) => (s.offset + (s.end - s.start) > m ? s.offset + (s.end - s.start) : m), 0n);
  }

  /** Where `address` is in the file, or undefined when it is not RAM of this block. */
  locate(address: Addr): RamLocation | undefined {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segments[mid]!;
      if (address < s.start) hi = mid - 1;
      else if (address >= s.end) lo = mid + 1;
      else return { offset: s.offset + (address - s.start), contiguous: s.end - address, writable: s.writable };
    }
    return undefined;
  }
}

/** One line of a flat view. */
export interface FlatRange {
  readonly start: Addr;
  readonly end: Addr;
  /** `ram`, `rom`, `romd`, `i/o`… */
  readonly kind: string;
  readonly region: string;
  /** Offset into the region (`@…`), 0 when absent. */
  readonly offset: bigint;
}

const FLAT_LINE = /^\s*([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, ([a-z/]+)\): (\S+)(?: @([0-9a-f]+))?/;

/** Parses the flat view of the `memory` address space out of HMP `info mtree -f`. */
export function parseFlatView(text: string): FlatRange[] {
  const views = text.replaceAll('\r', '').split(/^FlatView #\d+$/m);
  const memory = views.find((v) => /^ AS "memory"/m.test(v));
  if (!memory) throw new QemuHelperError(QEMU_ERROR.LAYOUT, 'info mtree -f shows no flat view for the "memory" address space');
  const out: FlatRange[] = [];
  for (const line of memory.split('\n')) {
    const m = FLAT_LINE.exec(line);
    if (!m) continue;
    out.push({ start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]) + 1n, kind: m[3]!, region: m[4]!, offset: m[5] ? BigInt('0x' + m[5]) : 0n });
  }
  return out;
}

/**
 * The layout of the RAM block that backs guest physical address 0 (the machine's
 * main RAM: `pc.ram`, or the memory backend's id), from a flat view.
 */
export function layoutFromFlatView(ranges: readonly FlatRange[]): { block: string; layout: RamLayout } {
  const first = ranges.find((r) => r.start === 0n && (r.kind === 'ram' || r.kind === 'rom'));
  if (!first) throw new QemuHelperError(QEMU_ERROR.LAYOUT, 'no RAM at guest physical address 0 in the flat view');
  const block = first.region;
  const segments = ranges
    .filter((r) => r.region === block && (r.kind === 'ram' || r.kind === 'rom'))
    .map((r) => ({ start: r.start, end: r.end, offset: r.offset, writable: r.kind === 'ram' }));
  return { block, layout: new RamLayout(segments) };
}

/**
 * Every guest-physical range backed by memory of any block (RAM, ROMs, video
 * RAM), as an identity layout: what lies outside is device I/O or nothing, where
 * a read has side effects or no meaning.
 */
export function memoryFromFlatView(ranges: readonly FlatRange[]): RamLayout {
  return new RamLayout(ranges.filter((r) => r.kind === 'ram' || r.kind === 'rom' || r.kind === 'romd').map((r) => ({ start: r.start, end: r.end, offset: r.start, writable: r.kind === 'ram' })));
}

/** How a PC machine splits its RAM around the 4 GiB hole. */
export interface PcMachine {
  /** `pc` (i440fx) or `q35`. */
  readonly chipset: 'pc' | 'q35';
  readonly ramBytes: bigint;
  /** The max-ram-below-4g machine property (default: no limit). */
  readonly maxRamBelow4g?: bigint;
  /** False for machine types before 1.7 (default true). */
  readonly gigabyteAlign?: boolean;
}

const GiB = 1n << 30n;
const FOUR_GIB = 4n * GiB;

/** Below- and above-4 GiB RAM sizes of a PC machine (QEMU 7.2 pc_init1 / pc_q35_init). */
export function pcRamSplit(m: PcMachine): { below4g: bigint; above4g: bigint } {
  const align = m.gigabyteAlign ?? true;
  let lowmem: bigint;
  if (m.chipset === 'pc') lowmem = m.ramBytes >= 0xe000_0000n ? (align ? 0xc000_0000n : 0xe000_0000n) : 0xe000_0000n;
  else lowmem = m.ramBytes >= 0xb000_0000n ? (align ? 0x8000_0000n : 0xb000_0000n) : 0xb000_0000n;
  if (m.maxRamBelow4g !== undefined && m.maxRamBelow4g > 0n && lowmem > m.maxRamBelow4g) lowmem = m.maxRamBelow4g;
  return m.ramBytes >= lowmem ? { below4g: lowmem, above4g: m.ramBytes - lowmem } : { below4g: m.ramBytes, above4g: 0n };
}

/**
 * The layout computed from the machine's rules: RAM below 640 KiB, from 1 MiB to
 * the split, and above 4 GiB. The first MiB's upper part (VGA window, ROMs, BIOS
 * shadow) is left out: what the CPU sees there depends on the chipset's state.
 */
export function pcRamLayout(m: PcMachine): RamLayout {
  const { below4g, above4g } = pcRamSplit(m);
  const segments: RamSegment[] = [{ start: 0n, end: below4g < 0xa0000n ? below4g : 0xa0000n, offset: 0n, writable: true }];
  if (below4g > 0x10_0000n) segments.push({ start: 0x10_0000n, end: below4g, offset: 0x10_0000n, writable: true });
  if (above4g > 0n) segments.push({ start: FOUR_GIB, end: FOUR_GIB + above4g, offset: below4g, writable: true });
  return new RamLayout(segments);
}

/**
 * The chipset and gigabyte alignment of a QEMU machine type name
 * (`pc-i440fx-7.2-machine`, `pc-q35-2.0`, `pc`, `q35`); undefined for non-PC machines.
 */
export function pcMachineType(type: string): { chipset: 'pc' | 'q35'; gigabyteAlign: boolean } | undefined {
  const name = type.replace(/-machine$/, '');
  const chipset = /^(pc-q35|q35)/.test(name) ? 'q35' : /^(pc-i440fx|pc$|pc-\d|pc-0|pc-1)/.test(name) ? 'pc' : undefined;
  if (!chipset) return undefined;
  const v = /-(\d+)\.(\d+)$/.exec(name);
  const gigabyteAlign = !v || Number(v[1]) > 1 || (Number(v[1]) === 1 && Number(v[2]) >= 7);
  return { chipset, gigabyteAlign };
}
