import { MemoryError, NotSupportedError, PageWalker, PagingError, getLogger, type Addr, type AddressSpace, type PagingContext, type RegisterSet } from '@stackdb/core';
import type { StubHelper } from './helper.js';
import type { RspClient } from './rsp/client.js';
import { StubError } from './rsp/errors.js';

const log = getLogger('T_GDB');

/** What machine memory needs from its target. */
export interface MachineMemoryHost {
  readonly client: RspClient;
  readonly helper: StubHelper;
  readonly driver: string;
  /** Registers of the vCPU whose translation the default virtual space uses. */
  referenceRegisters(): Promise<RegisterSet | undefined>;
}

const PAGE = 0x1000n;

/** Splits [address, address+length) at page ends and at `max` bytes. */
function pieces(address: Addr, length: number, max: number): { at: number; n: number }[] {
  const out: { at: number; n: number }[] = [];
  for (let at = 0; at < length; ) {
    const n = Math.min(max, length - at, Number(PAGE - ((address + BigInt(at)) % PAGE)));
    out.push({ at, n });
    at += n;
  }
  return out;
}

/** A refusal (`Exx`) becomes undefined; anything else stays an error. */
function refusedAsUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch((err: unknown) => {
    if (err instanceof StubError) return undefined;
    throw err;
  });
}

/**
 * Memory of a whole machine behind a stub (QEMU): physical memory through the
 * helper (the guest RAM file) or, failing that, through the stub switched to
 * physical mode (`Qqemu.PhyMemMode`, when `qqemu.Supported` offers it); virtual
 * memory by walking the guest's page tables with core's PageWalker over that
 * physical memory — the page-table root is the space's own (a process) or the
 * reference vCPU's CR3. When no physical path exists, the default virtual space
 * falls back to the stub, which translates with its selected vCPU.
 */
export class MachineMemory {
  private readonly walker: PageWalker;
  private physMode?: boolean;
  private context?: Promise<PagingContext | undefined>;

  constructor(private readonly host: MachineMemoryHost) {
    this.walker = new PageWalker(async (address, size) => {
      const buf = new Uint8Array(size);
      const n = await this.readPhysical(address, buf);
      if (n < size) throw new MemoryError(address + BigInt(n), n, `cannot read guest physical memory at 0x${(address + BigInt(n)).toString(16)}`);
      return buf;
    });
  }

  /** Forgets tables, translations and the paging context (the guest may have run). */
  invalidate(): void {
    this.walker.invalidate();
    this.context = undefined;
  }

  /** True when physical memory can be read at all (helper or stub physical mode). */
  async hasPhysical(): Promise<boolean> {
    return this.host.helper.readPhysical !== undefined || (await this.stubPhysicalMode());
  }

  async readPhysical(address: Addr, buf: Uint8Array): Promise<number> {
    if (this.host.helper.readPhysical) return this.host.helper.readPhysical(address, buf);
    const client = this.host.client;
    const parts = pieces(address, buf.length, client.maxRead);
    const got = await this.inPhysicalMode(() => parts.map((p) => refusedAsUndefined(client.readMemory(address + BigInt(p.at), p.n))));
    let done = 0;
    for (const [i, p] of parts.entries()) {
      const bytes = got[i];
      if (!bytes) break;
      buf.set(bytes, p.at);
      done += bytes.length;
      if (bytes.length < p.n) break;
    }
    return done;
  }

  async writePhysical(address: Addr, data: Uint8Array): Promise<number> {
    if (this.host.helper.writePhysical) return this.host.helper.writePhysical(address, data);
    const client = this.host.client;
    // Known before the batch, so every write is queued at once (see inPhysicalMode).
    await client.binaryWrites();
    const parts = pieces(address, data.length, Math.max(1, Math.floor((client.features.packetSize - 40) / 2)));
    const done = await this.inPhysicalMode(() => parts.map((p) => refusedAsUndefined(client.writeMemory(address + BigInt(p.at), data.subarray(p.at, p.at + p.n)).then(() => p.n))));
    let n = 0;
    for (const w of done) {
      if (w === undefined) break;
      n += w;
    }
    return n;
  }

