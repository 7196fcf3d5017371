import iced from 'iced-x86';
import type { Target } from '@stackdb/core';

const { Decoder, DecoderOptions, FlowControl } = iced;

/** Longest x86-64 instruction. */
const MAX_INSN = 15;
/** Lengths of the call forms (E8 rel32; FF /2 through registers and memory, with prefixes). */
const CALL_LENGTHS = [2, 3, 4, 5, 6, 7, 8, 9];

/** Decodes `bytes` (code at `address`) in order, calling `visit` with each instruction's address, length and kind. */
function decodeAll(bytes: Uint8Array, address: bigint, visit: (at: bigint, length: number, flow: number) => void): void {
  const decoder = new Decoder(64, bytes, DecoderOptions.None);
  decoder.ip = address;
  try {
    while (decoder.canDecode) {
      const insn = decoder.decode();
      visit(insn.ip, insn.length, insn.flowControl);
      insn.free();
    }
  } finally {
    decoder.free();
  }
}

/** The addresses of the return instructions in the code `[start, start + size)` of a target. */
export async function returnInstructions(target: Target, start: bigint, size: number): Promise<bigint[]> {
  const bytes = await target.read(start, size);
  const out: bigint[] = [];
  decodeAll(bytes, start, (at, _length, flow) => {
    if (flow === FlowControl.Return) out.push(at);
  });
  return out;
}

/** Whether the instruction that ends right before `address` is a call: the mark of a return address a call pushed. */
export async function followsCall(target: Target, address: bigint): Promise<boolean> {
  const before = await target.read(address - BigInt(MAX_INSN), MAX_INSN).catch(() => undefined);
  if (!before) return false;
  return CALL_LENGTHS.some((k) => {
    let call = false;
    decodeAll(before.subarray(MAX_INSN - k), address - BigInt(k), (_at, length, flow) => {
      if (length === k) call = flow === FlowControl.Call || flow === FlowControl.IndirectCall;
    });
    return call;
  });
}
