import { UsageError } from '@stackdb/core';
import { closeSession, openSession } from '../session.js';
import type { ToolContext } from '../tool.js';
import { requestsFor, runProbes } from './dumptarget.js';

/**
 * `stackdb probetargets`: dumptarget for several targets at once (`--base`,
 * `--overlay`), each probe addressed to a target by its id (`ID:SYMBOL`),
 * all monitored together.
 */
export async function run(ctx: ToolContext): Promise<number> {
  const specs = ctx.args.positionals;
  if (!specs.length) throw new UsageError('nothing to probe: give [ID:]SYMBOL arguments');
  const session = await openSession(ctx);
  try {
    return await runProbes(ctx, session, requestsFor(session, specs, true));
  } finally {
    await closeSession(session, ctx.args.tool);
  }
}
