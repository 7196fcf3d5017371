import fs from 'node:fs';
import test from 'ava';
import { PHYSICAL_SPACE, ProgramSymbols, backtrace, formatValue, loadGlobal, standardWalker } from '@stackdb/core';
import { suite } from '@stackdb/core/conformance';
import { drgnNeed, keepTailCallsGdbShows, missing, parseGdbBacktrace, run, systemTest, type Need } from '@stackdb/test-support';
import { sharedVm, vmNeeds } from '@stackdb/test-vm';
import { CoreFile } from '../core-file.js';
import { createCoreTarget } from '../create.js';
import { CoreMemoryError } from '../errors.js';
import { drgnFacts, dumpStoppedVm, nmAddresses, parseHmpRegisters, type DrgnFacts, type VmDumps } from '../test-support/vm-dumps.js';
import { printedValues } from '../test-support/gdb.js';
import { VmCoreTarget } from './vm-core-target.js';

/*
 * dump-guest-memory output of the test VM (nokaslr). The physical-memory dump
 * is read through this driver's page walks; QEMU's paging dump of the same
 * frozen state, read by drgn, is the reference; QEMU's HMP gives the vCPU's
 * registers; the VM's RAM file gives physical memory.
 */

const NEEDS: Need[] = [...vmNeeds, drgnNeed, { command: 'nm', package: 'binutils' }];
const GDB_NEEDS: Need[] = [...NEEDS, { command: 'gdb', package: 'gdb' }];
const getVm = sharedVm(test);

interface Fixture {
  readonly dumps: VmDumps;
  readonly drgn: DrgnFacts;
  readonly nm: Map<string, bigint>;
}

let made: Promise<Fixture> | undefined;
const fixture = () =>
  (made ??= (async () => {
    const vm = await getVm();
    const dumps = await dumpStoppedVm(vm);
    return { dumps, drgn: drgnFacts(dumps.paged, vm.vmlinux), nm: nmAddresses(vm.vmlinux, ['init_top_pgt', 'init_task', 'init_uts_ns', 'jiffies_64', '_stext']) };
  })());

test.after.always(async () => {
  const f = await made?.catch(() => undefined);
  if (f) fs.rmSync(f.dumps.dir, { recursive: true, force: true });
});

