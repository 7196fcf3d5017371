import fs from 'node:fs';
import test from 'ava';
import { systemTest, type Need } from '@stackdb/test-support';
import { sharedVm, vmNeeds } from '@stackdb/test-vm';
import { createCoreTarget } from '../create.js';
import { drgnFacts, drgnMissing, dumpStoppedVm, nmAddresses, type DrgnFacts, type VmDumps } from '../test-support/vm-dumps.js';
import { START_KERNEL_MAP, VmCoreTarget } from './vm-core-target.js';

/*
 * The test VM booted with KASLR: the kernel's text moves by VMCOREINFO's
 * KERNELOFFSET (and its physical place by phys_base). Symbols of the vmlinux
 * must be read at their link-time address plus that offset, as drgn does.
 */

const NEEDS: Need[] = [...vmNeeds, { check: drgnMissing, what: 'drgn' }, { command: 'nm', package: 'binutils' }];
const getVm = sharedVm(test, { kaslr: true });

let made: Promise<{ dumps: VmDumps; drgn: DrgnFacts; nm: Map<string, bigint> }> | undefined;
const fixture = () =>
  (made ??= (async () => {
    const vm = await getVm();
    const dumps = await dumpStoppedVm(vm);
    return { dumps, drgn: drgnFacts(dumps.paged, vm.vmlinux), nm: nmAddresses(vm.vmlinux, ['init_top_pgt', 'init_task', 'init_uts_ns', 'jiffies_64']) };
  })());

test.after.always(async () => {
  const f = await made?.catch(() => undefined);
  if (f) fs.rmSync(f.dumps.dir, { recursive: true, force: true });
});

systemTest(test, 'with KASLR, the kernel bias is KERNELOFFSET and kernel values agree with drgn', NEEDS, async (t) => {
  const { dumps, drgn, nm } = await fixture();
  const target = await createCoreTarget(dumps.physical);
  if (!(target instanceof VmCoreTarget)) throw new Error('not a VM dump');
  await target.open();
  try {
    const info = target.vmcoreinfo!;
    const bias = info.kernelOffset;
    t.not(bias, 0n, 'KASLR moved the kernel');
    t.is(target.kernel?.bias, bias);
    t.is((await target.modules())[0]?.bias, bias);
    t.is(info.symbol('init_uts_ns'), nm.get('init_uts_ns')! + bias);
    t.is(target.kernelPageTableRoot, nm.get('init_top_pgt')! + bias - START_KERNEL_MAP + info.physBase!);
    for (const [name, v] of Object.entries(drgn.values)) {
      t.is(BigInt(v.address) >= nm.get(name.split('.')[0]!)! + bias, true, `${name} is past its symbol plus the bias`);
      t.is(Buffer.from(await target.read(BigInt(v.address), v.size)).toString('hex'), v.hex, name);
    }
    // jiffies_64 is a plain symbol: exactly its link-time address plus the bias.
    t.is(BigInt(drgn.values['jiffies_64']!.address), nm.get('jiffies_64')! + bias);
    t.is(Buffer.from(drgn.values['init_uts_ns.name.release']!.hex, 'hex').toString('latin1').replace(/\0+$/, ''), dumps.vm.kernelVersion);
  } finally {
    await target.close();
  }
});
