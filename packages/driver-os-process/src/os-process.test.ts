import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ProgramSymbols, Registry, backtrace, formatValue, loadGlobal, openTargets, parseCommandLine, standardWalker, type Target } from '@stackdb/core';
import { repoRoot, systemTest } from '@stackdb/test-support';
import { sharedVm, vmNeeds, type Vm } from '@stackdb/test-vm';

/*
 * Processes of the test VM through the gdb driver with the QEMU helper and
 * the Linux personality: the guest's looper programs (static, -O0, built here
 * with their DWARF) sleep in a fixed chain of calls whose arguments are known,
 * so their user stacks and globals can be checked exactly. `-R` points at a
 * directory where the guest's /opt holds the host's builds.
 */

const getVm = sharedVm(test);
const registry = Registry.discover([path.join(repoRoot, 'node_modules')]);
const BIN = path.join(repoRoot, 'packages/cli/bin/stackdb.js');

let rootDir: string | undefined;
test.after.always(() => {
  if (rootDir) fs.rmSync(rootDir, { recursive: true, force: true });
});

/** A root for `-R`: /opt/NAME is the host's build of each guest program. */
function guestRoot(vm: Vm): string {
  if (rootDir) return rootDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'os-process-root-'));
  for (const p of Object.values(vm.programs)) {
    fs.mkdirSync(path.join(dir, path.dirname(p.guestPath)), { recursive: true });
    fs.symlinkSync(p.hostPath, path.join(dir, p.guestPath));
  }
  return (rootDir = dir);
}

const baseArgs = (vm: Vm) => ['-t', 'gdb', '--qemu', '--gdb-port', String(vm.gdbPort), '--qemu-qmp-port', String(vm.qmpPort), '--qemu-mem-path', vm.ramFile, '-M', vm.vmlinux];

async function openProcess(vm: Vm, name: string): Promise<{ base: Target; proc: Target }> {
  const argv = [...baseArgs(vm), '--personality', 'linux', '--overlay', `${name}:-t os-process -R ${guestRoot(vm)}`];
  const [base, proc] = await openTargets(parseCommandLine(argv, { drivers: registry.drivers }).targets, registry);
  return { base: base!, proc: proc! };
}

/** `name(arg=value)` of each frame from the first f-function up. */
async function userStack(proc: Target, tid: number): Promise<string[]> {
  const program = ProgramSymbols.of(proc);
  const bt = await backtrace(standardWalker(proc, program), program, await proc.thread(tid));
  const out: string[] = [];
  for (const f of bt.frames) {
    const args = await Promise.all(f.args.map(async (a) => `${a.name}=${await formatValue(a.value, { target: proc, program })}`));
    out.push(`${f.frame.name}(${args.join(', ')})`);
  }
  return out.slice(out.findIndex((s) => s.startsWith('f5(')));
}

const CHAIN = ['f5(depth=10)', 'f4(d=6)', 'f3(d=3)', 'f2(d=1)', 'f1(d=0)'];
/** The chain of the thread looping with id 1. */
const MT_CHAIN = ['f5(depth=11)', 'f4(d=7)', 'f3(d=4)', 'f2(d=2)', 'f1(d=1)'];

systemTest(test, 'a sleeping process: its thread, program, user stack with argument values, and globals, through its own page tables', vmNeeds, async (t) => {
  const vm = await getVm();
  const { base, proc } = await openProcess(vm, 'looper');
  try {
    const pid = vm.pids.looper!;
    t.is(proc.name, `os-process(${pid} looper)`);
    t.deepEqual((await proc.threads()).map((th) => [th.tid, th.name, th.info.context]), [[pid, 'looper', 'user']]);
    const main = (await proc.modules()).find((m) => m.main)!;
    t.like(main, { path: '/opt/looper', bias: 0n });
    const stack = await userStack(proc, pid);
    t.deepEqual(stack.slice(0, CHAIN.length), CHAIN);
    t.true(stack.some((f) => f.startsWith('main(')), stack.join(' '));
    const program = ProgramSymbols.of(proc);
    const pt = await loadGlobal(program, 'global_pt');
    t.regex(await formatValue(pt!.value, { target: proc, program }), /^\{x = 3, y = 4, name = 0x[0-9a-f]+ "origin"\}$/);
    const banner = await loadGlobal(program, 'looper_banner');
    t.is(await formatValue(banner!.value, { target: proc, program }), '"stackdb test-vm looper"');
  } finally {
    await base.close();
  }
  t.is(proc.status, 'detached');
}, { serial: true });

