import fs from 'node:fs';
import path from 'node:path';
import {
  NotSupportedError,
  ProbeError,
  RegisterSet,
  Target,
  TargetStateError,
  X86_64,
  modulesFromRegions,
  type AddressSpace,
  type EventInterest,
  type HwDebugSpec,
  type LoadedModule,
  type Region,
  type StopEvent,
  type TargetCapabilities,
  type TargetSpec,
  type ThreadInfo,
  parseProcMaps,
} from '@stackdb/core';
import type { ControlHost, ProcessControl } from './control.js';
import { validateHwSpec } from './debug-registers.js';
import { adoptProcess, attachProcess, launchProgram, reapWhenDone } from './open.js';
import { LazyFpRegisterSet, USER_FPREGS_SIZE, USER_REGS_SIZE, fpFromSet, gprFromSet, touchedGroups } from './registers.js';
import { launchPlan, requestFromSpec, type LaunchOptions, type PtraceRequest } from './request.js';

/** What a ptrace target can do (x86-64 Linux). */
export const PTRACE_CAPABILITIES: TargetCapabilities = Object.freeze({
  launch: true,
  readOnly: false,
  writeRegisters: true,
  execution: true,
  swBreakpoints: true,
  hwDebugSlots: 4,
  singleStep: true,
  threadEvents: true,
  processEvents: true,
  syscallEvents: true,
  physicalMemory: false,
  kill: true,
});

/** Options of {@link PtraceTarget}. */
export interface PtraceTargetOptions {
  /** Target id (`-i`); 1 by default. */
  readonly id?: number;
  /** Attach or launch. */
  readonly request: PtraceRequest;
  /** The spec it came from, when created through the registry. */
  readonly spec?: TargetSpec;
  /** `-s`: breakpoints are software only (hardware slots still serve watchpoints). */
  readonly softBreakpoints?: boolean;
  /** `-R`: where the target's files are found (a root prefix); /proc/PID/root by default. */
  readonly rootPrefix?: string;
}

/**
 * A Linux process on x86-64, debugged through ptrace(2): launched (stopped at
 * its first instruction) or attached (every thread), all-stop, with int3 and
 * debug-register breakpoints, watchpoints, single-step, thread, fork, exec and
 * system call events, and signal pass-through.
 */
export class PtraceTarget extends Target {
  private readonly softOnly: boolean;
  private readonly request: PtraceRequest;
  private readonly rootPrefix?: string;
  private ctl?: ProcessControl;
  private pidValue?: number;
  /** Breakpoints removed whose trap another thread may still report. */
  private readonly retired = new Set<bigint>();

  constructor(opts: PtraceTargetOptions) {
    super({ id: opts.id ?? opts.spec?.id ?? 1, driver: 'ptrace', arch: X86_64, capabilities: PTRACE_CAPABILITIES, ...(opts.spec ? { spec: opts.spec } : {}), memoryCacheLine: 1024 });
    this.request = opts.request;
    this.softOnly = opts.softBreakpoints ?? opts.spec?.common.softBreakpoints ?? false;
    const prefix = opts.rootPrefix ?? opts.spec?.common.debugfileRootPrefix;
    if (prefix !== undefined) this.rootPrefix = prefix;
    if (opts.request.kind !== 'launch') this.pidValue = opts.request.pid;
  }

  /** A target for a parsed spec (`-p`, `-b`, `--args`, `-e`, `-- PROGRAM`, `-I/-O/-E`, `-s`). */
  static fromSpec(spec: TargetSpec): PtraceTarget {
    return new PtraceTarget({ spec, request: requestFromSpec(spec) });
  }

  /** A target that attaches to process `pid` when opened. */
  static attach(pid: number, opts: Omit<PtraceTargetOptions, 'request'> = {}): PtraceTarget {
    return new PtraceTarget({ ...opts, request: { kind: 'attach', pid } });
  }

  /** A target that launches `argv` (searched in PATH) when opened. */
  static launch(argv: readonly string[], opts: Omit<PtraceTargetOptions, 'request'> & LaunchOptions = {}): PtraceTarget {
    return new PtraceTarget({ ...opts, request: { kind: 'launch', plan: launchPlan(argv, opts) } });
  }

