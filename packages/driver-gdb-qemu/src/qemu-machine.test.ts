import { spawn } from 'node:child_process';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  FrameScope,
  PHYSICAL_SPACE,
  ProbeManager,
  ProgramSymbols,
  Registry,
  parseCommandLine,
  standardWalker,
  type Target,
} from '@stackdb/core';
import { keepTailCallsGdbShows, parseGdbBacktrace, repoRoot, systemTest } from '@stackdb/test-support';
import { sharedVm, vmNeeds, type Vm } from '@stackdb/test-vm';
import { createGdbTargetFromSpec } from './driver.js';
import type { GdbTarget } from './gdb-target.js';
import { argMap, concrete, ourBacktrace, type BtFrame } from './test-support/gdb-backtrace.js';

/*
 * The gdb driver with the QEMU helper on the booted test VM (TCG: KVM cannot run
 * a stock guest on our machines; `--kvm` is given anyway and accepted), opened
 * from the command line as a tool would. QEMU stops a running machine when a
 * client connects; the stub serves one client at a time, so gdb (the reference)
 * looks first and leaves with `disconnect`, which keeps the machine stopped in
 * the same state for us. Kernel breakpoints use the stub's Z0/Z1 (never an int3
 * written into guest memory) and read the traced function's arguments through
 * the debug vmlinux's DWARF 5 location lists.
 */

const getVm = sharedVm(test);
const NEEDS = [...vmNeeds, { command: 'gdb', package: 'gdb' }];
const registry = Registry.discover([path.join(repoRoot, 'node_modules')]);
const serial = { serial: true };
const START_KERNEL_MAP = 0xffffffff80000000n;

/** Opens the VM through the gdb driver from `stackdb`-style options (`extra` adds options such as `-s`). */
async function openVm(vm: Vm, extra: string[] = []): Promise<GdbTarget> {
  const argv = ['-t', 'gdb', '--qemu', '--kvm', '--gdb-host', '127.0.0.1', '--gdb-port', String(vm.gdbPort), '--qemu-qmp-host', '127.0.0.1', '--qemu-qmp-port', String(vm.qmpPort), '--qemu-mem-path', vm.ramFile, '-M', vm.vmlinux, ...extra];
  const [spec] = parseCommandLine(argv, { drivers: registry.drivers }).targets;
  const target = await createGdbTargetFromSpec(spec!);
  await target.open();
  return target;
}

async function status(vm: Vm): Promise<string> {
  return (await vm.qmp('query-status') as { status: string }).status;
}

/** Waits until QMP says the machine runs (a detach restarts it asynchronously). */
async function runs(vm: Vm): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    if ((await status(vm)) === 'running') return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/**
 * Runs gdb on the VM's stub with `commands`, ending with `disconnect` (the
 * machine stays stopped). `whileRunning` is called once gdb has set its first
 * breakpoint, to make the guest do something (what the guest's console gets
 * while gdb still holds it stopped waits for it to run).
 */
async function gdbOnVm(vm: Vm, commands: string[], whileRunning?: () => void): Promise<string> {
  const args = ['-batch', '-nx', vm.vmlinux, '-ex', 'set pagination off', '-ex', `target remote 127.0.0.1:${vm.gdbPort}`, ...commands.flatMap((c) => ['-ex', c]), '-ex', 'disconnect'];
  const gdb = spawn('gdb', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // stdout alone is parsed: stderr lines ("No such file") can land inside a stdout line in a mix.
  let out = '';
  let err = '';
  let fired = false;
  gdb.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!fired && whileRunning && /^Breakpoint 1 at /m.test(out)) {
      fired = true;
      whileRunning();
    }
  });
  gdb.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => gdb.once('exit', resolve));
  if (code !== 0) throw new Error(`gdb exited with ${code}:\n${out}\n${err}`);
  return out;
}

/**
 * Ours against gdb's, frame by frame over our frames: the same function names,
 * the same pc wherever gdb prints one, the same file:line wherever both know
 * it (named as gdb names it), and — with `args` — the same value for every
 * argument gdb prints a value for.
 */
