import { PassiveTarget, ProgramSymbols, passiveCapabilities } from '@stackdb/core';
import type { AddressSpace, LoadedModule, Probe, ProbeOptions, Region, RegisterSet, ScriptBacktrace, ScriptCallHandler, ScriptRuntime, Target, TargetSpec, Thread, ThreadInfo } from '@stackdb/core';
import { PhpError } from './errors.js';
import { phpFunctionProbe } from './function-probe.js';
import { phpFrames } from './zend-stack.js';
import { loadZendTypes } from './zend-types.js';
import { ZendMemory } from './zend-values.js';

/** The driver name. */
export const DRIVER_NAME = 'php';

/**
 * The PHP program a process target runs (ptrace, or os-process inside a VM),
 * seen through the Zend engine's own structures: its stack of PHP frames with
 * their arguments. Threads, registers and memory are the process's; it runs
 * and stops with it.
 */
export class PhpTarget extends PassiveTarget implements ScriptRuntime {
  readonly language = 'PHP';
  protected readonly passiveReason = 'a PHP program runs and stops with its process target';
  private readonly phpConfig: string;
  private engine?: { mem: ZendMemory; executorGlobals: bigint };

  constructor(base: Target, _thread: Thread, spec: TargetSpec) {
    super({ id: spec.id, driver: DRIVER_NAME, arch: base.arch, capabilities: passiveCapabilities({ readOnly: true, physicalMemory: false }), spec, base });
    this.phpConfig = typeof spec.options.phpConfig === 'string' ? spec.options.phpConfig : 'php-config';
    // The process's stops are the program's: what was read at one stop is stale at the next.
    base.on('state-change', () => this.invalidate());
  }

  get name(): string {
    return `${DRIVER_NAME}(${this.base!.name})`;
  }

  override get defaultSpace(): AddressSpace {
    return this.base!.defaultSpace;
  }

  override spaces(): Promise<AddressSpace[]> {
    return this.base!.spaces();
  }

  protected async _open(): Promise<void> {
    const program = ProgramSymbols.of(this.base!);
    const eg = (await program.lookupSymbol('executor_globals'))[0];
    if (!eg) {
      const zts = (await program.lookupSymbol('executor_globals_offset'))[0];
      throw new PhpError(zts ? `${this.base!.name} runs a thread-safe (ZTS) PHP, which is not supported` : `${this.base!.name} does not run PHP (no executor_globals in any of its modules)`);
    }
    const types = await loadZendTypes(program, eg.module, this.phpConfig);
    this.engine = { mem: new ZendMemory(this, types), executorGlobals: eg.start };
  }

  private get opened(): { mem: ZendMemory; executorGlobals: bigint } {
    if (!this.engine) throw new PhpError('the target is not open');
    return this.engine;
  }

  /** Probes the calls of a PHP function (`name`, or `Class::method`); see {@link phpFunctionProbe}. */
  probeFunction(spec: string, handler: ScriptCallHandler, opts: ProbeOptions = {}): Promise<Probe> {
    const { mem, executorGlobals } = this.opened;
    return phpFunctionProbe(this.base!, mem, executorGlobals, spec, handler, opts);
  }

  async scriptBacktrace(thread: Thread, opts: { readonly maxDepth?: number } = {}): Promise<ScriptBacktrace> {
    const { mem, executorGlobals } = this.opened;
    let regs: RegisterSet | undefined;
    try {
      regs = await (await this.base!.thread(thread.tid)).registers();
    } catch {
      regs = undefined;
    }
    try {
      const { frames, more } = await phpFrames(mem, executorGlobals, regs, opts.maxDepth ?? 4096);
      return { thread, language: this.language, frames, end: more ? 'depth-limit' : 'bottom' };
    } catch (e) {
      return { thread, language: this.language, frames: [], end: 'error', error: (e as Error).message };
    }
  }

  protected async _listThreads(): Promise<ThreadInfo[]> {
    return (await this.base!.threads()).map((t) => t.info);
  }

  async _getRegisters(tid: number): Promise<RegisterSet> {
    return (await this.base!.thread(tid)).registers();
  }

  protected _read(space: AddressSpace, address: bigint, buf: Uint8Array): Promise<number> {
    return this.base!.readInto(address, buf, { space });
  }

  protected _regions(space: AddressSpace): Promise<Region[]> {
    return this.base!.regions(space);
  }

  protected _modules(): Promise<LoadedModule[]> {
    return this.base!.modules();
  }

  protected _close(): Promise<void> {
    return Promise.resolve();
  }
}
