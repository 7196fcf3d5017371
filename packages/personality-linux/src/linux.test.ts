import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ProgramSymbols, Registry, backtrace, openTargets, parseCommandLine, standardWalker, type OsModel, type OsTask, type Target, type Thread, type Walker } from '@stackdb/core';
import { DRGN_PYTHON, drgnNeed, repoRoot, run, systemTest, type Need } from '@stackdb/test-support';
import { sharedVm, vmNeeds, type Vm } from '@stackdb/test-vm';

/*
 * The personality on the test VM (two CPUs), first live through the gdb driver
 * with the QEMU helper, checked against what the guest's own /proc says just
 * before; then on a dump of the stopped VM through the elfcore driver, checked
 * against drgn reading QEMU's paging dump of the same state.
 */

const getVm = sharedVm(test, { cpus: 2 });
const NEEDS: Need[] = [...vmNeeds];
const DRGN_NEEDS: Need[] = [...vmNeeds, drgnNeed];
const registry = Registry.discover([path.join(repoRoot, 'node_modules')]);
const KERNEL_SPACE = 0xffff800000000000n;

async function open(argv: string[]): Promise<{ target: Target; os: OsModel }> {
  const [target] = await openTargets(parseCommandLine([...argv, '--personality', 'linux'], { drivers: registry.drivers }).targets, registry);
  if (!target?.os) throw new Error('no OS model attached');
  return { target, os: target.os };
}

const liveArgs = (vm: Vm) => ['-t', 'gdb', '--qemu', '--gdb-port', String(vm.gdbPort), '--qemu-qmp-port', String(vm.qmpPort), '--qemu-mem-path', vm.ramFile, '-M', vm.vmlinux];

const walkers = new WeakMap<Target, Walker>();

/** Function names of a task's kernel stack, tail-call frames left out (drgn does not infer them). */
async function kernelStack(target: Target, thread: Thread): Promise<{ name: string | undefined; pc: bigint }[]> {
  const program = ProgramSymbols.of(target);
  let walker = walkers.get(target);
  if (!walker) walkers.set(target, (walker = standardWalker(target, program)));
  const bt = await backtrace(walker, program, thread, { noArgs: true });
  return bt.frames.filter((f) => !f.frame.tailCall).map((f) => ({ name: f.frame.name, pc: f.pc }));
}

interface GuestTask {
  readonly tid: number;
  readonly pid: number;
  readonly comm: string;
}

/** `tid pid comm` of every task, from the guest's /proc. */
async function guestTasks(vm: Vm): Promise<GuestTask[]> {
  const out = await vm.console.run('for d in /proc/[0-9]*/task/[0-9]*; do t=${d##*/}; p=${d#/proc/}; echo "$t ${p%%/*} $(cat $d/comm)"; done');
  return out.trim().split('\n').map((l) => {
    const [tid, pid, ...comm] = l.trim().split(' ');
    return { tid: Number(tid), pid: Number(pid), comm: comm.join(' ') };
  });
}

systemTest(test, 'live: tasks, a process’s VMAs and user registers, and the module list agree with the guest’s /proc', NEEDS, async (t) => {
  const vm = await getVm();
  const looperPid = vm.pids.looper!;
  const before = await guestTasks(vm);
  const maps = (await vm.console.run(`cat /proc/${looperPid}/maps`)).trim().split('\n');
  const procModules = (await vm.console.run('cat /proc/modules')).trim().split('\n').filter(Boolean);
  const { target, os } = await open(liveArgs(vm));
  let tasks: OsTask[];
  try {
    tasks = await os.tasks();
    const idle = tasks.filter((x) => x.tid === 0).map((x) => x.name);
    t.true(idle.includes('swapper/0') && idle.every((n) => /^swapper\/\d+$/.test(n)), idle.join(' '));
    t.is(tasks.filter((x) => x.runningOn !== undefined).length, 2, 'one running task per CPU');

    const looper = tasks.find((x) => x.tid === looperPid)!;
    t.false(looper.kernelThread);
    t.true(tasks.find((x) => x.tid === 2)!.kernelThread, 'kthreadd is a kernel thread');
    const regions = await os.regions(looper);
    const asMaps = regions.map((r) => `${r.start.toString(16).padStart(8, '0')}-${r.end.toString(16).padStart(8, '0')} ${r.readable ? 'r' : '-'}${r.writable ? 'w' : '-'}${r.executable ? 'x' : '-'} ${r.offset.toString(16).padStart(8, '0')}${r.path ? ` ${r.path}` : ''}`);
    const fromProc = maps.map((l) => {
      const [range, perms, offset, , , ...file] = l.trim().split(/\s+/);
      return `${range} ${perms!.slice(0, 3)} ${offset}${file.length ? ` ${file.join(' ')}` : ''}`;
    });
    t.deepEqual(asMaps, fromProc);

    // The looper sleeps in clock_nanosleep: its user registers are those its syscall saved.
    const user = await os.registers(looper, 'user');
    const code = regions.find((r) => r.executable && r.path === vm.programs.looper!.guestPath)!;
    const stack = regions.find((r) => r.path === '[stack]')!;
    t.true(user.get('rip')! >= code.start && user.get('rip')! < code.end, 'rip in the program’s code');
    t.true(user.get('rsp')! >= stack.start && user.get('rsp')! < stack.end, 'rsp on its stack');
    t.is(user.get('orig_rax'), 230n, 'clock_nanosleep');
    const space = (await os.addressSpace(looper))!;
    const first = regions[0]!;
    const host = fs.readFileSync(vm.programs.looper!.hostPath).subarray(Number(first.offset), Number(first.offset) + 64);
    t.deepEqual(Buffer.from(await target.read(first.start, 64, { space })), host, 'the program’s first page through its page tables');

    const thread = (await os.threads()).find((th) => th.tid === looperPid)!;
    const frames = (await kernelStack(target, thread)).map((f) => f.name);
    t.is(frames[0], 'context_switch');
    t.true(frames.includes('do_nanosleep'), frames.join(' '));
    t.is(frames.at(-1), 'entry_SYSCALL_64');

    const modules = (await os.modules()).slice(1);
    t.deepEqual(modules.map((m) => `${m.name} ${m.ranges[0]![1] - m.ranges[0]![0]} 0x${m.bias.toString(16)}`).sort(), procModules.map((l) => {
      const f = l.split(' ');
      return `${f[0]} ${f[1]} ${f[5]}`;
    }).sort());
  } finally {
    await target.close();
  }
  // Tasks the guest listed before and after the personality read its own list were there when it read it.
  const after = await guestTasks(vm);
  const lasting = before.filter((g) => after.some((a) => a.tid === g.tid && a.comm === g.comm));
  t.true(lasting.length > 40, `${lasting.length} lasting tasks`);
  for (const g of lasting) {
    const ours = tasks.find((x) => x.tid === g.tid);
    // /proc shows a kernel thread's full name and a worker's workqueue after its comm.
    const comm = ours?.kernelThread && g.comm.startsWith(ours.name) ? ours.name : g.comm;
    t.deepEqual(ours && { tid: ours.tid, pid: ours.pid, comm: ours.name }, { tid: g.tid, pid: g.pid, comm }, `task ${g.tid}`);
  }
}, { serial: true });

