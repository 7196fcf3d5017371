import type { BaseDriverModule } from '@stackdb/core';
import { XenTarget } from './xen-target.js';

/** The registry's entry point: a {@link XenTarget} for `-t xen -m DOMAIN`. The addon is loaded when the target opens. */
export const driver: BaseDriverModule = {
  async createTarget(spec) {
    return new XenTarget(spec);
  },
};
