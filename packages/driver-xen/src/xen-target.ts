import path from 'node:path';
import {
  MemoryError,
  NoSuchThreadError,
  PHYSICAL_SPACE,
  PageWalker,
  RegisterSet,
  Target,
  UsageError,
  VIRTUAL_SPACE,
  X86_64,
  imageModule,
  passiveCapabilities,
  readImage,
  type Addr,
  type AddressSpace,
  type LoadedModule,
  type PagingContext,
  type Region,
  type StopEvent,
  type TargetCapabilities,
  type TargetSpec,
  type ThreadInfo,
} from '@stackdb/core';
import { binding, type XenBinding, type XenDomainInfo, type XenSession } from './binding.js';
import { XenError } from './errors.js';

/** The driver name. */
export const DRIVER_NAME = 'xen';

const PAGE = 4096;
/** How often a running domain is looked at for its end while waiting. */
const WATCH_MS = 100;

/** What the driver does: read and write a domain's memory, read its vCPUs, pause and unpause it. No probes yet. */
const CAPABILITIES: TargetCapabilities = { ...passiveCapabilities({ readOnly: false, physicalMemory: true }), execution: true };

/**
 * A Xen domain, seen from Domain 0 through libxenctrl and
 * libxenforeignmemory: its vCPUs as threads with the registers Xen keeps
 * (the HVM save record of each vCPU, or a PV guest's vcpu_guest_context),
 * its memory by mapping its frames (guest frames of an HVM guest, machine
 * frames of a PV guest, as its page tables hold), virtual addresses through
 * core's page walker under a vCPU's CR3. Opening pauses the domain; detaching
 * unpauses it unless it was paused before.
 */
export class XenTarget extends Target {
  private lib?: XenBinding;
  private session?: XenSession;
  private domid?: number;
  private label: string;
  private info?: XenDomainInfo;
  private pausedBefore = false;
  private readonly walker: PageWalker;
  private paging?: Promise<PagingContext>;

  constructor(spec: TargetSpec) {
    super({ id: spec.id, driver: DRIVER_NAME, arch: X86_64, capabilities: CAPABILITIES, spec });
    const domain = spec.options.domain;
    if (typeof domain !== 'string' || !domain) throw new UsageError('xen: give the domain to attach to with -m ID|NAME');
    this.label = domain;
    this.walker = new PageWalker(async (address, size) => {
      const buf = new Uint8Array(size);
      const n = await this.readPhysical(address, buf);
      if (n < size) throw new MemoryError(address + BigInt(n), n, `cannot read frame 0x${((address + BigInt(n)) >> 12n).toString(16)} of domain ${this.label}`);
      return buf;
    });
  }

  get name(): string {
    return `${DRIVER_NAME}(${this.label}${this.domid !== undefined && String(this.domid) !== this.label ? ` ${this.domid}` : ''})`;
  }

  private get xen(): { lib: XenBinding; session: XenSession; domid: number } {
    if (!this.lib || !this.session || this.domid === undefined) throw new XenError('ERR_XEN_CLOSED', 'the target is not open');
    return { lib: this.lib, session: this.session, domid: this.domid };
  }

  protected async _open(): Promise<void> {
    const lib = binding();
    try {
      this.session = lib.open();
    } catch (err) {
      throw new XenError('ERR_XEN_UNAVAILABLE', `cannot open the Xen control interface (${(err as Error).message}): run stackdb in Domain 0 of a Xen host, as root`, { cause: err });
    }
    this.lib = lib;
    const domid = this.resolveDomain(lib, this.session, this.label);
    const info = this.domainInfo(lib, this.session, domid);
    if (info.dying || info.shutdown) throw new XenError('ERR_XEN_DOMAIN', `domain ${this.label} is ${info.dying ? 'dying' : 'shut down'}`);
    this.domid = domid;
    this.pausedBefore = info.paused;
    if (!info.paused) lib.pause(this.session, domid);
    this.info = { ...info, paused: true };
    this.setStatus('paused');
  }

  private resolveDomain(lib: XenBinding, session: XenSession, which: string): number {
    if (/^\d+$/.test(which)) return Number(which);
    const hit = lib.domains(session).find((d) => d.name === which);
    if (!hit) throw new XenError('ERR_XEN_DOMAIN', `no domain is named ${which} (xenstore's /local/domain/*/name)`);
    return hit.domid;
  }

  private domainInfo(lib: XenBinding, session: XenSession, domid: number): XenDomainInfo {
    const info = lib.domainInfo(session, domid);
    if (!info) throw new XenError('ERR_XEN_DOMAIN', `no domain ${domid}`);
    return info;
  }

  protected async _pause(): Promise<StopEvent[]> {
    const { lib, session, domid } = this.xen;
    lib.pause(session, domid);
    return [{ kind: 'interrupted' }];
  }

  protected async _resume(): Promise<void> {
    const { lib, session, domid } = this.xen;
    this.forget();
    lib.unpause(session, domid);
  }

