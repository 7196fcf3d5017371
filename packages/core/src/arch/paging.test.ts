import test from 'ava';
import { PageWalker, PagingError, type PagingContext } from './paging.js';

/*
 * Synthesized page tables in a sparse fake physical memory. The real-system check
 * (against QEMU's own `info tlb` and `gva2gpa` on the test VM) lives with the QEMU
 * helper in @stackdb/driver-gdb-qemu.
 */

const P = 1n;
const W = 2n;
const U = 4n;
const PS = 0x80n;
const PAT_LARGE = 0x1000n;
const XD = 1n << 63n;

class FakeMemory {
  readonly pages = new Map<bigint, Uint8Array>();
  reads = 0;
  private next = 0x100000n;

  page(addr: bigint): Uint8Array {
    const base = addr & ~0xfffn;
    let p = this.pages.get(base);
    if (!p) this.pages.set(base, (p = new Uint8Array(4096)));
    return p;
  }

  /** A fresh zeroed table page. */
  table(): bigint {
    const a = this.next;
    this.next += 0x1000n;
    this.page(a);
    return a;
  }

  set(table: bigint, index: number, entry: bigint): void {
    new DataView(this.page(table).buffer).setBigUint64(index * 8, entry, true);
  }

  write(addr: bigint, bytes: number[]): void {
    bytes.forEach((b, i) => {
      const a = addr + BigInt(i);
      this.page(a)[Number(a & 0xfffn)] = b;
    });
  }

  read = async (addr: bigint, size: number): Promise<Uint8Array> => {
    this.reads++;
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const a = addr + BigInt(i);
      const p = this.pages.get(a & ~0xfffn);
      if (!p) throw new RangeError(`no physical memory at 0x${a.toString(16)}`);
      out[i] = p[Number(a & 0xfffn)]!;
    }
    return out;
  };
}

const idx = (va: bigint, level: number) => Number((va >> (12n + 9n * BigInt(level - 1))) & 0x1ffn);

/** Builds a 4-level walk for `va` down to `leafLevel` and returns the tables used. */
function map4(mem: FakeMemory, pml4: bigint, va: bigint, leafLevel: 1 | 2 | 3, leaf: bigint, upper = P | W | U): bigint[] {
  const tables = [pml4];
  let t = pml4;
  for (let level = 4; level > leafLevel; level--) {
    const e = new DataView(mem.page(t).buffer).getBigUint64(idx(va, level) * 8, true);
    let next = e & 0x000f_ffff_ffff_f000n;
    if (!(e & P)) {
      next = mem.table();
      mem.set(t, idx(va, level), next | upper);
    }
    tables.push(next);
    t = next;
  }
  mem.set(t, idx(va, leafLevel), leaf);
  return tables;
}

function setup() {
  const mem = new FakeMemory();
  const pml4 = mem.table();
  const walker = new PageWalker(mem.read);
  const ctx: PagingContext = { cr3: pml4 | 0x5n /* PCID bits are ignored */, cr0: 0x8005_0033n, cr4: 0x6f0n, efer: 0xd01n };
  return { mem, pml4, walker, ctx };
}

test('a 4 KiB user page translates with its offset and rights', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  map4(mem, pml4, 0x401000n, 1, 0x7654_3000n | P | W | U);
  const tr = await walker.translate(0x401234n, ctx);
  t.is(tr.physical, 0x7654_3234n);
  t.is(tr.physicalPage, 0x7654_3000n);
  t.is(tr.virtualPage, 0x401000n);
  t.is(tr.pageSize, 0x1000n);
  t.true(tr.writable && tr.user && tr.executable);
  t.is(tr.levels, 4);
});

test('2 MiB pages at the PD level mask the PAT bit out of the frame', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  map4(mem, pml4, 0xffff_8880_0020_0000n, 2, 0x0020_0000n | PAT_LARGE | PS | P | W);
  const tr = await walker.translate(0xffff_8880_0023_4567n, ctx);
  t.is(tr.physical, 0x0023_4567n);
  t.is(tr.pageSize, 0x20_0000n);
  t.is(tr.virtualPage, 0xffff_8880_0020_0000n);
  t.false(tr.user);
});

test('1 GiB pages at the PDPT level', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  map4(mem, pml4, 0xffff_8881_0000_0000n, 3, 0x1_4000_0000n | PS | P | W | XD);
  const tr = await walker.translate(0xffff_8881_2345_6789n, ctx);
  t.is(tr.physical, 0x1_6345_6789n);
  t.is(tr.pageSize, 0x4000_0000n);
  t.false(tr.executable);
});

