import { ProbeManager } from '@stackdb/core';
import type { ToolContext } from '../tool.js';
import { hex, runReturnChecks, symbolic } from './return-checks.js';

/*
 * cfi_check: control-flow integrity by a shadow stack. At the entry of each
 * named function the return address its caller pushed is remembered, per
 * thread, with the stack slot that holds it; at each of its returns the slot
 * (the stack pointer then) finds that entry and the address about to be
 * returned to must be the one remembered. A return address overwritten while
 * the function ran is a violation even when it leads to another call site,
 * which rop_checkret cannot see. Entries deeper than the returning frame
 * were left without returning (longjmp, exceptions) and are dropped.
 */

/** A call in progress: the slot of its return address and the address. */
interface ShadowEntry {
  readonly slot: bigint;
  readonly ret: bigint;
  readonly function: string;
}

/** `stackdb cfi_check`: check every return of the given functions against the address their call pushed. */
export function run(ctx: ToolContext): Promise<number> {
  return runReturnChecks(ctx, async (s, fns, report) => {
    const shadow = new Map<number, ShadowEntry[]>();
    const manager = ProbeManager.for(s.target);
    for (const fn of fns) {
      await manager.breakpoint(fn.symbol.start, {
        pre: async (hit) => {
          const slot = await hit.thread.sp();
          const stack = shadow.get(hit.thread.tid) ?? [];
          stack.push({ slot, ret: await s.target.readPointer(slot), function: fn.name });
          shadow.set(hit.thread.tid, stack);
        },
      }, { name: `entry:${fn.name}` });
      await manager.breakpoints(fn.returns, {
        pre: async (hit) => {
          const slot = await hit.thread.sp();
          const stack = shadow.get(hit.thread.tid) ?? [];
          // Calls still open deeper than this frame (lower slots) were abandoned.
          while (stack.length && stack.at(-1)!.slot < slot) stack.pop();
          const entry = stack.at(-1)?.slot === slot ? stack.pop() : undefined;
          if (!entry) return undefined;
          const to = await s.target.readPointer(slot);
          const valid = to === entry.ret;
          const dest = await symbolic(s, to);
          const expected = await symbolic(s, entry.ret);
          return report({
            valid,
            text: valid
              ? `ok: ${fn.name} returned to ${hex(to)} (${dest}) as called (thread ${hit.thread.tid})`
              : `CFI violation: ${fn.name} returned to ${hex(to)} (${dest}), but its call was to return to ${hex(entry.ret)} (${expected}) (thread ${hit.thread.tid})`,
            json: { function: fn.name, ret: hex(hit.address), to: hex(to), toSymbol: dest, expected: hex(entry.ret), expectedSymbol: expected, valid, thread: hit.thread.tid },
          });
        },
      }, { name: `ret:${fn.name}` });
    }
  });
}
