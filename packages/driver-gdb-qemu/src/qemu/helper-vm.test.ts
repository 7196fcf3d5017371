import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import test from 'ava';
import { PageWalker, type PagingContext } from '@stackdb/core';
import { systemTest } from '@stackdb/test-support';
import { sharedVm, vmNeeds, type Vm } from '@stackdb/test-vm';
import { RspClient } from '../rsp/client.js';
import { createQemuHelper, monitorReadPhysical, openQemuHelper, type QemuHelper } from './helper.js';
import { QmpClient } from './qmp-client.js';
import { stubReadPhysical } from './stub-physical.js';

/*
 * The QEMU helper against the real test VM (TCG, 2 vCPUs, RAM in a shared file),
 * each result checked against another view of the same machine: gdb through the
 * stub, QEMU's own `xp`, `info tlb` and `gva2gpa`, the stub's physical mode, and
 * the guest itself. QMP and the stub serve one client at a time: tests run serially.
 */

const getVm = sharedVm(test, { cpus: 2 });
const needs = vmNeeds;
const gdbNeeds = [...vmNeeds, { command: 'gdb', package: 'gdb' }];

/** nokaslr: kernel image addresses are __START_KERNEL_map + physical. */
const START_KERNEL_MAP = 0xffffffff80000000n;

function symbol(vm: Vm, name: string): bigint {
  const line = fs.readFileSync(vm.kernel.systemMap!, 'utf8').split('\n').find((l) => l.endsWith(` ${name}`));
  if (!line) throw new Error(`${name} is not in ${vm.kernel.systemMap}`);
  return BigInt('0x' + line.split(' ')[0]);
}

async function helperFor(vm: Vm, extra: { stub?: RspClient } = {}): Promise<QemuHelper> {
  return createQemuHelper({ qemu: true, qemuQmpHost: '127.0.0.1', qemuQmpPort: vm.qmpPort, qemuMemPath: vm.ramFile }, extra.stub);
}

/** Runs `fn` with the guest paused through the harness's own monitor. */
async function paused<T>(vm: Vm, fn: () => Promise<T>): Promise<T> {
  await vm.qmp('stop');
  try {
    return await fn();
  } finally {
    await vm.qmp('cont');
  }
}

const opts = { serial: true };