test('rights combine over levels; NX counts only with EFER.NXE', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  map4(mem, pml4, 0x600000n, 1, 0x9000n | P | W | U, P | U | XD);
  const tr = await walker.translate(0x600010n, ctx);
  t.false(tr.writable, 'read-only at an upper level');
  t.true(tr.user);
  t.false(tr.executable, 'XD at an upper level');
  const noNx = await new PageWalker(mem.read).translate(0x600010n, { ...ctx, efer: 0x501n });
  t.true(noNx.executable);
});

test('5-level paging (CR4.LA57) walks the PML5 and accepts 57-bit canonical addresses', async (t) => {
  const mem = new FakeMemory();
  const pml5 = mem.table();
  const pml4 = mem.table();
  const va = 0x0012_3456_7890_1000n; // PML5 index 0x12
  mem.set(pml5, idx(va, 5), pml4 | P | W | U);
  map4(mem, pml4, va, 1, 0xabc000n | P | W | U);
  const walker = new PageWalker(mem.read);
  const tr = await walker.translate(va + 0x10n, { cr3: pml5, cr4: 0x1000n | 0x20n });
  t.is(tr.physical, 0xabc010n);
  t.is(tr.levels, 5);
  const e = await t.throwsAsync(walker.translate(va, { cr3: pml5 }), { instanceOf: PagingError });
  t.is(e?.code, 'ERR_NONCANONICAL', 'the same address is not canonical with 4 levels');
  const kernel = await t.throwsAsync(walker.translate(0xff00_0000_0000_0000n, { cr3: pml5, cr4: 0x1000n }), { instanceOf: PagingError });
  t.is(kernel?.code, 'ERR_NOT_MAPPED');
  t.is(kernel?.level, 5);
});

test('a missing entry names the level that failed', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  const tables = map4(mem, pml4, 0x7fff_0000_0000n, 1, 0n /* PT entry not present */);
  for (const [va, level] of [[0x7fff_0000_0000n, 1], [0x7fff_0020_0000n, 2], [0x7fff_4000_0000n, 3], [0x7f00_0000_0000n, 4]] as const) {
    const e = await t.throwsAsync(walker.translate(va, ctx), { instanceOf: PagingError });
    t.is(e?.code, 'ERR_NOT_MAPPED');
    t.is(e?.level, level, `0x${va.toString(16)}`);
    t.is(e?.address, va);
  }
  t.is(tables.length, 4);
  t.is(await walker.tryTranslate(0x7fff_0000_0000n, ctx), undefined);
});

test('non-canonical addresses, paging off and legacy modes', async (t) => {
  const { walker, ctx } = setup();
  t.is((await t.throwsAsync(walker.translate(0x0000_8000_0000_0000n, ctx), { instanceOf: PagingError }))?.code, 'ERR_NONCANONICAL');
  const off = await walker.translate(0x1234_5678n, { ...ctx, cr0: 0x11n });
  t.is(off.physical, 0x1234_5678n);
  t.is(off.levels, 1);
  t.is((await t.throwsAsync(walker.translate(0x1000n, { ...ctx, efer: 0n }), { instanceOf: PagingError }))?.code, 'ERR_PAGING_MODE');
});

test('unreadable table pages are typed errors with the cause', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  mem.set(pml4, 1, 0xdead_0000n | P | W);
  const e = await t.throwsAsync(walker.translate(0x80_0000_0000n, ctx), { instanceOf: PagingError });
  t.is(e?.code, 'ERR_PAGE_TABLE_READ');
  t.is(e?.level, 3);
  t.true(e?.cause instanceof RangeError);
});

test('tables and translations are cached until invalidate()', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  const tables = map4(mem, pml4, 0x401000n, 1, 0x5000n | P | W | U);
  await walker.translate(0x401000n, ctx);
  const reads = mem.reads;
  t.is(reads, 4);
  t.is((await walker.translate(0x401ff0n, ctx)).physical, 0x5ff0n);
  t.is(mem.reads, reads, 'a TLB hit reads nothing');
  await walker.translate(0x400000n, ctx).catch(() => undefined);
  t.is(mem.reads, reads, 'a miss on a neighbour reuses the cached tables');
  mem.set(tables[3]!, idx(0x401000n, 1), 0x6000n | P | W | U);
  t.is((await walker.translate(0x401000n, ctx)).physical, 0x5000n, 'stale until invalidated');
  walker.invalidate();
  t.is((await walker.translate(0x401000n, ctx)).physical, 0x6000n);
});

