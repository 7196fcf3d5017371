import type { OverlayDriverModule } from '@stackdb/core';
import { OsProcessTarget } from './os-process-target.js';

/** The os-process overlay driver: `--overlay '[BASEID:]THREAD:-t os-process'` on a base with an OS personality. */
export const driver: OverlayDriverModule = {
  createOverlay: async (base, thread, spec) => new OsProcessTarget(base, thread, spec),
};
