import type { Personality } from '@stackdb/core';
import { LinuxOs } from './linux-os.js';

/** The Linux OS personality (`--personality linux`). */
export const personality: Personality = {
  name: 'linux',
  attach: (target, options) => LinuxOs.attach(target, options),
};
