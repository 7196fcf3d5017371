import test from 'ava';
import { suite } from '@stackdb/core/conformance';
import { PtraceTarget } from './index.js';
import { fixture, killQuietly, nmAddress } from './test-support/harness.js';

// A non-PIE build, so the addresses are known before the target is opened.
const spin = fixture('spin', ['-no-pie', '-fno-pie']);

suite({
  test,
  name: 'ptrace',
  factory: async () => {
    const target = PtraceTarget.launch([spin, '1000']);
    return {
      target,
      known: { address: nmAddress(spin, 'known'), bytes: new TextEncoder().encode('stackdb-known-bytes\0') },
      code: nmAddress(spin, 'never_called'),
      scratch: { address: nmAddress(spin, 'scratch'), length: 32 },
      unmapped: 0x10000n,
      dispose: async () => {
        if (target.pid) killQuietly(target.pid);
      },
    };
  },
});
