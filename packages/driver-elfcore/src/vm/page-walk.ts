/*
 * x86-64 page-table walks over a dump's physical memory.
 *
 * NOTE: core is to own the x86-64 walker that the QEMU helper, the Xen driver
 * and this driver share (packages/core/src/arch/paging.ts). It had not landed
 * when this driver needed one, so this module is the driver's own, kept behind
 * the two functions below so it can be swapped for core's in one place.
 *
 * Long-mode translation: CR3 bits 51:12 locate the top table (PML5 with LA57,
 * else PML4). Each level takes 9 bits of the virtual address (shifts 48, 39,
 * 30, 21, 12) to index 512 8-byte entries. An entry is present when bit 0 is
 * set; bit 7 (PS) in a PDPT or PD entry maps a 1 GiB or 2 MiB page directly.
 * Entry bits 51:12 hold the next table or the page frame (the low bits of a
 * large page's frame field are its PAT bit and reserved, masked off by the
 * page size). Writable (bit 1) and user (bit 2) must be set at every level for
 * the page to be; NX (bit 63) at any level makes it non-executable. Virtual
 * addresses must be canonical: the bits above the top index copy its top bit.
 */

/** Reads physical memory into `buf`; returns the bytes read. */
export type PhysRead = (address: bigint, buf: Uint8Array) => Promise<number>;

/** Paging depth: 4 (48-bit addresses) or 5 (LA57, 57-bit). */
export type PagingLevels = 4 | 5;

/** A successful translation. */
export interface PageMapping {
  /** Physical address of the byte asked for. */
  readonly physical: bigint;
  /** Size of the page it lies in (4 KiB, 2 MiB or 1 GiB). */
  readonly pageSize: bigint;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly user: boolean;
}

/** Why a translation failed. */
export interface PageFault {
  readonly fault: 'non-canonical' | 'not-present' | 'unreadable-table';
  /** Table level where the walk stopped: 5 (PML5), 4 (PML4), 3 (PDPT), 2 (PD), 1 (PT). */
  readonly level: number;
  /** Physical address of the entry (or table) that stopped the walk. */
  readonly entryAddress?: bigint;
  readonly entry?: bigint;
}

const ADDR_MASK = 0x000ffffffffff000n;
const P = 1n;
const RW = 2n;
const US = 4n;
const PS = 0x80n;
const NX = 1n << 63n;

/** Names of the table levels, for messages. */
export const LEVEL_NAMES: Readonly<Record<number, string>> = { 5: 'PML5', 4: 'PML4', 3: 'PDPT', 2: 'PD', 1: 'PT' };

const shiftOf = (level: number) => 12n + 9n * BigInt(level - 1);

/** The page-table root (table address) in a CR3 value: drops PCID and flag bits. */
export function tableOfCr3(cr3: bigint): bigint {
  return cr3 & ADDR_MASK;
}

function canonical(vaddr: bigint, levels: PagingLevels): boolean {
  const top = levels === 5 ? 56n : 47n;
  const high = vaddr >> top;
  return high === 0n || high === (1n << (64n - top)) - 1n;
}

/** Translates one virtual address by walking the tables under `root` (a table address). */
export async function translate(read: PhysRead, root: bigint, vaddr: bigint, levels: PagingLevels): Promise<PageMapping | PageFault> {
  if (!canonical(vaddr, levels)) return { fault: 'non-canonical', level: levels };
  const word = new Uint8Array(8);
  const dv = new DataView(word.buffer);
  let table = root & ADDR_MASK;
  let writable = true;
  let user = true;
  let executable = true;
  for (let level: number = levels; level >= 1; level--) {
    const shift = shiftOf(level);
    const entryAddress = table + ((vaddr >> shift) & 0x1ffn) * 8n;
    if ((await read(entryAddress, word)) < 8) return { fault: 'unreadable-table', level, entryAddress };
    const entry = dv.getBigUint64(0, true);
    if (!(entry & P)) return { fault: 'not-present', level, entryAddress, entry };
    writable &&= (entry & RW) !== 0n;
    user &&= (entry & US) !== 0n;
    executable &&= (entry & NX) === 0n;
    if (level === 1 || ((level === 2 || level === 3) && entry & PS)) {
      const pageSize = 1n << shift;
      const frame = entry & ADDR_MASK & ~(pageSize - 1n);
      return { physical: frame + (vaddr & (pageSize - 1n)), pageSize, writable, executable, user };
    }
    table = entry & ADDR_MASK;
  }
  // Unreachable: level 1 always returns.
  return { fault: 'not-present', level: 1 };
}

/** One run of mapped virtual memory with the same permissions. */
export interface MappedRange {
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly user: boolean;
}

/**
 * Every mapped range under `root`, in address order, adjacent pages with the
 * same permissions merged. Tables that cannot be read are skipped.
 */
export async function mappedRanges(read: PhysRead, root: bigint, levels: PagingLevels): Promise<MappedRange[]> {
  const out: MappedRange[] = [];
  const top = levels === 5 ? 56n : 47n;
  const signExtend = (v: bigint) => ((v >> top) & 1n ? BigInt.asUintN(64, v | ~((1n << (top + 1n)) - 1n)) : v);
  const add = (r: MappedRange) => {
    const last = out[out.length - 1];
    if (last && last.end === r.start && last.writable === r.writable && last.executable === r.executable && last.user === r.user) {
      out[out.length - 1] = { ...last, end: r.end };
    } else {
      out.push(r);
    }
  };
  const walk = async (table: bigint, level: number, base: bigint, writable: boolean, executable: boolean, user: boolean): Promise<void> => {
    const bytes = new Uint8Array(4096);
    if ((await read(table, bytes)) < 4096) return;
    const dv = new DataView(bytes.buffer);
    const shift = shiftOf(level);
    for (let i = 0; i < 512; i++) {
      const entry = dv.getBigUint64(i * 8, true);
      if (!(entry & P)) continue;
      const va = base | (BigInt(i) << shift);
      const w = writable && (entry & RW) !== 0n;
      const x = executable && (entry & NX) === 0n;
      const u = user && (entry & US) !== 0n;
      if (level === 1 || ((level === 2 || level === 3) && entry & PS)) {
        const start = signExtend(va);
        add({ start, end: start + (1n << shift), writable: w, executable: x, user: u });
      } else {
        await walk(entry & ADDR_MASK, level - 1, va, w, x, u);
      }
    }
  };
  await walk(root & ADDR_MASK, levels, 0n, true, true, true);
  return out;
}
