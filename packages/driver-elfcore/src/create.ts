import type { TargetSpec } from '@stackdb/core';
import { CoreFile } from './core-file.js';
import type { ElfCoreTarget } from './elfcore-target.js';
import { ProcessCoreTarget } from './process/process-core-target.js';
import { VmCoreTarget } from './vm/vm-core-target.js';

/** Options for {@link createCoreTarget}. */
export interface CoreTargetOptions {
  /** Target id (`-i`); 1 by default. */
  readonly id?: number;
  /** The main binary (`--core-exe`): a program for a process core, a vmlinux for a VM dump. */
  readonly exe?: string;
  /** `-R`: prefix for the files the core names. */
  readonly rootPrefix?: string;
  /** The spec the target came from, when it came from options. */
  readonly spec?: TargetSpec;
}

/**
 * Opens a core file's headers and creates the target that fits it: a
 * {@link VmCoreTarget} for a machine dump (QEMU notes or VMCOREINFO), else a
 * {@link ProcessCoreTarget}. The target is created, not opened: call `open()`
 * (as for every target).
 */
export async function createCoreTarget(corePath: string, opts: CoreTargetOptions = {}): Promise<ElfCoreTarget> {
  const core = await CoreFile.open(corePath);
  const init = {
    id: opts.id ?? 1,
    core,
    ...(opts.spec ? { spec: opts.spec } : {}),
    ...(opts.exe ? { exe: opts.exe } : {}),
    ...(opts.rootPrefix ? { rootPrefix: opts.rootPrefix } : {}),
  };
  return core.kind === 'vm' ? new VmCoreTarget(init) : new ProcessCoreTarget(init);
}
