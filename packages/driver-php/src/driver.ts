import type { OverlayDriverModule } from '@stackdb/core';
import { PhpTarget } from './php-target.js';

/** The php overlay driver: `--overlay 'PID:-t php'` on a process target running PHP. */
export const driver: OverlayDriverModule = {
  createOverlay: async (base, thread, spec) => new PhpTarget(base, thread, spec),
};
