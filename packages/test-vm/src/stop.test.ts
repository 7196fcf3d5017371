import fs from 'node:fs';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { startVm, vmNeeds } from './index.js';

systemTest(test, 'stop() ends QEMU and removes its RAM file and directory', vmNeeds, async (t) => {
  const vm = await startVm({ memMB: 256, kaslr: true });
  try {
    t.false((await vm.console.run('cat /proc/cmdline')).includes('nokaslr'));
    t.true(fs.existsSync(vm.ramFile));
  } finally {
    await vm.stop();
  }
  t.false(vm.isRunning());
  t.throws(() => process.kill(vm.pid, 0));
  t.false(fs.existsSync(vm.ramFile));
  t.false(fs.existsSync(vm.dir));
  await vm.stop();
});
