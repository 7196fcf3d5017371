import { UsageError } from '@stackdb/core';
import type { BaseDriverModule, TargetSpec } from '@stackdb/core';
import { createCoreTarget } from './create.js';

/**
 * The elfcore base driver, as the registry loads it: `--core FILE` selects it,
 * `--core-exe FILE` (or `-M FILE` once it is selected) names the main binary,
 * `-R DIR` prefixes the files the core names.
 */
export const driver: BaseDriverModule = {
  async createTarget(spec: TargetSpec) {
    const core = spec.options.core;
    if (typeof core !== 'string') throw new UsageError('the elfcore driver needs --core FILE');
    const exe = spec.options.coreExe;
    return createCoreTarget(core, {
      id: spec.id,
      spec,
      ...(typeof exe === 'string' ? { exe } : {}),
      ...(spec.common.debugfileRootPrefix ? { rootPrefix: spec.common.debugfileRootPrefix } : {}),
    });
  },
};