async function open(file: string, opts: { exe?: string } = {}): Promise<VmCoreTarget> {
  const t = await createCoreTarget(file, opts);
  if (!(t instanceof VmCoreTarget)) throw new Error(`${file} was not read as a VM dump`);
  await t.open();
  return t;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

systemTest(test, 'the vCPU and its registers agree with QEMU (HMP info registers of the frozen VM)', NEEDS, async (t) => {
  const { dumps } = await fixture();
  const target = await open(dumps.physical);
  try {
    t.deepEqual(target.problems, []);
    const threads = await target.threads();
    const qemu = parseHmpRegisters(dumps.hmpRegisters[0]!);
    t.deepEqual(threads.map((th) => [th.tid, th.name, th.info.context]), [[1, 'CPU#0', qemu.get('cpl') === 0n ? 'kernel' : 'user']]);
    const ours = await threads[0]!.registers();
    const names = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'eflags', 'cr0', 'cr2', 'cr3', 'cr4', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base'];
    for (const n of names) t.is(ours.get(n), qemu.get(n), n);
  } finally {
    await target.close();
  }
});

systemTest(test, 'init_task.comm, init_uts_ns.name.release and jiffies_64 agree with drgn, at the addresses nm gives', NEEDS, async (t) => {
  const { dumps, drgn, nm } = await fixture();
  for (const file of [dumps.physical, dumps.paged]) {
    const target = await open(file, { exe: dumps.vm.vmlinux });
    try {
      t.is(target.kernel?.bias, 0n);
      for (const [name, v] of Object.entries(drgn.values)) {
        const symbol = name.split('.')[0]!;
        t.true(BigInt(v.address) >= nm.get(symbol)!, `${name} lies in ${symbol}`);
        t.is(hex(await target.read(BigInt(v.address), v.size)), v.hex, `${name} in ${file}`);
        t.is(hex(await target.read(BigInt(v.address), v.size, { space: target.kernelSpace! })), v.hex, `${name} through init_top_pgt`);
      }
      const release = Buffer.from(drgn.values['init_uts_ns.name.release']!.hex, 'hex').toString('latin1').replace(/\0+$/, '');
      t.is(release, dumps.vm.kernelVersion);
      t.is(Buffer.from(drgn.values['init_task.comm']!.hex, 'hex').toString('latin1').replace(/\0+$/, ''), 'swapper/0');
    } finally {
      await target.close();
    }
  }
});

systemTest(test, "virtual-to-physical translation agrees with QEMU's own page walk (the paging dump's segments)", NEEDS, async (t) => {
  const { dumps } = await fixture();
  const paged = await CoreFile.open(dumps.paged);
  const target = await open(dumps.physical);
  try {
    const all = paged.segments.filter((s) => s.vaddr >= 0xffff800000000000n);
    t.true(all.length > 10);
    // A few hundred segments spread over the whole list are plenty.
    const step = Math.max(1, Math.floor(all.length / 300));
    const kernelSegs = all.filter((_, i) => i % step === 0);
    let checked = 0;
    for (const s of kernelSegs) {
      for (const off of new Set([0n, s.memsz / 2n & ~0xfffn, s.memsz - 0x1000n])) {
        t.is(await target.translate(s.vaddr + off + 0x123n), s.paddr + off + 0x123n, `0x${(s.vaddr + off).toString(16)}`);
        checked++;
      }
    }
    t.log(`${checked} translations checked`);
  } finally {
    await target.close();
    await paged.close();
  }
});

systemTest(test, 'physical memory agrees with the frozen VM’s RAM file', NEEDS, async (t) => {
  const { dumps, nm } = await fixture();
  const target = await open(dumps.physical);
  const ram = fs.openSync(dumps.vm.ramFile, 'r');
  try {
    const pgt = nm.get('init_top_pgt')! - 0xffffffff80000000n;
    for (const p of [0n, 0x9f000n, 0x1000000n, pgt, 0x10000000n, BigInt(dumps.vm.memMB) * 0x100000n - 0x1000n]) {
      const want = Buffer.alloc(4096);
      fs.readSync(ram, want, 0, 4096, Number(p));
      t.is(hex(await target.read(p, 4096, { space: PHYSICAL_SPACE })), want.toString('hex'), `physical 0x${p.toString(16)}`);
    }
    const beyond = BigInt(dumps.vm.memMB) * 0x100000n;
    const err = await t.throwsAsync(target.read(beyond, 8, { space: PHYSICAL_SPACE }), { instanceOf: CoreMemoryError, code: 'ERR_MEMORY' });
    t.is(err?.reason, 'unmapped');
    t.deepEqual((await target.regions(PHYSICAL_SPACE)).map((r) => [r.start, r.end]), [[0n, beyond], [0xfffc0000n, 0x100000000n]]);
  } finally {
    fs.closeSync(ram);
    await target.close();
  }
});

systemTest(test, 'VMCOREINFO, the kernel page-table root and the kernel image found from OSRELEASE', NEEDS, async (t) => {
  const { dumps, nm } = await fixture();
  const target = await open(dumps.physical);
  try {
    const info = target.vmcoreinfo!;
    t.is(info.osRelease, dumps.vm.kernelVersion);
    t.is(info.kernelOffset, 0n);
    t.is(info.physBase, 0n);
    t.is(info.symbol('init_uts_ns'), nm.get('init_uts_ns'));
    const buildId = /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', dumps.vm.vmlinux]))![1];
    t.is(info.buildId, buildId);
    t.is(target.kernelPageTableRoot, nm.get('init_top_pgt')! - 0xffffffff80000000n);
    t.is(target.pagingLevels, 4);
    // No --core-exe: the vmlinux comes from OSRELEASE and is checked by build-id.
    t.like(target.kernel, { path: dumps.vm.vmlinux, buildId, bias: 0n });
    const [kernel] = await target.modules();
    t.like(kernel, { path: dumps.vm.vmlinux, name: 'vmlinux', bias: 0n, main: true });
    t.true(kernel!.ranges[0]![0] <= nm.get('_stext')! && nm.get('jiffies_64')! < kernel!.ranges[0]![1]);
    const spaces = await target.spaces();
    t.deepEqual(spaces.map((s) => s.id), ['virtual', 'physical', 'kernel']);
  } finally {
    await target.close();
  }
});

systemTest(test, '--core-exe naming a binary that is not the dumped kernel is a problem naming both build-ids', NEEDS, async (t) => {
  const { dumps } = await fixture();
  const target = await open(dumps.physical, { exe: '/bin/true' });
  try {
    t.deepEqual(target.problems.map((p) => p.code), ['ERR_CORE_FILE']);
    t.regex(target.problems[0]!.message, /^\/bin\/true: has build-id [0-9a-f]+ but the dumped kernel's VMCOREINFO says [0-9a-f]+: symbols will not match memory$/);
    t.is(target.kernel?.path, '/bin/true');
  } finally {
    await target.close();
  }
});

systemTest(test, 'unreadable virtual memory names the page-table entry that is not present', NEEDS, async (t) => {
  const { dumps } = await fixture();
  const target = await open(dumps.physical);
  try {
    const err = await t.throwsAsync(target.read(0xffffc00000000000n, 8), { instanceOf: CoreMemoryError, code: 'ERR_MEMORY' });
    t.is(err?.reason, 'not-present');
    t.regex(err?.message ?? '', /^cannot access memory at 0xffffc00000000000: 0xffffc00000000000 is not mapped: (PML4|PDPT|PD|PT) entry \d+ of the table at 0x[0-9a-f]+ is not present \(page tables at 0x[0-9a-f]+\)$/);
    await t.throwsAsync(target.read(0x8000000000000000n, 8), { instanceOf: CoreMemoryError, message: /is not a canonical 48-bit address/ });
    await t.throwsAsync(target.write(0xffffffff81000000n, Uint8Array.of(0x90)), { code: 'ERR_NOT_SUPPORTED' });
    await t.throwsAsync(target.write(0x1000000n, Uint8Array.of(0x90), { space: PHYSICAL_SPACE }), { code: 'ERR_NOT_SUPPORTED' });
  } finally {
    await target.close();
  }
});

/** gdb on the paging dump (QEMU walked the page tables; gdb reads it as a core) with the vmlinux. */
function gdbOnDump(dumps: VmDumps, commands: readonly string[]): string {
  return run('gdb', ['-nx', '-batch', '-iex', 'set debuginfod enabled off', dumps.vm.vmlinux, '-c', dumps.paged, ...commands.flatMap((c) => ['-ex', c])]);
}

systemTest(test, "the vCPU's kernel backtrace (core's walker: ORC) agrees with gdb on the same frozen state: names, pcs and lines", GDB_NEEDS, async (t) => {
  const { dumps } = await fixture();
  // gdb shows frame #0 when it opens the core; the backtrace follows the marker.
  const out = gdbOnDump(dumps, ['echo @@bt\\n', 'bt']);
  const theirs = parseGdbBacktrace(out.slice(out.indexOf('@@bt')));
  const target = await open(dumps.physical, { exe: dumps.vm.vmlinux });
  try {
    const program = new ProgramSymbols(target);
    const [thread] = await target.threads();
    const bt = await backtrace(standardWalker(target, program), program, thread!);
    const ours = keepTailCallsGdbShows(bt.frames, theirs, (f) => f.frame.tailCall === true, (f) => f.frame.name);
    t.log(bt.frames.map((f) => `#${f.index} ${f.frame.name ?? '??'}`).join(' < '));
    t.true(ours.length >= 3, 'several kernel frames');
    // gdb has no unwind data for the kernel's entry code: at an interrupt or
    // exception frame (pt_regs) it stops or walks into garbage, and it misses the
    // entry frame itself when the handler ran on the IRQ stack. Ours crosses such
    // frames (the frame above gets an exact pc) and ends at the kernel's first
    // frame, where gdb again walks on into garbage. Compare up to the first crossing.
    const crossing = ours.findIndex((f, i) => i > 0 && f.frame.inlineDepth === 0 && f.frame.physical.init.exactPc);
    const compared = crossing < 0 ? ours : ours.slice(0, Math.min(crossing, theirs.length));
    t.true(crossing < 0 ? ours.length <= theirs.length : theirs.length >= crossing - 1, `gdb shows ${theirs.length} frames, ours ${ours.length} (${crossing} before any interrupt frame)`);
    for (const [i, f] of compared.entries()) {
      const g = theirs[i]!;
      t.is(f.frame.name, g.name, `#${i}`);
      if (g.pc !== undefined) t.is(f.pc, g.pc, `#${i} ${g.name}: pc`);
      if (g.line !== undefined && f.frame.line !== undefined) {
        t.is(f.frame.line, g.line, `#${i} ${g.name}: line`);
        t.is(f.frame.file, g.file, `#${i} ${g.name}: file`);
      }
    }
  } finally {
    await target.close();
  }
});

systemTest(test, 'init_task.comm, init_uts_ns.name.release and jiffies_64 by name through core (loadGlobal, formatValue) print as gdb prints them', GDB_NEEDS, async (t) => {
  const { dumps } = await fixture();
  const names = ['init_task.comm', 'init_uts_ns.name.release', 'jiffies_64'];
  const theirs = printedValues(gdbOnDump(dumps, names.map((n) => `print ${n}`)));
  t.is(theirs.length, names.length);
  for (const file of [dumps.physical, dumps.paged]) {
    const target = await open(file, { exe: dumps.vm.vmlinux });
    try {
      const program = new ProgramSymbols(target);
      for (const [i, name] of names.entries()) {
        const global = await loadGlobal(program, name);
        t.is(global?.value.status, 'ok', name);
        t.is(await formatValue(global!.value, { target, program }), theirs[i], `${name} in ${file}`);
      }
    } finally {
      await target.close();
    }
  }
});

if (missing(NEEDS).length) {
  systemTest(test, 'VM dump: conformance suite', NEEDS, () => undefined);
} else {
  suite({
    test,
    name: 'elfcore VM dump',
    factory: async () => {
      const { dumps, drgn } = await fixture();
      const release = drgn.values['init_uts_ns.name.release']!;
      return {
        target: await createCoreTarget(dumps.physical),
        known: { address: BigInt(release.address), bytes: Uint8Array.from(Buffer.from(release.hex, 'hex')) },
        scratch: { address: BigInt(drgn.values['jiffies_64']!.address), length: 8 },
        unmapped: 0xffffc00000000000n,
      };
    },
  });
}
