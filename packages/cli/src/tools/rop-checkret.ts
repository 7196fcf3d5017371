import { ProbeManager } from '@stackdb/core';
import { followsCall } from '../code-scan.js';
import type { ToolContext } from '../tool.js';
import { hex, runReturnChecks, symbolic } from './return-checks.js';

/*
 * rop_checkret: a return-oriented-programming detector. Every return
 * instruction of the named functions is probed; at each, before it executes,
 * the address it will return to is read from the stack and must follow a
 * call instruction, as every address a call pushed does. One that does not
 * (a return into a function's entry, or into the middle of code, as a ROP
 * chain makes) is a violation.
 */

/** `stackdb rop_checkret`: check that every return of the given functions goes back to a call site. */
export function run(ctx: ToolContext): Promise<number> {
  return runReturnChecks(ctx, async (s, fns, report) => {
    const manager = ProbeManager.for(s.target);
    for (const fn of fns) {
      await manager.breakpoints(fn.returns, {
        pre: async (hit) => {
          const to = await s.target.readPointer(await hit.thread.sp());
          const valid = await followsCall(s.target, to);
          const from = await symbolic(s, hit.address);
          const dest = await symbolic(s, to);
          return report({
            valid,
            text: `${valid ? 'ok' : 'ROP violation'}: ${fn.name} returned from ${hex(hit.address)} (${from}) to ${hex(to)} (${dest})${valid ? '' : ', which follows no call'} (thread ${hit.thread.tid})`,
            json: { function: fn.name, ret: hex(hit.address), retSymbol: from, to: hex(to), toSymbol: dest, valid, thread: hit.thread.tid },
          });
        },
      }, { name: `ret:${fn.name}` });
    }
  });
}
