import { RegisterSet } from '../../arch/register-set.js';
import type { Frame, StepResult } from '../frame.js';
import type { FrameStepper, WalkContext } from '../stepper.js';

const MAX_WORDS = 2048;

/** Whether the bytes before `ra` end with a call instruction (direct or indirect). */
function endsWithCall(before: Uint8Array): boolean {
  const n = before.length;
  if (n >= 5 && before[n - 5] === 0xe8) return true;
  // ff /2 (call r/m64): 2 to 7 bytes with ModRM reg field 2, optionally a REX prefix.
  for (const len of [2, 3, 4, 6, 7]) {
    if (n < len) continue;
    const op = before[n - len]!;
    const modrm = before[n - len + 1]!;
    if (op === 0xff && ((modrm >> 3) & 7) === 2) return true;
    if (len >= 3 && (op & 0xf0) === 0x40 && before[n - len + 1] === 0xff && ((before[n - len + 2]! >> 3) & 7) === 2) return true;
  }
  return false;
}

/**
 * Last resort: scans the stack upward from the frame for a word that looks like
 * a return address (it points into executable memory just after a call). Frames
 * it finds are marked as coming from this heuristic.
 */
export class HeuristicScanStepper implements FrameStepper {
  readonly name = 'scan (heuristic)';
  readonly priority = 900;

  async getCallerFrame(frame: Frame, ctx: WalkContext): Promise<StepResult> {
    const target = ctx.target;
    const start = frame.cfa ?? frame.sp;
    const words = new Uint8Array(MAX_WORDS * 8);
    const n = Math.floor((await target.readInto(start, words).catch(() => 0)) / 8);
    const dv = new DataView(words.buffer);
    for (let i = 0; i < n; i++) {
      const ra = dv.getBigUint64(i * 8, true);
      if (ra < 16n) continue;
      if (!(await ctx.executableRegionAt(ra))) continue;
      const before = new Uint8Array(8);
      if ((await target.readInto(ra - 8n, before).catch(() => 0)) < 8 || !endsWithCall(before)) continue;
      const slot = start + BigInt(i * 8);
      const regs = new RegisterSet(frame.registers.arch);
      regs.set('rip', ra);
      regs.set('rsp', slot + 8n);
      return { status: 'success', registers: regs, cfa: slot + 8n, returnAddress: { kind: 'memory', address: slot } };
    }
    return { status: 'error', message: 'no return address found on the stack' };
  }
}
