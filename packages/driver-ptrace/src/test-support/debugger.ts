/*
 * A separate debugger process for the cleanup tests:
 *   node --import tsx debugger.ts PID BREAKPOINT_LINK_ADDR WATCH_LINK_ADDR MODE
 * attaches to PID, inserts a software breakpoint and a hardware write
 * watchpoint (link-time addresses plus the main program's bias), prints
 * "ready" after a few hits, then either waits to be killed (MODE=signal) or
 * calls process.exit() while the target runs (MODE=exit).
 */
import { registerForCleanup } from '@stackdb/core';
import { PtraceTarget } from '../index.js';

const [pid, bp, watch, mode] = process.argv.slice(2);
const target = PtraceTarget.attach(Number(pid));
registerForCleanup(target);
await target.open();
const bias = (await target.modules()).find((m) => m.main)!.bias;
await target.swBreakpoints.insert(bias + BigInt(bp!));
await target.hwSlots.allocate({ address: bias + BigInt(watch!), access: 'write', length: 8 });
let hits = 0;
target.addStopHandler({
  async handleStop(_t, ev) {
    if (ev.kind === 'breakpoint' && ++hits === 3) {
      process.stdout.write('ready\n');
      if (mode === 'exit') {
        await target.resume();
        process.exit(0);
      }
    }
    return { consumed: true };
  },
});
await target.monitor();
