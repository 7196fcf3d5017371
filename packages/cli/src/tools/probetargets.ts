import type { ToolContext } from '../tool.js';
import { probeSpecs } from './dumptarget.js';

/**
 * `stackdb probetargets`: dumptarget for several targets at once (`--base`,
 * `--overlay`), each probe addressed to a target by its id (`ID:SYMBOL`),
 * all monitored together.
 */
export function run(ctx: ToolContext): Promise<number> {
  return probeSpecs(ctx, true, 'give [ID:]SYMBOL arguments');
}