  /** A running domain stops only when it ends (no probes yet): look at it until then. */
  protected async _wait(signal?: AbortSignal): Promise<StopEvent[]> {
    for (;;) {
      const events = await this._poll();
      if (events.length) return events;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, WATCH_MS);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      if (signal?.aborted) return [];
    }
  }

  protected async _poll(): Promise<StopEvent[]> {
    const { lib, session, domid } = this.xen;
    const info = lib.domainInfo(session, domid);
    if (!info || info.dying || info.shutdown) return [{ kind: 'exited', status: {} }];
    this.info = info;
    return [];
  }

  protected async _listThreads(): Promise<ThreadInfo[]> {
    const info = this.info ?? this.domainInfo(this.xen.lib, this.xen.session, this.xen.domid);
    return Array.from({ length: info.maxVcpuId + 1 }, (_, vcpu) => ({ tid: vcpu, name: `vcpu${vcpu}`, state: this.status === 'running' ? 'running' as const : 'stopped' as const, context: 'kernel' as const }));
  }

  async _getRegisters(tid: number): Promise<RegisterSet> {
    const { lib, session, domid } = this.xen;
    const info = this.info!;
    if (tid < 0 || tid > info.maxVcpuId) throw new NoSuchThreadError(tid);
    const hvm = info.hvm && this.spec?.options.noHvmSetcontext !== true;
    return new RegisterSet(X86_64, Object.entries(lib.vcpuRegisters(session, domid, tid, hvm)));
  }

  /** Paging under vCPU 0's control registers (the kernel's view); process spaces bring their own root. */
  private pagingFor(space: AddressSpace): Promise<PagingContext> {
    if (space.pageTableRoot !== undefined) return Promise.resolve({ cr3: space.pageTableRoot });
    this.paging ??= this._getRegisters(0).then((r) => ({ cr3: r.require('cr3'), ...(r.get('cr0') !== undefined ? { cr0: r.get('cr0')! } : {}), ...(r.get('cr4') !== undefined ? { cr4: r.get('cr4')! } : {}), ...(r.get('efer') !== undefined ? { efer: r.get('efer')! } : {}) }));
    return this.paging;
  }

  private forget(): void {
    this.walker.invalidate();
    this.paging = undefined;
  }

  /** Reads frames one page at a time; returns the bytes read before the first that cannot be mapped. */
  private async readPhysical(address: Addr, buf: Uint8Array): Promise<number> {
    const { lib, session, domid } = this.xen;
    let done = 0;
    while (done < buf.length) {
      const at = address + BigInt(done);
      const offset = Number(at % BigInt(PAGE));
      const n = Math.min(buf.length - done, PAGE - offset);
      try {
        lib.readFrame(session, domid, Number(at / BigInt(PAGE)), buf.subarray(done, done + n), offset);
      } catch {
        break;
      }
      done += n;
    }
    return done;
  }

  protected async _read(space: AddressSpace, address: Addr, buf: Uint8Array): Promise<number> {
    if (space.kind === 'physical') return this.readPhysical(address, buf);
    return this.walker.readVirtual(address, buf, await this.pagingFor(space));
  }

  protected override async _write(space: AddressSpace, address: Addr, data: Uint8Array): Promise<number> {
    const { lib, session, domid } = this.xen;
    let done = 0;
    while (done < data.length) {
      const va = address + BigInt(done);
      const pa = space.kind === 'physical' ? va : (await this.walker.translate(va, await this.pagingFor(space))).physical;
      const offset = Number(pa % BigInt(PAGE));
      const n = Math.min(data.length - done, PAGE - offset, PAGE - Number(va % BigInt(PAGE)));
      lib.writeFrame(session, domid, Number(pa / BigInt(PAGE)), data.subarray(done, done + n), offset);
      done += n;
    }
    return done;
  }

  override async spaces(): Promise<AddressSpace[]> {
    return [VIRTUAL_SPACE, PHYSICAL_SPACE];
  }

  protected async _regions(): Promise<Region[]> {
    return [];
  }

  /** The kernel named with -K (its debug vmlinux), at its link addresses. */
  protected async _modules(): Promise<LoadedModule[]> {
    const kernel = this.spec?.options.kernelFilename;
    if (typeof kernel !== 'string') return [];
    const image = readImage(kernel, this.spec?.common.debugfileRootPrefix ? path.join(this.spec.common.debugfileRootPrefix, kernel) : kernel);
    if (!image) throw new XenError('ERR_XEN_KERNEL', `-K ${kernel}: not a readable ELF file`);
    return [imageModule(image, 0n, true)];
  }

  protected async _detach(): Promise<void> {
    const { lib, session, domid } = this.xen;
    if (!this.pausedBefore && this.status !== 'running') lib.unpause(session, domid);
  }

  protected async _close(): Promise<void> {
    this.session = undefined;
    this.lib = undefined;
  }
}