  /** `-s` (or the `softBreakpoints` option): hardware execute breakpoints are refused. */
  override get softBreakpoints(): boolean {
    return this.softOnly;
  }

  /** The process id, once known. */
  get pid(): number | undefined {
    return this.pidValue;
  }

  get name(): string {
    return `ptrace(${this.pidValue ?? '?'})`;
  }

  private get control(): ProcessControl {
    if (!this.ctl) throw new TargetStateError(`${this.name} is not open`);
    return this.ctl;
  }

  // ---------------------------------------------------------- lifecycle

  protected async _open(): Promise<void> {
    const interests = (): ReadonlySet<EventInterest> => this.eventInterests;
    const host: ControlHost = {
      isBreakpoint: (a) => this.swBreakpoints.has(a),
      isRetired: (a) => this.retired.has(a),
      breakpoints: () => this.swBreakpoints.entries(),
      get interests() {
        return interests();
      },
      onExec: () => this.retired.clear(),
      followForks: () => this.forkPolicy.follow,
    };
    const r = this.request;
    this.ctl = r.kind === 'attach' ? await attachProcess(r.pid, host) : r.kind === 'adopt' ? await adoptProcess(r.pid, host) : await launchProgram(r.plan, host);
    this.pidValue = this.ctl.pid;
  }

  /** Detaches; from its start, a concurrent monitor loop can no longer resume the target. */
  override async detach(): Promise<void> {
    this.ctl?.beginClosing();
    await super.detach();
  }

  protected _pause(): Promise<StopEvent[]> {
    return this.control.pause();
  }

  protected async _resume(signals: ReadonlyMap<number, number>): Promise<void> {
    this.control.resume(signals);
  }

  protected _wait(signal?: AbortSignal): Promise<StopEvent[]> {
    return this.control.wait(signal);
  }

  protected _poll(): Promise<StopEvent[]> {
    return this.control.poll();
  }

  protected override _step(tid: number): Promise<StopEvent[]> {
    return this.control.step(tid);
  }

  protected override async _configureEvents(interests: ReadonlySet<EventInterest>): Promise<void> {
    this.ctl?.configure(interests);
  }

  /** A followed fork child becomes a ptrace target of its own (id: its pid), with this target's options. */
  protected override async _adoptChild(pid: number): Promise<PtraceTarget> {
    return new PtraceTarget({ id: pid, request: { kind: 'adopt', pid }, softBreakpoints: this.softOnly, ...(this.rootPrefix !== undefined ? { rootPrefix: this.rootPrefix } : {}) });
  }

  protected async _detach(): Promise<void> {
    const ctl = this.control;
    await ctl.detach();
    ctl.close();
    if (this.request.kind === 'launch') reapWhenDone(ctl.pid);
  }

  protected override async _kill(): Promise<void> {
    await this.control.kill();
  }

  protected async _close(): Promise<void> {
    this.ctl?.close();
  }

  protected override _cleanupSync(): void {
    this.ctl?.cleanupSync(this.swBreakpoints.entries(), (a) => this.retired.has(a));
  }

  // ------------------------------------------------------------- memory

  protected async _read(space: AddressSpace, address: bigint, buf: Uint8Array): Promise<number> {
    if (space.kind !== 'virtual') throw new NotSupportedError(`the ${space.name} address space`, this.driver);
    return this.control.read(address, buf);
  }

  protected override async _write(space: AddressSpace, address: bigint, data: Uint8Array): Promise<number> {
    if (space.kind !== 'virtual') throw new NotSupportedError(`the ${space.name} address space`, this.driver);
    return this.control.write(address, data);
  }

  override async _insertSwBreakpoint(address: bigint): Promise<Uint8Array> {
    const orig = await super._insertSwBreakpoint(address);
    this.retired.delete(address);
    return orig;
  }

  /** After a step over it: the trap byte goes back (the original is known, no read needed). */
  override async _reinsertSwBreakpoint(address: bigint): Promise<void> {
    const insn = this.arch.breakpointInstruction;
    const w = this.control.write(address, insn);
    if (w < insn.length) throw new TargetStateError(`cannot put the breakpoint at 0x${address.toString(16)} back`);
    this.retired.delete(address);
  }

