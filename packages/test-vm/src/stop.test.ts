import fs from 'node:fs';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { startVm, vmNeeds } from './index.js';

systemTest(test, 'with KASLR and qemuhacks RAM: live memory in the kept file; stop() leaves nothing behind', vmNeeds, async (t) => {
  const vm = await startVm({ memMB: 256, kaslr: true, qemuhacks: true });
  try {
    t.false((await vm.console.run('cat /proc/cmdline')).includes('nokaslr'));
    t.regex(vm.ramFile, /\/qemu_back_mem\.pc\.ram\.[A-Za-z0-9]{6}$/);
    const banner = (await vm.console.run('cat /proc/version')).trim();
    t.true(fs.readFileSync(vm.ramFile).includes(banner), 'the -mem-path file mirrors guest RAM');
  } finally {
    await vm.stop();
  }
  t.false(vm.isRunning());
  t.throws(() => process.kill(vm.pid, 0));
  t.false(fs.existsSync(vm.ramFile));
  t.false(fs.existsSync(vm.dir));
  await vm.stop();
});