systemTest(test, 'QMP: negotiation, query-status, events and per-vCPU registers of real QEMU', needs, async (t) => {
  const vm = await getVm();
  const qmp = await QmpClient.connect({ host: '127.0.0.1', port: vm.qmpPort });
  try {
    t.like(qmp.version, { qemu: { major: 7 } });
    t.like(await qmp.execute('query-status'), { running: true, status: 'running' });
    await qmp.execute('stop');
    t.is((await qmp.nextEvent('STOP', { timeoutMs: 10_000 })).name, 'STOP');
    t.like(await qmp.execute('query-status'), { running: false, status: 'paused' });
    const cpu1 = await qmp.hmp('info registers', 1);
    t.regex(cpu1, /^CPU#1$/m);
    await qmp.execute('cont');
    t.is((await qmp.nextEvent('RESUME', { timeoutMs: 10_000 })).name, 'RESUME');
    await t.throwsAsync(qmp.execute('no-such-command'), { code: 'ERR_QMP_COMMAND' } as never);
  } finally {
    await qmp.close();
  }
}, opts);

/** Parses `info registers NAME…` lines of gdb: `cr3            0x5fb0000           [ PDBR=... ]`. */
function gdbRegisters(text: string): Map<string, bigint>[] {
  const sections = text.split('@@THREAD@@').slice(1);
  return sections.map((s) => {
    const m = new Map<string, bigint>();
    for (const line of s.split('\n')) {
      const r = /^(\w+)\s+(0x[0-9a-f]+)/.exec(line.trim());
      if (r) m.set(r[1]!, BigInt(r[2]!));
    }
    return m;
  });
}

systemTest(test, 'extraRegisters per stub thread equal what gdb reads through the stub', gdbNeeds, async (t) => {
  const vm = await getVm();
  const helper = await helperFor(vm);
  try {
    await paused(vm, async () => {
      const ours = [await helper.extraRegisters(1), await helper.extraRegisters(2)];
      const names = ['rip', 'rsp', 'cr0', 'cr2', 'cr3', 'cr4', 'efer', 'fs_base', 'gs_base'];
      const script = ['set pagination off', 'set confirm off', `target remote 127.0.0.1:${vm.gdbPort}`];
      for (const th of [1, 2]) script.push(`thread ${th}`, 'echo @@THREAD@@\\n', `info registers ${names.join(' ')}`);
      script.push('disconnect');
      const r = spawnSync('gdb', ['-nx', '-batch', ...script.flatMap((c) => ['-ex', c])], { encoding: 'utf8', timeout: 60_000 });
      const theirs = gdbRegisters(r.stdout);
      t.is(theirs.length, 2, r.stderr);
      for (let i = 0; i < 2; i++) {
        for (const n of names) t.is(ours[i]![n] as bigint | undefined, theirs[i]!.get(n), `vCPU ${i} ${n}`);
      }
      t.not(ours[0]!.gs_base, 0n, 'the kernel runs with its per-CPU GS base');
      t.not(ours[0]!.gs_base, ours[1]!.gs_base, 'each vCPU has its own per-CPU area');
    });
  } finally {
    await helper.close();
  }
}, opts);

systemTest(test, 'physical memory from the RAM file equals QEMU\'s xp and the stub\'s physical mode', needs, async (t) => {
  const vm = await getVm();
  const stub = await RspClient.connect({ kind: 'tcp', host: '127.0.0.1', port: vm.gdbPort });
  try {
    const helper = await helperFor(vm, { stub });
    try {
      t.is(helper.ram?.source.layoutFrom, 'flat-view');
      t.is(helper.ram?.source.block, 'pc.ram');
      const cr3 = (await helper.registers(0)).cr3! & ~0xfffn;
      const banner = symbol(vm, 'linux_banner') - START_KERNEL_MAP;
      for (const [what, address, len] of [['kernel text', 0x1000000n, 4096], ['linux_banner', banner, 100], ['page-table root', cr3, 4096], ['low memory', 0x9000n, 512]] as const) {
        const fromFile = new Uint8Array(len);
        t.is(await helper.readPhysical!(address, fromFile), len, what);
        const fromStub = new Uint8Array(len);
        t.is(await stubReadPhysical(stub, address, fromStub), len, what);
        t.deepEqual(fromFile, fromStub, `${what}: file vs stub`);
        t.deepEqual(fromFile, await monitorReadPhysical(helper.monitor, address, len), `${what}: file vs xp`);
      }
      t.true(Buffer.from(await readAll(helper, banner, 64)).toString('latin1').startsWith(`Linux version ${vm.kernelVersion} `));
      // Memory of other blocks (the BIOS ROM) comes through the stub, as QEMU's xp sees it.
      const bios = new Uint8Array(64);
      t.is(await helper.readPhysical!(0xffffffc0n, bios), 64);
      t.deepEqual(bios, await monitorReadPhysical(helper.monitor, 0xffffffc0n, 64));
      // Past the end of RAM nothing is mapped: QEMU's xp cannot read there, and the helper stops.
      const end = BigInt(vm.memMB) << 20n;
      t.is(await helper.readPhysical!(end - 8n, new Uint8Array(16)), 8);
      await t.throwsAsync(monitorReadPhysical(helper.monitor, end, 8), { code: 'ERR_QEMU_RAM_FILE', message: /Cannot access memory/ } as never);
      const second = QmpClient.connect({ host: '127.0.0.1', port: vm.qmpPort, connectTimeoutMs: 1000 });
      await t.throwsAsync(second, { code: 'ERR_QMP_CONNECT', message: /another client/ } as never);
    } finally {
      await helper.close();
    }
    const fileOnly = await openQemuHelper({ monitor: await QmpClient.connect({ host: '127.0.0.1', port: vm.qmpPort }), ramFile: vm.ramFile });
    try {
      t.is(await fileOnly.readPhysical!(0xffffffc0n, new Uint8Array(16)), 0, 'without the stub, only the file is read');
    } finally {
      await fileOnly.close();
    }
  } finally {
    // QEMU 7.2 refuses a plain D and leaves the VM paused: detach from process 1 explicitly.
    await stub.text('D;1').catch(() => undefined);
    stub.close();
  }
}, opts);

async function readAll(helper: QemuHelper, address: bigint, len: number): Promise<Uint8Array> {
  const b = new Uint8Array(len);
  await helper.readPhysical!(address, b);
  return b;
}

/** `info tlb` lines: `ffff888000200000: 0000000000200000 XGPDA---W`. */
function parseTlb(text: string): Map<bigint, { physical: bigint; flags: string }> {
  const out = new Map<bigint, { physical: bigint; flags: string }>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{16}): ([0-9a-f]{16}) ([-A-Z]{9})$/.exec(line.trim());
    if (m) out.set(BigInt('0x' + m[1]), { physical: BigInt('0x' + m[2]), flags: m[3]! });
  }
  return out;
}

