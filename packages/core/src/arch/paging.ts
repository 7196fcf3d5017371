import { StackdbError } from '../errors.js';
import type { Addr } from '../target/types.js';

/*
 * x86-64 virtual → physical translation by walking the guest's page tables, shared
 * by every driver that sees a whole machine (gdb/QEMU, Xen, vmcores).
 *
 * CR3 holds the physical address of the top table. Each table is one 4 KiB page of
 * 512 eight-byte entries; nine address bits index each level:
 *   PML5 bits 56..48 (only with CR4.LA57), PML4 47..39, PDPT 38..30, PD 29..21,
 *   PT 20..12, and bits 11..0 are the offset in a 4 KiB page.
 * An entry is present when bit 0 is set. Bit 7 (PS) in a PDPT entry maps a 1 GiB
 * page, in a PD entry a 2 MiB page, ending the walk early. Access rights combine
 * over all levels: writable (bit 1) and user (bit 2) only when every level says so,
 * execute-disable (bit 63) at any level forbids execution when EFER.NXE is on.
 * Frame addresses are bits 51..12 of the entry (the large-page PAT bit 12 is
 * masked for PS entries).
 *
 * Table pages are cached by physical address and translations per CR3 (a small
 * TLB); both must be dropped with {@link PageWalker.invalidate} whenever the guest
 * may have run (on every resume or step), exactly as a CPU flushes on CR3 writes.
 */

/** Reads `size` bytes of guest physical memory; rejects when they cannot be read. */
export type ReadPhysical = (address: Addr, size: number) => Promise<Uint8Array>;

/** The control registers that define a translation: CR3, and CR0/CR4/EFER when known. */
export interface PagingContext {
  readonly cr3: bigint;
  /** With CR0.PG (bit 31) clear, addresses are physical. Omitted: paging on. */
  readonly cr0?: bigint;
  /** CR4.LA57 (bit 12) selects 5-level paging. Omitted: 4-level. */
  readonly cr4?: bigint;
  /** EFER.NXE (bit 11) gives bit 63 its execute-disable meaning; EFER.LMA (bit 10) must be set for long mode. Omitted: both on. */
  readonly efer?: bigint;
}

/** Names of the paging levels, by level number (5 = PML5 … 1 = PT). */
export const PAGING_LEVEL_NAMES: Readonly<Record<number, string>> = { 5: 'PML5', 4: 'PML4', 3: 'PDPT', 2: 'PD', 1: 'PT' };

/** The result of translating one virtual address. */
export interface Translation {
  readonly virtual: Addr;
  readonly physical: Addr;
  /** Virtual and physical bases of the page holding the address. */
  readonly virtualPage: Addr;
  readonly physicalPage: Addr;
  /** 4 KiB, 2 MiB or 1 GiB. */
  readonly pageSize: bigint;
  /** Writable at every level. */
  readonly writable: boolean;
  /** User-accessible at every level. */
  readonly user: boolean;
  /** No execute-disable bit at any level (or EFER.NXE off). */
  readonly executable: boolean;
  /** The leaf entry as read. */
  readonly entry: bigint;
  /** 4 or 5 levels (1 when paging is off). */
  readonly levels: number;
}

/** One mapped page, as {@link PageWalker.mappings} enumerates them. */
export type Mapping = Omit<Translation, 'virtual' | 'physical'>;

/**
 * A translation failed. `code`: `ERR_NOT_MAPPED` (an entry on the way was not
 * present; `level` says which: 5 PML5, 4 PML4, 3 PDPT, 2 PD, 1 PT),
 * `ERR_NONCANONICAL` (the address is not canonical), `ERR_PAGING_MODE` (not
 * long-mode paging), `ERR_PAGE_TABLE_READ` (a table page could not be read; the
 * read error is the `cause`).
 */
export class PagingError extends StackdbError {
  readonly address: Addr;
  /** The level whose entry stopped the walk, or 0 when no table was involved. */
  readonly level: number;
  /** That entry's value (0n when not applicable). */
  readonly entry: bigint;

  constructor(code: string, address: Addr, level: number, entry: bigint, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.address = address;
    this.level = level;
    this.entry = entry;
  }
}

