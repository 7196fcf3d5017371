import path from 'node:path';
import { MemoryError, NotSupportedError, Target, X86_64 } from '@stackdb/core';
import type { AddressSpace, StopEvent, TargetCapabilities, TargetSpec } from '@stackdb/core';
import type { CoreFile } from './core-file.js';
import { CoreMemoryError, type CoreFileError, type UnreadableReason } from './errors.js';

/** The driver name. */
export const DRIVER_NAME = 'elfcore';

/** What every core-file target can do: read, and nothing that needs a live target. */
export function coreCapabilities(physicalMemory: boolean): TargetCapabilities {
  return {
    launch: false,
    readOnly: true,
    writeRegisters: false,
    execution: false,
    swBreakpoints: false,
    hwDebugSlots: 0,
    singleStep: false,
    threadEvents: false,
    processEvents: false,
    syscallEvents: false,
    physicalMemory,
    kill: false,
  };
}

/** Constructor arguments of core-file targets. */
export interface ElfCoreTargetInit {
  readonly id: number;
  readonly core: CoreFile;
  readonly spec?: TargetSpec;
}

/** Memory cache line: stacks and structures are read in small pieces, a file read each otherwise. */
const CACHE_LINE = 1024;

/**
 * What process cores and VM dumps share: a read-only target over an opened
 * {@link CoreFile}. Core refuses writes, resumes and register writes from the
 * capability manifest; the hooks that would need a live target refuse too.
 * Failed reads say why the dump cannot give the byte ({@link CoreMemoryError}).
 */
export abstract class ElfCoreTarget extends Target {
  readonly core: CoreFile;

  constructor(init: ElfCoreTargetInit, physicalMemory: boolean) {
    super({
      id: init.id,
      driver: DRIVER_NAME,
      arch: X86_64,
      capabilities: coreCapabilities(physicalMemory),
      memoryCacheLine: CACHE_LINE,
      ...(init.spec ? { spec: init.spec } : {}),
    });
    this.core = init.core;
  }

  get name(): string {
    return `${DRIVER_NAME}(${path.basename(this.core.path)})`;
  }

  /** Damage found in the core and the files it refers to, each naming what is missing. */
  get problems(): readonly CoreFileError[] {
    return this.core.problems;
  }

  /**
   * Like {@link Target.read}, but a failure is a {@link CoreMemoryError} (still
   * `ERR_MEMORY`) saying why the dump lacks the first unreadable byte.
   */
  override async read(address: bigint, length: number, opts: { space?: AddressSpace } = {}): Promise<Uint8Array> {
    try {
      return await super.read(address, length, opts);
    } catch (err) {
      if (!(err instanceof MemoryError) || err instanceof CoreMemoryError) throw err;
      const why = await this.explain(opts.space ?? this.defaultSpace, err.address);
      throw new CoreMemoryError(err.address, err.transferred, why.reason, why.detail);
    }
  }

  /** Why the dump cannot give the byte at `address` of `space`. */
  protected abstract explain(space: AddressSpace, address: bigint): Promise<{ reason: UnreadableReason; detail: string }>;

  protected _pause(): Promise<StopEvent[]> {
    return Promise.reject(new NotSupportedError('pausing (a core file never runs)', this.driver));
  }

  protected _resume(): Promise<void> {
    return Promise.reject(new NotSupportedError('resuming a core file', this.driver));
  }

  protected _wait(): Promise<StopEvent[]> {
    return Promise.reject(new NotSupportedError('waiting for a core file to stop', this.driver));
  }

  protected _poll(): Promise<StopEvent[]> {
    return Promise.resolve([]);
  }

  override _insertSwBreakpoint(): Promise<Uint8Array> {
    return Promise.reject(new NotSupportedError('placing breakpoints and probes in a core file', this.driver));
  }

  protected _detach(): Promise<void> {
    return Promise.resolve();
  }
}