function compare(t: ExecutionContext, all: readonly BtFrame[], theirs: readonly BtFrame[], opts: { args: boolean }): void {
  const kept = keepTailCallsGdbShows(all, theirs, (o) => o.tailCall === true, (o) => o.name);
  // gdb has no unwind data for the kernel's entry code: it stops or walks into
  // garbage at an interrupt or exception frame, missing the entry frame itself
  // when the handler ran on the IRQ stack. Compare up to the first crossing.
  const crossing = kept.findIndex((o) => o.interrupted);
  const ours = crossing < 0 ? kept : kept.slice(0, Math.min(crossing, theirs.length));
  t.true(crossing < 0 ? ours.length <= theirs.length : theirs.length >= crossing - 1, `gdb shows ${theirs.length} frames, ours ${kept.length} (${crossing} before any interrupt frame)`);
  for (const [i, o] of ours.slice(0, theirs.length).entries()) {
    const g = theirs[i]!;
    const where = `#${i} ${g.name}`;
    t.is(o.name, g.name, where);
    if (g.pc !== undefined) t.is(o.pc, g.pc, `${where}: pc`);
    if (g.line !== undefined && o.line !== undefined) {
      t.is(o.line, g.line, `${where}: line`);
      t.is(o.file, g.file, `${where}: file`);
    }
    if (!opts.args) continue;
    const mine = argMap(o.args);
    for (const [name, value] of argMap(g.args)) {
      if (concrete(value)) t.is(mine.get(name), value, `${where}: argument ${name}`);
    }
  }
}

/** Opens our target on the stopped VM, walks the first vCPU's stack and closes it (the VM stays stopped). */
async function walkStoppedVm(vm: Vm): Promise<BtFrame[]> {
  const target = await openVm(vm);
  try {
    const program = new ProgramSymbols(target);
    const [thread] = await target.threads();
    return await ourBacktrace(standardWalker(target, program), program, thread!);
  } finally {
    await target.close();
  }
}

systemTest(test, "connecting to the running VM: QEMU's stop announcement does not answer qSupported, and close() lets the VM run on", vmNeeds, async (t) => {
  const vm = await getVm();
  t.is(await status(vm), 'running');
  const target = await openVm(vm);
  try {
    const f = target.client.features;
    // QEMU's own packet size: with its stop announcement taken as the answer it was 400.
    t.is(f.packetSize, 0x1000);
    t.true(f.multiprocess);
    t.true(f.supported.get('qXfer:features:read'));
    t.deepEqual([...f.vCont].sort(), ['C', 'S', 'c', 's']);
    t.truthy(target.client.layout.byArchName('cr3'));
    t.is(await status(vm), 'paused', 'QEMU stopped the machine for us');
    t.deepEqual((await target.threads()).map((th) => th.tid), [1]);
  } finally {
    await target.close();
  }
  t.true(await runs(vm), 'detached with D;1: the machine runs again');
  t.regex(await vm.console.run('echo alive'), /^alive$/m);
}, serial);

systemTest(test, "the vCPU's kernel backtrace in the idle loop: names, pcs and lines agree with gdb on the same stopped VM", NEEDS, async (t) => {
  const vm = await getVm();
  const theirs = parseGdbBacktrace(await gdbOnVm(vm, ['bt']));
  t.is(await status(vm), 'paused', 'gdb disconnected and left the machine stopped');
  const ours = await walkStoppedVm(vm);
  t.log(ours.map((f) => `#${f.index} ${f.name} (${f.args.join(', ')})`).join('\n'));
  t.true(ours.length >= 5, 'a walk through several kernel frames');
  compare(t, ours, theirs, { args: false });
  t.true(await runs(vm));
}, serial);

systemTest(test, 'a stop in a system call (do_sys_openat2): names, pcs, lines and argument values agree with gdb on the same stopped VM', NEEDS, async (t) => {
  const vm = await getVm();
  // gdb stops the guest where `cat` opens its file; the machine stays there for us.
  let command: Promise<string> | undefined;
  const out = await gdbOnVm(vm, ['break *do_sys_openat2', 'continue', 'bt', 'delete'], () => {
    command = vm.console.run('cat /etc/hostname', { timeoutMs: 120_000 });
  });
  const theirs = parseGdbBacktrace(out);
  t.is(theirs[0]?.name, 'do_sys_openat2', out);
  const ours = await walkStoppedVm(vm);
  t.log(ours.map((f) => `#${f.index} ${f.name} (${f.args.join(', ')})`).join('\n'));
  // do_sys_openat2 ← the openat entry points ← do_syscall_64 ← the system call entry.
  t.true(ours.length >= 4);
  try {
    t.regex(argMap(ours[0]!.args).get('filename') ?? '', /^0x[0-9a-f]+ "\/.*"$/, 'the file name is read from user memory');
    compare(t, ours, theirs, { args: true });
    t.true(await runs(vm));
  } finally {
    // The guest finishes its command before the next test watches it.
    await command;
  }
}, serial);

