import fs from 'node:fs';
import test from 'ava';
import { drgnNeed, systemTest, type Need } from '@stackdb/test-support';
import { sharedVm, vmNeeds } from '@stackdb/test-vm';
import { createCoreTarget } from '../create.js';
import { drgnFacts, dumpStoppedVm, nmAddresses, parseHmpRegisters, type DrgnFacts, type VmDumps } from '../test-support/vm-dumps.js';
import { START_KERNEL_MAP, VmCoreTarget } from './vm-core-target.js';

/*
 * The test VM booted with KASLR and two vCPUs: the kernel's text moves by
 * VMCOREINFO's KERNELOFFSET (and its physical place by phys_base). Symbols of
 * the vmlinux must be read at their link-time address plus that offset, as
 * drgn does; each vCPU's notes must pair up with its registers.
 */

const NEEDS: Need[] = [...vmNeeds, drgnNeed, { command: 'nm', package: 'binutils' }];
const getVm = sharedVm(test, { kaslr: true, cpus: 2 });

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

systemTest(test, 'two vCPUs: each thread has its own CPU\'s registers, as QEMU shows them', NEEDS, async (t) => {
  const { dumps } = await fixture();
  const target = await createCoreTarget(dumps.physical);
  if (!(target instanceof VmCoreTarget)) throw new Error('not a VM dump');
  await target.open();
  try {
    const threads = await target.threads();
    t.deepEqual(threads.map((th) => [th.tid, th.name]), [[1, 'CPU#0'], [2, 'CPU#1']]);
    for (const [i, th] of threads.entries()) {
      const qemu = parseHmpRegisters(dumps.hmpRegisters[i]!);
      const ours = await th.registers();
      for (const n of ['rip', 'rsp', 'rbp', 'rax', 'eflags', 'cr3', 'cr4', 'gs_base', 'fs_base']) t.is(ours.get(n), qemu.get(n), `CPU#${i} ${n}`);
    }
    // Each CPU's per-CPU area differs: GS base in the kernel, or KERNEL_GS_BASE in user mode.
    const percpu = await Promise.all(threads.map(async (th) => {
      const r = await th.registers();
      return r.get('gs_base') || r.get('kernel_gs_base');
    }));
    t.not(percpu[0], percpu[1]);
    target.selectCpu(1);
    t.is(target.currentCpu, 1);
    t.throws(() => target.selectCpu(2), { code: 'ERR_NO_THREAD' });
  } finally {
    await target.close();
  }
});
