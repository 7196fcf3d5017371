import path from 'node:path';
import { MemoryError, PassiveTarget, X86_64, passiveCapabilities } from '@stackdb/core';
import type { AddressSpace, TargetSpec } from '@stackdb/core';
import type { CoreFile } from './core-file.js';
import { CoreMemoryError, type CoreFileError, type UnreadableReason } from './errors.js';

/** The driver name. */
export const DRIVER_NAME = 'elfcore';

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
export abstract class ElfCoreTarget extends PassiveTarget {
  readonly core: CoreFile;
  protected readonly passiveReason = 'a core file never runs';

  constructor(init: ElfCoreTargetInit, physicalMemory: boolean) {
    super({
      id: init.id,
      driver: DRIVER_NAME,
      arch: X86_64,
      capabilities: passiveCapabilities({ readOnly: true, physicalMemory }),
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
}
