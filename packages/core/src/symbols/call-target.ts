import type { Target } from '../target/target.js';
import type { Addr } from '../target/types.js';

/*
 * Which function a call instruction entered, read from the code itself: the
 * instruction just before a return address is a direct `call rel32` (e8) or a
 * call through a GOT slot (`call *disp32(%rip)`, ff 15); a direct call may
 * land on a PLT stub (`[endbr64] [bnd] jmp *disp32(%rip)`), whose GOT slot
 * holds the function the dynamic loader bound. A lazily bound slot that still
 * points back into the PLT gives no answer.
 */

/** Whether bytes at `at` start a PLT stub; returns the GOT slot address it jumps through. */
function pltSlot(code: Uint8Array, at: Addr): Addr | undefined {
  let i = 0;
  if (code[0] === 0xf3 && code[1] === 0x0f && code[2] === 0x1e && code[3] === 0xfa) i = 4;
  if (code[i] === 0xf2) i++;
  if (code[i] !== 0xff || code[i + 1] !== 0x25) return undefined;
  const disp = new DataView(code.buffer, code.byteOffset + i + 2, 4).getInt32(0, true);
  return at + BigInt(i + 6) + BigInt(disp);
}

async function bytesAt(target: Target, address: Addr, n: number): Promise<Uint8Array | undefined> {
  const buf = new Uint8Array(n);
  const got = await target.readInto(address, buf).catch(() => 0);
  return got === n ? buf : undefined;
}

/** The runtime address of the function a call returning to `returnPc` entered, when the code says it statically. */
export async function directCallTarget(target: Target, returnPc: Addr): Promise<Addr | undefined> {
  const before = await bytesAt(target, returnPc - 6n, 6);
  if (!before) return undefined;
  const dv = new DataView(before.buffer, before.byteOffset, 6);
  let dest: Addr | undefined;
  if (before[1] === 0xe8) {
    dest = BigInt.asUintN(64, returnPc + BigInt(dv.getInt32(2, true)));
  } else if (before[0] === 0xff && before[1] === 0x15) {
    const slot = returnPc + BigInt(dv.getInt32(2, true));
    return target.readPointer(slot).catch(() => undefined);
  } else {
    return undefined;
  }
  const stub = await bytesAt(target, dest, 16);
  const slot = stub ? pltSlot(stub, dest) : undefined;
  if (slot === undefined) return dest;
  const bound = await target.readPointer(slot).catch(() => undefined);
  if (bound === undefined) return undefined;
  // Unbound lazy slots point at the stub's own `push` (or the next PLT entry): not a function yet.
  const next = await bytesAt(target, bound, 16);
  const skip = next && next[0] === 0xf3 && next[1] === 0x0f && next[2] === 0x1e && next[3] === 0xfa ? 4 : 0;
  if (!next || next[skip] === 0x68 || pltSlot(next, bound) !== undefined) return undefined;
  return bound;
}