systemTest(test, 'a stop in the timer interrupt (hrtimer_interrupt): the walk crosses the interrupt frame to the pc pt_regs saved, and agrees with gdb as far as gdb gets', NEEDS, async (t) => {
  const vm = await getVm();
  const out = await gdbOnVm(vm, ['break *hrtimer_interrupt', 'continue', 'bt', 'echo @@regs\\n', 'frame function sysvec_apic_timer_interrupt', 'p/x regs->ip', 'delete']);
  const theirs = parseGdbBacktrace(out.slice(0, out.indexOf('@@regs')));
  t.is(theirs[0]?.name, 'hrtimer_interrupt', out);
  const savedIp = /^\$\d+ = (0x[0-9a-f]+)$/m.exec(out.slice(out.indexOf('@@regs')));
  t.truthy(savedIp, out);
  const ours = await walkStoppedVm(vm);
  t.log(ours.map((f) => `#${f.index} ${f.name}${f.interrupted ? ' (interrupted)' : ''}`).join('\n'));
  const crossing = ours.findIndex((f) => f.interrupted);
  t.true(crossing > 0, 'an interrupted frame');
  t.is(ours[crossing - 1]?.name, 'asm_sysvec_apic_timer_interrupt');
  t.is(ours[crossing]?.pc, BigInt(savedIp![1]!), 'the interrupted frame resumes where pt_regs says');
  compare(t, ours, theirs, { args: false });
  t.true(await runs(vm));
}, serial);

/** The string a `char *` parameter of the innermost frame points to, through core's frame scope. */
async function stringArgument(target: Target, program: ProgramSymbols, tid: number, name: string): Promise<string> {
  const walker = standardWalker(target, program);
  const frame = await walker.getInitialFrame(await target.thread(tid));
  const scope = await FrameScope.create(program, frame, undefined, async () => undefined);
  const [logical] = scope.logicalFrames();
  const v = await scope.variable(name, logical!);
  if (v?.value.status !== 'ok' || !v.value.bytes) throw new Error(`${name} has no value (${v?.value.status ?? 'not declared'})`);
  const pointer = new DataView(v.value.bytes.buffer, v.value.bytes.byteOffset, 8).getBigUint64(0, true);
  return target.readString(pointer);
}

for (const [label, kind, extra] of [
  ['Z0', 'software', []],
  ['Z1 (hardware)', 'hardware', []],
  ['-s (still Z0 on a machine)', 'software', ['-s']],
] as const) {
  systemTest(test, `a probe on do_sys_openat2 through ${label} reads the file names a guest command opens; guest memory keeps its code`, vmNeeds, async (t) => {
    const vm = await getVm();
    const target = await openVm(vm, [...extra]);
    const program = new ProgramSymbols(target);
    let command: Promise<string> | undefined;
    try {
      const [fn] = await program.lookupSymbol('do_sys_openat2');
      const entry = fn!.start;
      // nokaslr: the kernel image lies at __START_KERNEL_map + its physical address.
      const physical = entry - START_KERNEL_MAP;
      const code = await target.read(physical, 16, { space: PHYSICAL_SPACE });
      const names: string[] = [];
      const probe = await ProbeManager.for(target).breakpoint(entry, {
        pre: async (hit) => {
          t.is(hit.address, entry);
          names.push(await stringArgument(target, program, hit.thread.tid, 'filename'));
          return names.includes('/proc/version') ? 'stop' : undefined;
        },
      }, { kind });
      // The stub keeps the breakpoint: the guest's RAM (read from QEMU's file) still holds the function's code.
      t.deepEqual(await target.read(physical, 16, { space: PHYSICAL_SPACE }), code);
      t.is(target.swBreakpoints.has(entry), kind === 'software');
      command = vm.console.run('cat /etc/hostname /proc/version', { timeoutMs: 120_000 });
      const result = await target.monitor({ signal: AbortSignal.timeout(120_000) });
      t.is(result.reason, 'stopped');
      const mine = names.filter((n) => n === '/etc/hostname' || n === '/proc/version');
      t.deepEqual(mine, ['/etc/hostname', '/proc/version'], names.join(' '));
      await probe.remove();
    } finally {
      await target.close();
    }
    t.true(await runs(vm));
    t.regex(await command!, /^stackdb-vm\nLinux version /);
  }, serial);
}
