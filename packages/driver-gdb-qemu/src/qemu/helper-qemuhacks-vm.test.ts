import fs from 'node:fs';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { sharedVm, vmNeeds } from '@stackdb/test-vm';
import { createQemuHelper, monitorReadPhysical } from './helper.js';

/*
 * --qemu-mem-path with the old -mem-path: the test VM booted with `-mem-path DIR`
 * and the qemuhacks preload, whose kept file the helper reads as guest RAM.
 */

const getVm = sharedVm(test, { qemuhacks: true, memMB: 256 });

systemTest(test, 'a -mem-path file kept by qemuhacks is guest RAM for the helper', vmNeeds, async (t) => {
  const vm = await getVm();
  t.regex(vm.ramFile, /qemu_back_mem\.pc\.ram\./);
  const helper = await createQemuHelper({ qemu: true, qemuQmpHost: '127.0.0.1', qemuQmpPort: vm.qmpPort, qemuMemPath: vm.ramFile });
  try {
    t.is(helper.ram?.source.block, 'pc.ram');
    const line = fs.readFileSync(vm.kernel.systemMap!, 'utf8').split('\n').find((l) => l.endsWith(' linux_banner'))!;
    const banner = BigInt('0x' + line.split(' ')[0]) - 0xffffffff80000000n;
    const want = (await vm.console.run('cat /proc/version')).trim();
    const got = new Uint8Array(want.length);
    t.is(await helper.readPhysical!(banner, got), want.length);
    t.is(Buffer.from(got).toString('latin1'), want);
    const cr3 = (await helper.registers(0)).cr3! & ~0xfffn;
    await vm.qmp('stop');
    try {
      const page = new Uint8Array(4096);
      await helper.readPhysical!(cr3, page);
      t.deepEqual(page, await monitorReadPhysical(helper.monitor, cr3, 4096));
    } finally {
      await vm.qmp('cont');
    }
  } finally {
    await helper.close();
  }
});