test('readVirtual crosses pages and stops at the first unmapped one', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  map4(mem, pml4, 0x401000n, 1, 0x20000n | P | W | U);
  map4(mem, pml4, 0x402000n, 1, 0x10000n | P | W | U);
  mem.write(0x20ffen, [1, 2]);
  mem.write(0x10000n, [3, 4]);
  const buf = new Uint8Array(4);
  t.is(await walker.readVirtual(0x401ffen, buf, ctx), 4);
  t.deepEqual([...buf], [1, 2, 3, 4]);
  const big = new Uint8Array(0x3000);
  t.is(await walker.readVirtual(0x401000n, big, ctx), 0x2000);
  t.is((await t.throwsAsync(walker.readVirtual(0x403000n, big, ctx), { instanceOf: PagingError }))?.code, 'ERR_NOT_MAPPED');
});

test('mappings() lists leaf pages in canonical order, within a range', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  map4(mem, pml4, 0xffff_ffff_8100_0000n, 2, 0x100_0000n | PS | P);
  map4(mem, pml4, 0x401000n, 1, 0x5000n | P | W | U);
  map4(mem, pml4, 0xffff_8880_0000_0000n, 3, 0n | PS | P | W | XD);
  const all = [];
  for await (const m of walker.mappings(ctx)) all.push(m);
  t.deepEqual(all.map((m) => [m.virtualPage, m.physicalPage, m.pageSize]), [
    [0x401000n, 0x5000n, 0x1000n],
    [0xffff_8880_0000_0000n, 0n, 0x4000_0000n],
    [0xffff_ffff_8100_0000n, 0x100_0000n, 0x20_0000n],
  ]);
  t.deepEqual(all.map((m) => [m.writable, m.user, m.executable]), [[true, true, true], [true, false, false], [false, false, true]]);
  const some = [];
  for await (const m of walker.mappings(ctx, { start: 0xffff_8000_0000_0000n })) some.push(m.virtualPage);
  t.deepEqual(some, [0xffff_8880_0000_0000n, 0xffff_ffff_8100_0000n]);
});

test('readVirtual reads straight into the buffer with readInto, stopping at a physical hole', async (t) => {
  const { mem, pml4, ctx } = setup();
  map4(mem, pml4, 0x401000n, 1, 0x20000n | P | W | U);
  map4(mem, pml4, 0x402000n, 1, 0x7770000n | P | W | U); // no physical memory there
  mem.write(0x20ff0n, [5, 6, 7]);
  const into: bigint[] = [];
  const walker = new PageWalker(mem.read, {
    readInto: async (address, dest) => {
      into.push(address);
      try {
        dest.set(await mem.read(address, dest.length));
        return dest.length;
      } catch {
        return 0;
      }
    },
  });
  const buf = new Uint8Array(0x20);
  t.is(await walker.readVirtual(0x401ff0n, buf, ctx), 0x10);
  t.deepEqual([...buf.subarray(0, 3)], [5, 6, 7]);
  t.deepEqual(into, [0x20ff0n, 0x7770000n]);
  const identity = new Uint8Array(3);
  t.is(await walker.readVirtual(0x20ff0n, identity, { ...ctx, cr0: 0x11n }), 3, 'paging off: virtual is physical');
  t.deepEqual([...identity], [5, 6, 7]);
});

test('one walk serves a whole large page', async (t) => {
  const { mem, pml4, walker, ctx } = setup();
  map4(mem, pml4, 0xffff_8880_0020_0000n, 2, 0x0020_0000n | PS | P | W);
  map4(mem, pml4, 0xffff_8880_0040_0000n, 1, 0x9000n | P | W);
  t.is((await walker.translate(0xffff_8880_0020_0000n, ctx)).physical, 0x20_0000n);
  const reads = mem.reads;
  t.is((await walker.translate(0xffff_8880_003f_f123n, ctx)).physical, 0x3f_f123n);
  t.is(mem.reads, reads);
  t.is((await walker.translate(0xffff_8880_0040_0010n, ctx)).physical, 0x9010n, 'a 4 KiB page next to it is its own entry');
  t.is((await walker.translate(0xffff_8880_0040_1000n, ctx).catch((e: PagingError) => e.level)), 1);
});