const PRESENT = 1n;
const RW = 1n << 1n;
const US = 1n << 2n;
const PS = 1n << 7n;
const XD = 1n << 63n;
const FRAME = 0x000f_ffff_ffff_f000n;
const FRAME_2M = 0x000f_ffff_ffe0_0000n;
const FRAME_1G = 0x000f_ffff_c000_0000n;
const CR0_PG = 1n << 31n;
const CR4_LA57 = 1n << 12n;
const EFER_LMA = 1n << 10n;
const EFER_NXE = 1n << 11n;
const PAGE_SIZES: Readonly<Record<number, bigint>> = { 1: 0x1000n, 2: 0x20_0000n, 3: 0x4000_0000n };
const MASK64 = (1n << 64n) - 1n;

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Sign-extends a `bits`-wide address to 64 bits (canonical form). */
function canonical(v: bigint, bits: number): bigint {
  const sign = 1n << BigInt(bits - 1);
  const low = v & ((1n << BigInt(bits)) - 1n);
  return low & sign ? (low | (MASK64 & ~((1n << BigInt(bits)) - 1n))) : low;
}

interface Mode {
  readonly paging: boolean;
  readonly levels: number;
  readonly nx: boolean;
}

function modeOf(ctx: PagingContext, address: Addr): Mode {
  if (ctx.cr0 !== undefined && !(ctx.cr0 & CR0_PG)) return { paging: false, levels: 1, nx: false };
  if (ctx.efer !== undefined && !(ctx.efer & EFER_LMA)) {
    throw new PagingError('ERR_PAGING_MODE', address, 0, 0n, `cannot translate ${hex(address)}: the CPU is not in long mode (EFER ${hex(ctx.efer)})`);
  }
  return { paging: true, levels: ctx.cr4 !== undefined && ctx.cr4 & CR4_LA57 ? 5 : 4, nx: ctx.efer === undefined || (ctx.efer & EFER_NXE) !== 0n };
}

const PAGE_MASKS = [~0xfffn, ~0x1f_ffffn, ~0x3fff_ffffn];

/** A cached mapping covering `va`: translations are kept under their page's base, whatever its size. */
function cached(tlb: Map<bigint, Mapping>, va: bigint): Mapping | undefined {
  for (const mask of PAGE_MASKS) {
    const m = tlb.get(va & mask);
    if (m && va - m.virtualPage < m.pageSize) return m;
  }
  return undefined;
}

/** Options of a {@link PageWalker}. */
export interface PageWalkerOptions {
  /** Cached page-table pages (4 KiB each); default 2048 (8 MiB). */
  readonly maxTablePages?: number;
  /** Cached translations per CR3; default 4096. */
  readonly maxTranslations?: number;
  /**
   * Reads guest physical memory straight into `dest`, returning the bytes read
   * (fewer at a hole). When given, {@link PageWalker.readVirtual} uses it instead
   * of the `ReadPhysical` callback and saves a copy per page.
   */
  readonly readInto?: (address: Addr, dest: Uint8Array) => Promise<number>;
}

/**
 * Walks x86-64 page tables (4- and 5-level, 2 MiB and 1 GiB pages) through a
 * physical-memory reader. Call {@link invalidate} whenever the guest may have run.
 */
export class PageWalker {
  private readonly tables = new Map<bigint, DataView>();
  private readonly tlbs = new Map<bigint, Map<bigint, Mapping>>();
  private readonly maxTablePages: number;
  private readonly maxTranslations: number;
  private readonly readInto?: (address: Addr, dest: Uint8Array) => Promise<number>;

  constructor(private readonly readPhysical: ReadPhysical, options: PageWalkerOptions = {}) {
    this.maxTablePages = options.maxTablePages ?? 2048;
    this.maxTranslations = options.maxTranslations ?? 4096;
    if (options.readInto) this.readInto = options.readInto;
  }

  /** Drops every cached table page and translation (the guest may have changed them). */
  invalidate(): void {
    this.tables.clear();
    this.tlbs.clear();
  }

