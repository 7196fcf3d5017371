import test from 'ava';
import { dr7SlotMask, dr7With, triggeredSlots, validateHwSpec } from './debug-registers.js';

test('DR7 encodes enable, condition and length per slot (Intel SDM vol. 3, 17.2.4)', (t) => {
  t.is(dr7With(0n, 0, { address: 0x1000n, access: 'exec', length: 1 }), 0x1n);
  // slot 1, write, 4 bytes: L1 (bit 2), RW1=01 (bits 20-21), LEN1=11 (bits 22-23)
  t.is(dr7With(0n, 1, { address: 0x1000n, access: 'write', length: 4 }), (1n << 2n) | (1n << 20n) | (3n << 22n));
  // slot 3, read/write, 8 bytes: L3 (bit 6), RW3=11 (bits 28-29), LEN3=10 (bits 30-31)
  t.is(dr7With(0n, 3, { address: 0x1000n, access: 'readwrite', length: 8 }), (1n << 6n) | (3n << 28n) | (2n << 30n));
  // slot 2, write, 2 bytes: LEN2=01
  t.is(dr7With(0n, 2, { address: 0x1000n, access: 'write', length: 2 }), (1n << 4n) | (1n << 24n) | (1n << 26n));
});

test('clearing a slot keeps the others', (t) => {
  const both = dr7With(dr7With(0n, 0, { address: 8n, access: 'write', length: 8 }), 1, { address: 16n, access: 'exec', length: 1 });
  t.is(dr7With(both, 0, null), dr7With(0n, 1, { address: 16n, access: 'exec', length: 1 }));
  t.is(both & dr7SlotMask(2), 0n);
});

test('requests the CPU cannot honour are refused', (t) => {
  t.is(validateHwSpec({ address: 0x1000n, access: 'write', length: 8 }), undefined);
  t.regex(validateHwSpec({ address: 0x1004n, access: 'write', length: 8 })!, /not aligned/);
  t.regex(validateHwSpec({ address: 0x1000n, access: 'exec', length: 4 })!, /1 byte/);
});

test('DR6 names the triggered slots', (t) => {
  t.deepEqual(triggeredSlots(0b1010n | (1n << 14n)), [1, 3]);
  t.deepEqual(triggeredSlots(0n), []);
});
