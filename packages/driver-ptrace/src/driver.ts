import type { BaseDriverModule } from '@stackdb/core';
import { PtraceTarget } from './target.js';

/**
 * The registry's entry point (`"entry": "./dist/driver.js"` in package.json):
 * creates a {@link PtraceTarget} from parsed options. The addon is loaded only
 * when the target is opened.
 */
export const driver: BaseDriverModule = {
  async createTarget(spec) {
    return PtraceTarget.fromSpec(spec);
  },
};