  /** Translates one virtual address; rejects with {@link PagingError}. */
  async translate(address: Addr, ctx: PagingContext): Promise<Translation> {
    const mode = modeOf(ctx, address);
    if (!mode.paging) return this.identity(address);
    const va = address & MASK64;
    const m = await this.mapping(va, ctx.cr3 & FRAME, mode, this.tlbOf(ctx.cr3, mode));
    return { ...m, virtual: va, physical: m.physicalPage + (va - m.virtualPage) };
  }

  /** Like {@link translate}, but undefined when the address is not mapped. */
  async tryTranslate(address: Addr, ctx: PagingContext): Promise<Translation | undefined> {
    try {
      return await this.translate(address, ctx);
    } catch (err) {
      if (err instanceof PagingError && (err.code === 'ERR_NOT_MAPPED' || err.code === 'ERR_NONCANONICAL')) return undefined;
      throw err;
    }
  }

  /**
   * Reads virtual memory into `buf` page by page through the physical reader.
   * Returns the bytes read before the first unmapped page (or physical hole);
   * rejects only when not even the first byte is mapped (with that {@link PagingError}).
   */
  async readVirtual(address: Addr, buf: Uint8Array, ctx: PagingContext): Promise<number> {
    const mode = modeOf(ctx, address);
    const root = ctx.cr3 & FRAME;
    const tlb = mode.paging ? this.tlbOf(ctx.cr3, mode) : undefined;
    let done = 0;
    while (done < buf.length) {
      const va = (address + BigInt(done)) & MASK64;
      let physical: bigint;
      let n: number;
      if (tlb) {
        let m = cached(tlb, va);
        if (!m) {
          try {
            m = await this.mapping(va, root, mode, tlb);
          } catch (err) {
            if (done > 0 && err instanceof PagingError && (err.code === 'ERR_NOT_MAPPED' || err.code === 'ERR_NONCANONICAL')) return done;
            throw err;
          }
        }
        const off = va - m.virtualPage;
        physical = m.physicalPage + off;
        n = Math.min(Number(m.pageSize - off), buf.length - done);
      } else {
        physical = va;
        n = Math.min(0x1000 - Number(va & 0xfffn), buf.length - done);
      }
      if (this.readInto) {
        const got = await this.readInto(physical, buf.subarray(done, done + n));
        done += got;
        if (got < n) return done;
      } else {
        buf.set((await this.readPhysical(physical, n)).subarray(0, n), done);
        done += n;
      }
    }
    return done;
  }

  /**
   * Enumerates the present leaf mappings of the address space in ascending
   * (canonical) virtual order, optionally only those overlapping [start, end).
   */
  async *mappings(ctx: PagingContext, range: { start?: Addr; end?: Addr } = {}): AsyncGenerator<Mapping> {
    const mode = modeOf(ctx, 0n);
    if (!mode.paging) throw new PagingError('ERR_PAGING_MODE', 0n, 0, 0n, 'paging is off: there are no mappings to list');
    const bits = mode.levels === 5 ? 57 : 48;
    const start = range.start ?? 0n;
    const end = range.end ?? 1n << 64n;
    const readTable = (physical: bigint, level: number, address: Addr) => this.table(physical, level, address);
    // Visits one table; `prefix` holds the raw (not sign-extended) virtual bits above this level.
    async function* visit(table: bigint, level: number, prefix: bigint, rw: boolean, us: boolean, nx: boolean): AsyncGenerator<Mapping> {
      const shift = 12n + 9n * BigInt(level - 1);
      const view = await readTable(table, level, prefix);
      for (let i = 0; i < 512; i++) {
        const e = view.getBigUint64(i * 8, true);
        if (!(e & PRESENT)) continue;
        const raw = prefix | (BigInt(i) << shift);
        const va = canonical(raw, bits);
        const size = 1n << shift;
        if (va + size <= start || va >= end) continue;
        const w = rw && (e & RW) !== 0n;
        const u = us && (e & US) !== 0n;
        const x = nx || (mode.nx && (e & XD) !== 0n);
        if (level === 1 || (level <= 3 && e & PS)) {
          const frame = level === 1 ? FRAME : level === 2 ? FRAME_2M : FRAME_1G;
          yield { virtualPage: va, physicalPage: e & frame, pageSize: size, writable: w, user: u, executable: !x, entry: e, levels: mode.levels };
        } else {
          yield* visit(e & FRAME, level - 1, raw, w, u, x);
        }
      }
    }
    yield* visit(ctx.cr3 & FRAME, mode.levels, 0n, true, true, false);
  }