  override async _removeSwBreakpoint(address: bigint, original: Uint8Array): Promise<void> {
    await super._removeSwBreakpoint(address, original);
    // A thread may have executed the trap before the removal and report it later.
    if (original[0] !== 0xcc) this.retired.add(address);
  }

  // ------------------------------------------------------------ threads

  protected async _listThreads(): Promise<ThreadInfo[]> {
    if (!this.ctl) return [];
    const pid = this.ctl.pid;
    return this.ctl.threadList().map((t) => {
      let name: string | undefined;
      try {
        name = fs.readFileSync(`/proc/${pid}/task/${t.tid}/comm`, 'utf8').trimEnd();
      } catch {
        name = undefined;
      }
      return {
        tid: t.tid,
        ...(name !== undefined ? { name } : {}),
        state: t.stopped ? 'stopped' : 'running',
        pid,
        ...(t.parentTid !== undefined ? { ptid: t.parentTid } : {}),
      };
    });
  }

  async _getRegisters(tid: number): Promise<RegisterSet> {
    const { gpr, dr } = this.control.generalRegisters(tid);
    return new LazyFpRegisterSet(this.arch, gpr, dr, () => this.control.registers(tid).fp);
  }

  override async _setRegisters(tid: number, regs: RegisterSet, changed: readonly string[]): Promise<void> {
    const groups = touchedGroups(changed);
    const cur = this.control.registers(tid);
    const images: { gpr?: Uint8Array; fp?: Uint8Array; dr?: Map<number, bigint> } = {};
    if (groups.gpr) {
      images.gpr = Uint8Array.from(cur.gpr.subarray(0, USER_REGS_SIZE));
      gprFromSet(regs, images.gpr);
    }
    if (groups.fp) {
      images.fp = Uint8Array.from(cur.fp.subarray(0, USER_FPREGS_SIZE));
      fpFromSet(regs, images.fp);
    }
    if (groups.dr.length) images.dr = new Map(groups.dr.map((i) => [i, regs.require(`dr${i}`)]));
    this.control.setRegisters(tid, images);
  }

  override async _setHwDebug(slot: number, spec: HwDebugSpec | null, tid?: number): Promise<void> {
    if (spec) {
      const bad = validateHwSpec(spec);
      if (bad) throw new ProbeError('ERR_HW_DEBUG', `cannot program debug register ${slot}: ${bad}`);
      if (spec.access === 'exec' && this.softBreakpoints) {
        throw new ProbeError('ERR_SOFT_BREAKPOINTS', `hardware breakpoints are disabled by -s (--soft-breakpoints); use a software breakpoint`);
      }
    }
    this.control.setHwDebug(slot, spec, tid);
  }

  // ------------------------------------------------- regions and modules

  protected async _regions(space: AddressSpace): Promise<Region[]> {
    if (space.kind !== 'virtual') throw new NotSupportedError(`the ${space.name} address space`, this.driver);
    return parseProcMaps(fs.readFileSync(`/proc/${this.control.pid}/maps`, 'latin1'));
  }

  protected async _modules(): Promise<LoadedModule[]> {
    const pid = this.control.pid;
    const regions = await this._regions(this.defaultSpace);
    let mainPath: string | undefined;
    try {
      mainPath = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
      mainPath = undefined;
    }
    const firstMapping = new Map<string, Region>();
    for (const r of regions) if (r.path && !firstMapping.has(r.path)) firstMapping.set(r.path, r);
    const openPath = (p: string): string => {
      // A file deleted since it was mapped is still reachable through map_files.
      if (p.endsWith(' (deleted)')) {
        const r = firstMapping.get(p)!;
        return `/proc/${pid}/map_files/${r.start.toString(16)}-${r.end.toString(16)}`;
      }
      return this.rootPrefix !== undefined ? path.join(this.rootPrefix, p) : `/proc/${pid}/root${p}`;
    };
    return modulesFromRegions(regions, mainPath === undefined ? { openPath } : { mainPath, openPath });
  }
}