systemTest(test, 'a two-thread process: both threads, each in its own loop', vmNeeds, async (t) => {
  const vm = await getVm();
  const { base, proc } = await openProcess(vm, 'looper-mt');
  try {
    const threads = await proc.threads();
    t.is(threads.length, 2);
    t.true(threads.every((th) => th.info.pid === vm.pids['looper-mt']));
    const stacks = await Promise.all(threads.map((th) => userStack(proc, th.tid)));
    t.deepEqual(stacks.map((s) => s.slice(0, CHAIN.length)).sort(), [CHAIN, MT_CHAIN].sort());
  } finally {
    await base.close();
  }
}, { serial: true });

systemTest(test, 'stackdb backtrace --overlay NAME:-t os-process prints the process’s stacks after the kernel’s tasks; wrong overlays are one line', vmNeeds, async (t) => {
  const vm = await getVm();
  const stackdb = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  const r = stackdb(['backtrace', ...baseArgs(vm), '--personality', 'linux', '--overlay', `looper:-t os-process -R ${guestRoot(vm)}`]);
  t.is(r.status, 0, r.stderr);
  const overlay = r.stdout.slice(r.stdout.indexOf(`target 2 os-process(${vm.pids.looper} looper):`));
  t.regex(overlay, /^#\d+ +0x[0-9a-f]+ in f5 \(depth=10\) at .*looper\.c:\d+$/m);
  t.regex(overlay, /^#\d+ +0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at .*looper\.c:\d+$/m);

  const kthread = stackdb(['backtrace', ...baseArgs(vm), '--personality', 'linux', '--overlay', 'kthreadd:-t os-process']);
  t.is(kthread.status, 1);
  t.is(kthread.stderr.trim().split('\n').at(-1), 'stackdb: os-process: task 2 (kthreadd) is a kernel thread: it has no user process to debug');
  const bare = stackdb(['backtrace', ...baseArgs(vm), '--overlay', 'looper:-t os-process']);
  t.is(bare.status, 1);
  t.regex(bare.stderr.trim().split('\n').at(-1)!, /^stackdb: .*has no thread named looper/);
});

systemTest(test, 'probes in a guest process: each f3 call of the looper, with its argument; looper-mt runs the same code at the same address and is let go', vmNeeds, async (t) => {
  const vm = await getVm();
  const stackdb = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000 });
  const args = ['probetargets', ...baseArgs(vm), '--personality', 'linux', '--overlay', `looper:-t os-process -R ${guestRoot(vm)}`, '--count', '3'];
  const r = stackdb([...args, '2:f3']);
  t.is(r.status, 0, r.stderr);
  const hits = r.stdout.trim().split('\n');
  t.is(hits.length, 3, r.stdout);
  for (const h of hits) t.regex(h, new RegExp(`^\\[2\\] f3 \\(0x[0-9a-f]+\\) \\(thread ${vm.pids.looper}\\) d = 3$`));
  t.regex(r.stderr, /Registered probe 2:f3|Registered probe f3/);
  // The same program in another process: its calls reach the same breakpoint and are passed by.
  const mt = stackdb([...args.slice(0, -3), `looper-mt:-t os-process -R ${guestRoot(vm)}`, '--count', '4', '2:f3']);
  t.is(mt.status, 0, mt.stderr);
  const threads = new Set(mt.stdout.trim().split('\n').map((l) => Number(/\(thread (\d+)\)/.exec(l)?.[1])));
  t.true([...threads].every((tid) => tid !== vm.pids.looper), [...threads].join(' '));
  t.deepEqual([...new Set(mt.stdout.trim().split('\n').map((l) => /d = (\d+)$/.exec(l)?.[1]))].sort(), ['3', '4'], 'both threads of looper-mt call f3');
  // The seed's example: a kernel probe on the base and a process probe on the overlay together
  // (three looping threads sleep three times for each f3 call of the looper: 40 hits hold both).
  const both = stackdb([...args.slice(0, -1), '40', '1:do_nanosleep', '2:f3']);
  t.is(both.status, 0, both.stderr);
  const lines = both.stdout.trim().split('\n');
  t.true(lines.some((l) => /^\[1\] do_nanosleep \(0x[0-9a-f]+\) \(thread \d+\) /.test(l)), both.stdout);
  t.true(lines.some((l) => new RegExp(`^\\[2\\] f3 \\(0x[0-9a-f]+\\) \\(thread ${vm.pids.looper}\\) d = 3$`).test(l)), both.stdout);
  // And as the seed writes it, with dumptarget: each name goes to the first target that has it.
  const seed = stackdb(['dumptarget', ...args.slice(1, -1), '40', 'do_nanosleep', 'f3']);
  t.is(seed.status, 0, seed.stderr);
  t.regex(seed.stderr, /Registered probe do_nanosleep at 0x[0-9a-f]+ on gdb/);
  t.regex(seed.stderr, new RegExp(`Registered probe f3 at 0x[0-9a-f]+ on os-process\\(${vm.pids.looper} looper\\)`));
  t.regex(seed.stdout, new RegExp(`^\\[2\\] f3 \\(0x[0-9a-f]+\\) \\(thread ${vm.pids.looper}\\) d = 3$`, 'm'));
  // Return probes: a breakpoint on the return address, matched by thread and stack pointer;
  // f3(3) returns f4(6) + 6 = (f5(10) + 10) + 6 = 51 + 16.
  const ret = stackdb([...args.slice(0, -1), '4', '--return', '2:f3']);
  t.is(ret.status, 0, ret.stderr);
  const retLines = ret.stdout.trim().split('\n');
  t.true(retLines.some((l) => new RegExp(`^\\[2\\] f3 \\(0x[0-9a-f]+\\) \\(thread ${vm.pids.looper}\\) returned 67 \\(d = 3\\)$`).test(l)), ret.stdout);
  // The looper runs on, untouched.
  const after = await vm.console.run(`cat /proc/${vm.pids.looper}/status | grep State`);
  t.regex(after, /State:\s+[SR]/);
}, { serial: true });

systemTest(test, 'SIGINT ends a process probe session: dumptarget detaches, exit 0, and the guest goes on', vmNeeds, async (t) => {
  const vm = await getVm();
  const child = spawn(process.execPath, [BIN, 'dumptarget', ...baseArgs(vm), '--personality', 'linux', '--overlay', `looper:-t os-process -R ${guestRoot(vm)}`, 'f3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 600 && !/d = 3$/m.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  t.regex(out, new RegExp(`^\\[2\\] f3 \\(0x[0-9a-f]+\\) \\(thread ${vm.pids.looper}\\) d = 3$`, 'm'), err);
  child.kill('SIGINT');
  t.is(await exited, 0, err);
  t.regex(err, /interrupted \(\d+ hits?\)/);
  // It sleeps ten times a second: its voluntary switches go on unless a trap holds it.
  const switches = async () => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(await vm.console.run(`cat /proc/${vm.pids.looper}/status`))![1]);
  const before = await switches();
  await new Promise((r) => setTimeout(r, 1000));
  t.true((await switches()) > before, 'the looper goes on looping');
}, { serial: true });