  /** The translation cache of one address space (CR3, with the NX mode that shapes its answers). */
  private tlbOf(cr3: bigint, mode: Mode): Map<bigint, Mapping> {
    const key = ((cr3 & FRAME) << 1n) | (mode.nx ? 1n : 0n) | (BigInt(mode.levels) << 60n);
    let tlb = this.tlbs.get(key);
    if (!tlb) this.tlbs.set(key, (tlb = new Map()));
    return tlb;
  }

  /** The leaf mapping of `va` (a 64-bit value): from the cache, or walked and cached under its page's base. */
  private async mapping(va: bigint, root: bigint, mode: Mode, tlb: Map<bigint, Mapping>): Promise<Mapping> {
    const hit = cached(tlb, va);
    if (hit) return hit;
    const bits = mode.levels === 5 ? 57 : 48;
    if (canonical(va, bits) !== va) throw new PagingError('ERR_NONCANONICAL', va, 0, 0n, `${hex(va)} is not a canonical ${bits}-bit address`);
    const m = await this.walk(va, root, mode);
    if (tlb.size >= this.maxTranslations) tlb.delete(tlb.keys().next().value as bigint);
    tlb.set(m.virtualPage, m);
    return m;
  }

  private identity(address: Addr): Translation {
    const page = address & ~0xfffn;
    return { virtual: address, physical: address, virtualPage: page, physicalPage: page, pageSize: 0x1000n, writable: true, user: true, executable: true, entry: 0n, levels: 1 };
  }

  private async walk(address: Addr, root: bigint, mode: Mode): Promise<Mapping> {
    let table = root;
    let rw = true;
    let us = true;
    let xd = false;
    for (let level = mode.levels; level >= 1; level--) {
      const shift = 12n + 9n * BigInt(level - 1);
      const index = Number((address >> shift) & 0x1ffn);
      const view = await this.table(table, level, address);
      const e = view.getBigUint64(index * 8, true);
      if (!(e & PRESENT)) {
        throw new PagingError('ERR_NOT_MAPPED', address, level, e, `${hex(address)} is not mapped: ${PAGING_LEVEL_NAMES[level]} entry ${index} of the table at ${hex(table)} is not present`);
      }
      rw &&= (e & RW) !== 0n;
      us &&= (e & US) !== 0n;
      xd ||= mode.nx && (e & XD) !== 0n;
      if (level === 1 || (level <= 3 && e & PS)) {
        const size = PAGE_SIZES[level]!;
        const frame = level === 1 ? FRAME : level === 2 ? FRAME_2M : FRAME_1G;
        return { virtualPage: address & ~(size - 1n) & MASK64, physicalPage: e & frame, pageSize: size, writable: rw, user: us, executable: !xd, entry: e, levels: mode.levels };
      }
      table = e & FRAME;
    }
    throw new Error('unreachable: the PT level always ends the walk');
  }

  private async table(physical: bigint, level: number, address: Addr): Promise<DataView> {
    let view = this.tables.get(physical);
    if (view) return view;
    let bytes: Uint8Array;
    try {
      bytes = await this.readPhysical(physical, 4096);
    } catch (err) {
      throw new PagingError('ERR_PAGE_TABLE_READ', address, level, 0n, `cannot read the ${PAGING_LEVEL_NAMES[level]} table at physical ${hex(physical)} translating ${hex(address)}`, { cause: err });
    }
    if (bytes.length < 4096) {
      throw new PagingError('ERR_PAGE_TABLE_READ', address, level, 0n, `short read of the ${PAGING_LEVEL_NAMES[level]} table at physical ${hex(physical)} translating ${hex(address)}`);
    }
    view = new DataView(bytes.buffer, bytes.byteOffset, 4096);
    if (this.tables.size >= this.maxTablePages) this.tables.delete(this.tables.keys().next().value as bigint);
    this.tables.set(physical, view);
    return view;
  }
}