systemTest(test, 'page walks over the RAM file agree with QEMU\'s info tlb and gva2gpa', needs, async (t) => {
  const vm = await getVm();
  const helper = await helperFor(vm);
  try {
    await paused(vm, async () => {
      const regs = await helper.registers(0);
      const ctx: PagingContext = { cr3: regs.cr3!, cr0: regs.cr0!, cr4: regs.cr4!, efer: regs.efer! };
      const walker = new PageWalker(async (address, size) => {
        const b = new Uint8Array(size);
        if ((await helper.readPhysical!(address, b)) < size) throw new RangeError(`no RAM at 0x${address.toString(16)}`);
        return b;
      });
      const tlb = parseTlb(await helper.monitor.hmp('info tlb', 0));
      t.true(tlb.size > 1000);
      let count = 0;
      let mismatched = 0;
      for await (const m of walker.mappings(ctx)) {
        // info tlb lists one line per leaf entry, at the page's (canonical) virtual address.
        const q = tlb.get(m.virtualPage);
        count++;
        if (!q || q.physical !== m.physicalPage || (q.flags[0] === 'X') === m.executable || (q.flags[2] === 'P') !== m.pageSize > 0x1000n) {
          if (mismatched++ < 5) t.log(`0x${m.virtualPage.toString(16)}: ours 0x${m.physicalPage.toString(16)} size 0x${m.pageSize.toString(16)} x=${m.executable}; QEMU ${q ? `0x${q.physical.toString(16)} ${q.flags}` : 'none'}`);
        }
      }
      t.is(mismatched, 0);
      t.is(count, tlb.size);
      const direct = 0xffff888000000000n + 0x1000000n;
      const samples = [0xffffffff81000000n, symbol(vm, 'init_task'), symbol(vm, 'jiffies_64'), direct, regs.rsp!, regs.rip!];
      for (const va of samples) {
        const gpa = /gpa: 0x([0-9a-f]+)/.exec(await helper.monitor.hmp(`gva2gpa 0x${va.toString(16)}`, 0));
        t.truthy(gpa, `gva2gpa 0x${va.toString(16)}`);
        t.is((await walker.translate(va, ctx)).physical, BigInt('0x' + gpa![1]), `0x${va.toString(16)}`);
      }
      t.regex(await helper.monitor.hmp('gva2gpa 0x1000', 0), /Unmapped/);
      await t.throwsAsync(walker.translate(0x1000n, ctx), { code: 'ERR_NOT_MAPPED' } as never);
    });
  } finally {
    await helper.close();
  }
}, opts);

systemTest(test, 'writes through the RAM file are seen by the guest', needs, async (t) => {
  const vm = await getVm();
  const helper = await helperFor(vm);
  try {
    // init_uts_ns.name.nodename (struct new_utsname: sysname[65], then nodename[65]) is what `hostname` prints.
    const nodename = symbol(vm, 'init_uts_ns') - START_KERNEL_MAP + 65n;
    const original = await readAll(helper, nodename, 11);
    t.is(Buffer.from(original).toString('latin1'), 'stackdb-vm\0');
    t.is(await helper.writePhysical!(nodename, new TextEncoder().encode('rewritten!\0')), 11);
    t.is((await vm.console.run('hostname')).trim(), 'rewritten!');
    await helper.writePhysical!(nodename, original);
    t.is((await vm.console.run('hostname')).trim(), 'stackdb-vm');
  } finally {
    await helper.close();
  }
}, opts);

systemTest(test, 'wrong setups are refused with clear errors; --kvm on a TCG machine is accepted', needs, async (t) => {
  const vm = await getVm();
  // --kvm is accepted: KVM cannot run a stock guest on these machines, so the VM runs under TCG and the helper says so.
  const tcg = await createQemuHelper({ qemu: true, qemuQmpHost: '127.0.0.1', qemuQmpPort: vm.qmpPort, kvm: true });
  t.is(tcg.accelerator, 'tcg');
  await tcg.close();
  // A file of the right size that QEMU does not write to: what -mem-path gives without the preload.
  const stale = `${vm.ramFile}.stale`;
  fs.writeFileSync(stale, '');
  fs.truncateSync(stale, vm.memMB * 1024 * 1024);
  try {
    const e = await t.throwsAsync(createQemuHelper({ qemu: true, qemuQmpHost: '127.0.0.1', qemuQmpPort: vm.qmpPort, qemuMemPath: stale }), { code: 'ERR_QEMU_RAM_FILE' } as never);
    t.regex(e!.message, /qemuhacks/);
  } finally {
    fs.rmSync(stale, { force: true });
  }
  const helper = await openQemuHelper({ monitor: await QmpClient.connect({ host: '127.0.0.1', port: vm.qmpPort }) });
  t.like(await helper.status(), { running: true });
  await helper.close();
}, opts);
