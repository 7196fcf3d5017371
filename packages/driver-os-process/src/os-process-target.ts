import { NotSupportedError, StackdbError, Target, modulesFromRegions, passiveCapabilities } from '@stackdb/core';
import type { AddressSpace, LoadedModule, OsModel, OsTask, Region, RegisterSet, StopEvent, TargetCapabilities, TargetSpec, Thread, ThreadInfo } from '@stackdb/core';
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

/** What the process can do: what its base can, as far as breakpoints go (no hardware slots, no events of its own). */
function capabilitiesOver(base: Target): TargetCapabilities {
  const passive = passiveCapabilities({ readOnly: base.capabilities.readOnly, physicalMemory: false });
  const active = base.capabilities.execution && base.capabilities.swBreakpoints;
  return active ? { ...passive, execution: true, swBreakpoints: true, singleStep: base.capabilities.singleStep } : passive;
}

/**
 * One process inside an OS target, seen through the base's OS personality:
 * its threads (the tasks of its thread group) with their user registers, its
 * memory through its own page tables, its VMAs as regions, and the files
 * mapped there as modules (found under `-R`).
 *
 * On a live base (a VM through its stub) it runs and stops with the base, and
 * takes probes of its own: a breakpoint is the base's (QEMU's `Z0` fires at a
 * virtual address on every vCPU, whatever runs there), and a stop on it is the
 * process's only when the vCPU that hit it runs one of its tasks; any other
 * process passing there is stepped over and let go. A dump base gives a
 * process that can only be read.
 */
export class OsProcessTarget extends Target {
  private readonly model: OsModel;
  private readonly pid: number;
  private readonly rootPrefix?: string;
  private leader?: OsTask;
  private space?: AddressSpace;

  constructor(base: Target, thread: Thread, spec: TargetSpec) {
    super({ id: spec.id, driver: DRIVER_NAME, arch: base.arch, capabilities: capabilitiesOver(base), memoryCacheLine: CACHE_LINE, spec, base });
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

  private get below(): Target {
    return this.base!;
  }

  private refuse<T>(what: string): Promise<T> {
    return Promise.reject(new NotSupportedError(`${what} (a process of ${this.below.name}, which does not run)`, this.driver));
  }

  protected async _open(): Promise<void> {
    const leader = (await this.model.tasks()).find((t) => t.tid === this.pid);
    if (!leader) throw new OsProcessError(`${this.below.name} has no process ${this.pid}`);
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

  /** The base's thread (a vCPU) a task of the process runs on now. */
  private async cpuThreadOf(tid: number): Promise<number> {
    for (const th of await this.below.threads()) if ((await this.model.taskOn(th.tid))?.tid === tid) return th.tid;
    throw new OsProcessError(`thread ${tid} of process ${this.pid} runs on no CPU now`);
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
    return this.below.readInto(address, buf, { space: this.space ?? space });
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

  // ------------------------------------------------------- running with the base

  protected async _pause(): Promise<StopEvent[]> {
    if (!this.capabilities.execution) return this.refuse('pausing');
    await this.below.pause();
    return [];
  }

  protected async _resume(): Promise<void> {
    if (!this.capabilities.execution) return this.refuse('resuming');
    await this.below.resume();
  }

  /**
   * Waits on the base (whose own probes are handled there) until a vCPU stops
   * on one of this process's breakpoints while running one of its tasks; other
   * stops there belong to other processes and are let go. The base's exit, or
   * a base probe asking to stop, ends the wait too.
   */
  protected async _wait(signal?: AbortSignal): Promise<StopEvent[]> {
    if (!this.capabilities.execution) return this.refuse('waiting for a stop');
    for (;;) {
      const { events, decision } = await this.below.wait(signal ? { signal } : {});
      const ours: StopEvent[] = [];
      for (const ev of events) {
        if (ev.kind === 'exited') return [ev];
        if (ev.kind !== 'breakpoint' || !this.swBreakpoints.has(ev.address)) continue;
        const task = await this.model.taskOn(ev.tid);
        if (task?.pid === this.pid) ours.push({ kind: 'breakpoint', tid: task.tid, address: ev.address });
      }
      if (ours.length) return ours;
      if (decision === 'stop') return [{ kind: 'interrupted' }];
      await this.below.resume();
    }
  }

  protected async _poll(): Promise<StopEvent[]> {
    return [];
  }

  /** A single step of a task: the step of the vCPU it runs on. */
  protected override async _step(tid: number): Promise<StopEvent[]> {
    const cpu = await this.cpuThreadOf(tid);
    const events = await this.below.step(cpu);
    this.model.forget();
    return events.map((ev) => (ev.kind === 'step' && ev.tid === cpu ? { kind: 'step' as const, tid } : ev)).filter((ev) => ev.kind === 'step' || ev.kind === 'exited');
  }

  /** The base's breakpoint at the process's address; the original byte as the process sees it. */
  override async _insertSwBreakpoint(address: bigint): Promise<Uint8Array> {
    if (!this.capabilities.swBreakpoints) return this.refuse('placing breakpoints and probes');
    const original = await this.read(address, 1);
    await this.below.swBreakpoints.insert(address);
    return original;
  }

  override async _reinsertSwBreakpoint(address: bigint): Promise<void> {
    await this.below.swBreakpoints.insert(address);
  }

  override async _removeSwBreakpoint(address: bigint): Promise<void> {
    await this.below.swBreakpoints.remove(address);
  }

  protected _detach(): Promise<void> {
    return Promise.resolve();
  }

  protected _close(): Promise<void> {
    return Promise.resolve();
  }
}