  /** Reads virtual memory of a space; undefined when the stub should read it instead. */
  async readVirtual(space: AddressSpace, address: Addr, buf: Uint8Array): Promise<number | undefined> {
    const ctx = await this.pagingFor(space);
    if (!ctx) return undefined;
    try {
      return await this.walker.readVirtual(address, buf, ctx);
    } catch (err) {
      if (err instanceof PagingError && (err.code === 'ERR_NOT_MAPPED' || err.code === 'ERR_NONCANONICAL')) return 0;
      throw err;
    }
  }

  /** Writes virtual memory of a space page by page; undefined when the stub should write it instead. */
  async writeVirtual(space: AddressSpace, address: Addr, data: Uint8Array): Promise<number | undefined> {
    const ctx = await this.pagingFor(space);
    if (!ctx) return undefined;
    let done = 0;
    while (done < data.length) {
      const t = await this.walker.tryTranslate(address + BigInt(done), ctx);
      if (!t) return done;
      const n = Math.min(Number(t.pageSize - (t.physical - t.physicalPage)), data.length - done);
      const w = await this.writePhysical(t.physical, data.subarray(done, done + n));
      done += w;
      if (w < n) return done;
    }
    return done;
  }

  /**
   * The translation of a space: its own root, or the reference vCPU's CR3; with
   * CR0/CR4/EFER from the reference vCPU when known. Undefined when physical
   * memory cannot be read or no root is known (the default space then goes to
   * the stub); a space with its own root and no physical path is an error.
   */
  private async pagingFor(space: AddressSpace): Promise<PagingContext | undefined> {
    if (!(await this.hasPhysical())) {
      if (space.pageTableRoot !== undefined) throw new NotSupportedError('page-table walks without access to physical memory (give --qemu-mem-path, or use a stub with a physical memory mode)', this.host.driver);
      return undefined;
    }
    this.context ??= this.referenceContext();
    const ref = await this.context;
    if (space.pageTableRoot !== undefined) return { ...ref, cr3: space.pageTableRoot };
    return ref;
  }

  private async referenceContext(): Promise<PagingContext | undefined> {
    const regs = await this.host.referenceRegisters();
    const cr3 = regs?.get('cr3');
    if (cr3 === undefined) return undefined;
    const ctx: { cr3: bigint; cr0?: bigint; cr4?: bigint; efer?: bigint } = { cr3 };
    for (const r of ['cr0', 'cr4', 'efer'] as const) {
      const v = regs!.get(r);
      if (v !== undefined) ctx[r] = v;
    }
    return ctx;
  }

  private async stubPhysicalMode(): Promise<boolean> {
    if (this.physMode === undefined) {
      const r = await this.host.client.text('qqemu.Supported', { allowEmpty: true }).catch(() => '');
      this.physMode = r.split(';').includes('PhyMemMode');
      log.debug(2, 'stub physical memory mode: %s', this.physMode ? 'yes' : 'no');
    }
    return this.physMode;
  }

  /**
   * Runs requests with the stub in physical mode. The mode is global to the
   * stub, so the switch, the requests and the switch back are queued in one
   * synchronous go: the client sends requests in call order, and no other
   * memory request can fall between the two switches.
   */
  private async inPhysicalMode<T>(requests: () => Promise<T>[]): Promise<T[]> {
    if (!(await this.stubPhysicalMode())) throw new NotSupportedError('physical memory (no --qemu-mem-path, and the stub has no physical memory mode)', this.host.driver);
    const client = this.host.client;
    const on = client.ok('Qqemu.PhyMemMode:1');
    const work = requests();
    const off = client.ok('Qqemu.PhyMemMode:0');
    const [onResult, offResult, ...results] = await Promise.allSettled([on, off, ...work]);
    for (const r of [onResult!, offResult!, ...results]) if (r.status === 'rejected') throw r.reason;
    return results.map((r) => (r as PromiseFulfilledResult<T>).value);
  }
}
