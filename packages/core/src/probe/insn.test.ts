import test from 'ava';
import { callInstructionLength } from './insn.js';
import { watchPieces } from './points.js';

test('call instruction lengths: rel32, indirect through registers and memory, with prefixes', (t) => {
  const len = (...b: number[]) => callInstructionLength(Uint8Array.from([...b, 0, 0, 0, 0, 0, 0, 0, 0]));
  t.is(len(0xe8, 1, 2, 3, 4), 5); // call rel32
  t.is(len(0xff, 0xd0), 2); // call *%rax
  t.is(len(0x41, 0xff, 0xd3), 3); // call *%r11
  t.is(len(0xff, 0x15, 1, 2, 3, 4), 6); // call *0x...(%rip)
  t.is(len(0xff, 0x50, 0x08), 3); // call *0x8(%rax)
  t.is(len(0xff, 0x90, 1, 2, 3, 4), 6); // call *0x...(%rax)
  t.is(len(0xff, 0x14, 0xc5, 1, 2, 3, 4), 7); // call *0x...(,%rax,8)
  t.is(len(0xff, 0x54, 0x24, 0x08), 4); // call *0x8(%rsp)
  t.is(len(0x3e, 0xff, 0xd0), 3); // notrack call *%rax
  t.is(len(0xf2, 0xe8, 1, 2, 3, 4), 6); // bnd call
  t.is(len(0xff, 0xe0), undefined, 'jmp *%rax is not a call');
  t.is(len(0x90), undefined);
  t.is(callInstructionLength(new Uint8Array(0)), undefined);
});

test('watched ranges split into aligned 1/2/4/8-byte pieces', (t) => {
  t.deepEqual(watchPieces(0x1000n, 8), [{ address: 0x1000n, length: 8 }]);
  t.deepEqual(watchPieces(0x1000n, 16), [{ address: 0x1000n, length: 8 }, { address: 0x1008n, length: 8 }]);
  t.deepEqual(watchPieces(0x1001n, 4), [{ address: 0x1001n, length: 1 }, { address: 0x1002n, length: 2 }, { address: 0x1004n, length: 1 }]);
  t.deepEqual(watchPieces(0x1004n, 4), [{ address: 0x1004n, length: 4 }]);
  t.deepEqual(watchPieces(0x1000n, 0), [{ address: 0x1000n, length: 1 }]);
});
