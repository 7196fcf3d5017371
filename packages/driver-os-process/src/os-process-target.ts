import { NotSupportedError, PassiveTarget, StackdbError, modulesFromRegions, passiveCapabilities } from '@stackdb/core';
import type { AddressSpace, LoadedModule, OsModel, OsTask, Region, RegisterSet, Target, TargetSpec, Thread, ThreadInfo } from '@stackdb/core';
import path from 'node:path';

/** The driver name. */
export const DRIVER_NAME = 'os-process';

/** Memory cache line: user stacks and structures are read in small pieces through page walks. */
const CACHE_LINE = 1024;

/** The base target has no OS personality, or the process cannot be modelled. */
export class OsProcessError extends StackdbError {
  constructor(message: string) {
    super('ERR_OS_PROCESS', `os-process: ${message}`);
  }
}

/**
 * One process inside an OS target, seen through the base's OS personality:
 * its threads (the tasks of its thread group) with their user registers, its
 * memory through its own page tables, its VMAs as regions, and the files
 * mapped there as modules (found under `-R`). Reads only: the base's stop is
 * the overlay's.
 */
export class OsProcessTarget extends PassiveTarget {
  protected readonly passiveReason = 'a process of an OS target runs and stops with its base target';
  private readonly model: OsModel;
  private readonly pid: number;
  private readonly rootPrefix?: string;
  private leader?: OsTask;
  private space?: AddressSpace;

  constructor(base: Target, thread: Thread, spec: TargetSpec) {
    super({ id: spec.id, driver: DRIVER_NAME, arch: base.arch, capabilities: passiveCapabilities({ readOnly: base.capabilities.readOnly, physicalMemory: false }), memoryCacheLine: CACHE_LINE, spec, base });
    if (!base.os) throw new OsProcessError(`${base.name} has no OS personality (give the base --personality linux)`);
    this.model = base.os;
    this.pid = thread.info.pid ?? thread.tid;
    if (spec.common.debugfileRootPrefix) this.rootPrefix = spec.common.debugfileRootPrefix;
    // The base's stops are the process's: what was read at one stop is stale at the next.
    base.on('state-change', () => this.invalidate());
  }

  get name(): string {
    return `${DRIVER_NAME}(${this.pid}${this.leader ? ` ${this.leader.name}` : ''})`;
  }

  override get defaultSpace(): AddressSpace {
    return this.space ?? super.defaultSpace;
  }

  override async spaces(): Promise<AddressSpace[]> {
    return [this.defaultSpace];
  }

  protected async _open(): Promise<void> {
    const leader = (await this.model.tasks()).find((t) => t.tid === this.pid);
    if (!leader) throw new OsProcessError(`${this.base!.name} has no process ${this.pid}`);
    if (leader.kernelThread) throw new OsProcessError(`task ${this.pid} (${leader.name}) is a kernel thread: it has no user process to debug`);
    this.leader = leader;
    this.space = await this.model.addressSpace(leader);
  }

  private async tasks(): Promise<OsTask[]> {
    return (await this.model.tasks()).filter((t) => t.pid === this.pid);
  }

  private async task(tid: number): Promise<OsTask> {
    const t = (await this.tasks()).find((x) => x.tid === tid);
    if (!t) throw new OsProcessError(`process ${this.pid} has no thread ${tid}`);
    return t;
  }

  protected async _listThreads(): Promise<ThreadInfo[]> {
    return (await this.tasks()).map((t) => ({
      tid: t.tid,
      name: t.name,
      state: t.runningOn === undefined ? 'sleeping' : 'running',
      context: 'user' as const,
      pid: t.pid,
      ...(t.ppid !== undefined ? { ptid: t.ppid } : {}),
    }));
  }

  async _getRegisters(tid: number): Promise<RegisterSet> {
    return this.model.registers(await this.task(tid), 'user');
  }

  protected _read(space: AddressSpace, address: bigint, buf: Uint8Array): Promise<number> {
    if (space.kind !== 'virtual') return Promise.reject(new NotSupportedError('physical memory (read it through the base target)', this.driver));
    return this.base!.readInto(address, buf, { space: this.space ?? space });
  }

  protected async _regions(): Promise<Region[]> {
    return this.model.regions(this.leader!);
  }

  /** The mapped ELF files; the lowest one is taken for the program itself. */
  protected async _modules(): Promise<LoadedModule[]> {
    const regions = await this._regions();
    const main = regions.find((r) => r.path?.startsWith('/'))?.path;
    return modulesFromRegions(regions, { ...(main ? { mainPath: main } : {}), openPath: (p) => (this.rootPrefix ? path.join(this.rootPrefix, p) : p) });
  }

  protected _close(): Promise<void> {
    return Promise.resolve();
  }
}