/** What drgn says of each task of a dump, and which task each CPU runs. */
interface DrgnTasks {
  readonly tasks: { pid: number; tgid: number; comm: string; state: string; task: string; frames: { name: string | null; pc: string }[] | null; unwindError?: string }[];
  readonly current: string[];
}

const DRGN_SCRIPT = String.raw`
import drgn, json, sys
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char
from drgn.helpers.linux.percpu import per_cpu
prog = drgn.program_from_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
tasks = []
for t in for_each_task(prog):
    entry = {'pid': int(t.pid), 'tgid': int(t.tgid), 'comm': t.comm.string_().decode(), 'state': task_state_to_char(t), 'task': hex(t.value_())}
    try:
        entry['frames'] = [{'name': f.name, 'pc': hex(f.pc)} for f in prog.stack_trace(t)]
    except Exception as e:
        entry['frames'], entry['unwindError'] = None, str(e)
    tasks.append(entry)
current = [hex(per_cpu(prog['runqueues'], cpu).curr.value_()) for cpu in range(int(sys.argv[3]))]
print(json.dumps({'tasks': tasks, 'current': current}))
`;

systemTest(test, 'dump: tasks, states, running tasks and kernel stacks agree with drgn', DRGN_NEEDS, async (t) => {
  const vm = await getVm();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'personality-linux-'));
  try {
    await vm.qmp('stop');
    const physical = path.join(dir, 'physical.vmcore');
    const paged = path.join(dir, 'paged.vmcore');
    await vm.dumpGuestMemory(physical);
    await vm.qmp('dump-guest-memory', { paging: true, protocol: `file:${paged}` });
    const drgn = JSON.parse(run(DRGN_PYTHON, ['-c', DRGN_SCRIPT, paged, vm.vmlinux, String(vm.cpus)])) as DrgnTasks;

    const { target, os: model } = await open(['--core', physical, '--core-exe', vm.vmlinux]);
    try {
      const tasks = await model.tasks();
      // drgn lists tasks by pid: the idle tasks (pid 0) are not among them.
      const hex = (a: bigint | undefined) => `0x${a?.toString(16)}`;
      t.deepEqual(tasks.filter((x) => x.tid !== 0).map((x) => `${x.tid} ${x.pid} ${x.name} ${x.state} ${hex(x.object)}`).sort(),
        drgn.tasks.map((d) => `${d.pid} ${d.tgid} ${d.comm} ${d.state} ${d.task}`).sort());
      for (const [cpu, task] of drgn.current.entries()) t.is(hex(tasks.find((x) => x.runningOn === cpu)?.object), task, `CPU ${cpu} runs the task drgn says`);

      // QEMU numbers its NT_PRSTATUS notes' pids 1..CPUs, and drgn takes a task of
      // such a pid for the CPU's running task: those and running tasks are left out,
      // and so is a task drgn itself cannot unwind (the dump caught it mid-change).
      const threads = await model.threads();
      let compared = 0;
      for (const d of drgn.tasks) {
        const task = tasks.find((x) => x.tid === d.pid)!;
        if (d.pid <= vm.cpus || task.runningOn !== undefined) continue;
        if (d.frames === null) {
          t.log(`drgn could not unwind task ${d.pid} (${d.comm}): ${d.unwindError}`);
          continue;
        }
        const ours = await kernelStack(target, threads.find((th) => th.tid === d.pid)!);
        // drgn goes on from the kernel's entry into the user frame its pt_regs hold; a kernel stack ends at the entry.
        const theirs = d.frames.filter((f) => BigInt(f.pc) >= KERNEL_SPACE);
        t.deepEqual(ours.map((f, i) => (theirs[i]?.name === null ? hex(f.pc) : f.name)), theirs.map((f) => f.name ?? f.pc), `task ${d.pid} (${d.comm})`);
        compared++;
      }
      t.true(compared > 30, `${compared} stacks compared`);
    } finally {
      await target.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, { serial: true });
