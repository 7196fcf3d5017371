import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { sharedVm, vmNeeds } from './index.js';

const getVm = sharedVm(test);

/** A symbol's address from the real System.map of the -dbg package. */
function symbol(systemMap: string, name: string): bigint {
  const line = fs.readFileSync(systemMap, 'utf8').split('\n').find((l) => l.endsWith(` ${name}`));
  if (!line) throw new Error(`${name} not in ${systemMap}`);
  return BigInt('0x' + line.split(' ')[0]);
}

/** Kernel text and data sit at __START_KERNEL_map + physical address (phys_base is 0 with nokaslr). */
const START_KERNEL_MAP = 0xffffffff80000000n;

systemTest(test, 'the guest boots, runs commands and reports its programs', vmNeeds, async (t) => {
  const vm = await getVm();
  t.is((await vm.console.run('uname -r')).trim(), vm.kernelVersion);
  t.is(vm.kernelVersion, vm.kernel.version);
  t.true(fs.existsSync(vm.vmlinux));
  for (const name of ['looper', 'looper-mt', 'opener']) {
    const pid = vm.pids[name];
    t.truthy(pid, name);
    t.is((await vm.console.run(`cat /proc/${pid}/comm`)).trim(), name);
    t.true(fs.existsSync(vm.programs[name]!.hostPath));
  }
  t.is((await vm.console.run('cat /proc/cmdline')).includes('nokaslr'), true);
  t.regex(vm.bootInfo.modules ?? '', /qemu_fw_cfg/);
  const failed = await vm.console.run('false', { allowFailure: true });
  t.is(failed, '');
  await t.throwsAsync(vm.console.run('ls /nonexistent'), { code: 'ERR_VM_CONSOLE' } as never);
});

systemTest(test, 'the opener opens files on demand', vmNeeds, async (t) => {
  const vm = await getVm();
  const pid = vm.pids.opener!;
  const out = await vm.console.run(`echo open /etc/hostname > /run/opener.ctl; while ! grep -q hostname /run/opener.log; do sleep 0.1; done; cat /run/opener.log; ls -l /proc/${pid}/fd`);
  t.regex(out, /open fd=(\d+) \/etc\/hostname/);
  t.regex(out, /-> \/etc\/hostname/);
});

systemTest(test, 'another process sees live guest memory in the RAM file', vmNeeds, async (t) => {
  const vm = await getVm();
  t.truthy(vm.kernel.systemMap);
  const ram = fs.openSync(vm.ramFile, 'r');
  try {
    t.is(fs.fstatSync(ram).size, vm.memMB * 1024 * 1024);
    // linux_banner is the /proc/version text.
    const banner = (await vm.console.run('cat /proc/version')).trim();
    const phys = symbol(vm.kernel.systemMap!, 'linux_banner') - START_KERNEL_MAP;
    const buf = Buffer.alloc(banner.length);
    fs.readSync(ram, buf, 0, buf.length, Number(phys));
    t.is(buf.toString('latin1'), banner);
    // jiffies_64 is written by the running guest: two reads around a guest command differ.
    const jphys = Number(symbol(vm.kernel.systemMap!, 'jiffies_64') - START_KERNEL_MAP);
    const j = Buffer.alloc(8);
    fs.readSync(ram, j, 0, 8, jphys);
    const before = j.readBigUInt64LE();
    await vm.console.run('sleep 0.2');
    fs.readSync(ram, j, 0, 8, jphys);
    t.true(j.readBigUInt64LE() > before);
  } finally {
    fs.closeSync(ram);
  }
});

systemTest(test, 'QMP dump-guest-memory writes an ELF vmcore with VMCOREINFO', [...vmNeeds, { command: 'readelf', package: 'binutils' }], async (t) => {
  const vm = await getVm();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmcore-')), 'vmcore');
  try {
    await vm.dumpGuestMemory(file);
    const notes = spawnSync('readelf', ['-n', file], { encoding: 'utf8' });
    t.is(notes.status, 0, notes.stderr);
    t.regex(notes.stdout, /VMCOREINFO/);
    const vmcoreinfo = fs.readFileSync(file).subarray(0, 1 << 20).toString('latin1');
    t.true(vmcoreinfo.includes(`OSRELEASE=${vm.kernelVersion}`));
    const regs = await vm.hmp('info registers');
    t.regex(regs, /CR3=[0-9a-f]{16}/);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});
