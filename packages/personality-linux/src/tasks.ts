import type { OsTask } from '@stackdb/core';
import { LinuxPersonalityError } from './errors.js';
import type { KernelInfo, KernelMemory } from './kernel.js';

/** `PF_KTHREAD`: the task is a kernel thread. */
const PF_KTHREAD = 0x00200000;
/** `TASK_COMM_LEN`. */
const COMM_LEN = 16;
/** More tasks than any kernel holds: a list that does not end is corrupt (or read mid-change). */
const MAX_TASKS = 1 << 22;

/** A task as the kernel holds it: the model's task plus what the personality reads again later. */
export interface LinuxTask extends OsTask {
  readonly object: bigint;
  /** `task->mm` (0 for kernel threads). */
  readonly mm: bigint;
  /** `task->stack`. */
  readonly stack: bigint;
}

/** ps's letters for the kernel's `task_state_index()`. */
const STATE_LETTERS = 'RSDTtXZPI';
const TASK_REPORT = 0x7f;
const TASK_IDLE = 0x402;
const TASK_RTLOCK_WAIT = 0x1000;

/** The `ps` state letter of a task's `__state` and `exit_state`. */
export function stateLetter(state: number, exitState: number): string {
  let s = (state | exitState) & TASK_REPORT;
  if ((state & TASK_IDLE) === TASK_IDLE) s = TASK_REPORT + 1;
  if (state & TASK_RTLOCK_WAIT) s = 2;
  return STATE_LETTERS[s === 0 ? 0 : 32 - Math.clz32(s)] ?? '?';
}

/** Walks a circular `list_head` from its head, yielding each entry's list_head address. */
export async function* listEntries(mem: KernelMemory, head: bigint, what: string): AsyncGenerator<bigint> {
  const seen = new Set<bigint>();
  let p = await mem.u64(head);
  while (p !== head) {
    if (p === 0n || seen.has(p) || seen.size >= MAX_TASKS) throw new LinuxPersonalityError(`${what} is not a proper list (entry 0x${p.toString(16)} after ${seen.size})`);
    seen.add(p);
    yield p;
    p = await mem.u64(p);
  }
}

/** Which task each CPU runs (its per-CPU `current_task`), by CPU number. */
export async function currentTasks(kernel: KernelInfo, mem: KernelMemory): Promise<{ perCpuOffsets: bigint[]; current: bigint[] }> {
  const cpus = await mem.u32(await kernel.symbol('nr_cpu_ids'));
  const offsets = await mem.words(await kernel.symbol('__per_cpu_offset'), cpus);
  const pcpuHot = await kernel.optionalSymbol('pcpu_hot');
  const currentVar = pcpuHot !== undefined ? pcpuHot + BigInt(kernel.struct('pcpu_hot').offset('current_task')) : await kernel.symbol('current_task');
  const current: bigint[] = [];
  for (const off of offsets) current.push(await mem.u64(currentVar + off));
  return { perCpuOffsets: offsets, current };
}

/**
 * Every task: `init_task` (swapper/0) and, for each process on
 * `init_task.tasks`, each of its threads (`thread_group`), as `ps -eL` lists
 * them; then the idle tasks (swapper/N, pid 0) of the CPUs running one.
 */
export async function listTasks(kernel: KernelInfo, mem: KernelMemory, running: ReadonlyMap<bigint, number>): Promise<LinuxTask[]> {
  const ts = kernel.struct('task_struct');
  const tasksOff = BigInt(ts.offset('tasks'));
  const groupOff = BigInt(ts.offset('thread_group'));
  const init = await kernel.symbol('init_task');
  const out: LinuxTask[] = [await readTask(kernel, mem, init, running)];
  for await (const link of listEntries(mem, init + tasksOff, 'init_task.tasks')) {
    const leader = link - tasksOff;
    out.push(await readTask(kernel, mem, leader, running));
    for await (const t of listEntries(mem, leader + groupOff, `the thread group of task 0x${leader.toString(16)}`)) {
      out.push(await readTask(kernel, mem, t - groupOff, running));
    }
  }
  const listed = new Set(out.map((t) => t.object));
  for (const task of running.keys()) if (!listed.has(task)) out.push(await readTask(kernel, mem, task, running));
  return out;
}

async function readTask(kernel: KernelInfo, mem: KernelMemory, task: bigint, running: ReadonlyMap<bigint, number>): Promise<LinuxTask> {
  const ts = kernel.struct('task_struct');
  const at = (m: string) => task + BigInt(ts.offset(m));
  const flags = await mem.u32(at('flags'));
  const mm = await mem.u64(at('mm'));
  const parent = await mem.u64(at('real_parent'));
  const runningOn = running.get(task);
  return {
    tid: await mem.i32(at('pid')),
    pid: await mem.i32(at('tgid')),
    ...(parent && parent !== task ? { ppid: await mem.i32(parent + BigInt(ts.offset('tgid'))) } : {}),
    name: await mem.fixedString(at('comm'), COMM_LEN),
    kernelThread: (flags & PF_KTHREAD) !== 0 || mm === 0n,
    ...(runningOn !== undefined ? { runningOn } : {}),
    cpu: await mem.u32(at(ts.has('thread_info.cpu') ? 'thread_info.cpu' : 'cpu')),
    state: stateLetter(await mem.u32(at(ts.has('__state') ? '__state' : 'state')), await mem.u32(at('exit_state'))),
    object: task,
    mm,
    stack: await mem.u64(at('stack')),
  };
}
