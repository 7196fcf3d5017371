import { TaskThread, getLogger, type ThreadState, type AddressSpace, type LoadedModule, type OsModel, type OsTask, type PersonalityOptions, type Region, type RegisterSet, type Target, type Thread } from '@stackdb/core';
import { LinuxPersonalityError } from './errors.js';
import { KernelInfo, KernelMemory } from './kernel.js';
import { listModules, moduleAsLoaded, moduleFiles } from './modules.js';
import { cpuOfRegisters, savedUserRegisters, switchedOutRegisters } from './registers.js';
import { currentTasks, listTasks, type LinuxTask } from './tasks.js';
import { pageTableRoot, vmaRegions } from './vmas.js';

const log = getLogger('T_OS');

/** `__NEW_UTS_LEN + 1`. */
const UTS_LEN = 65;

/** What is read at each stop: the tasks, each CPU's registers, and which CPU each vCPU thread is. */
interface Snapshot {
  readonly tasks: LinuxTask[];
  readonly cpuRegs: Map<number, RegisterSet>;
  readonly cpuOfThread: Map<number, number>;
}

/**
 * The Linux model of a machine target (a VM through a GDB stub, a VM dump):
 * tasks from the kernel's task list, each CPU's running task with that CPU's
 * registers, the others' registers from their last switch, user address
 * spaces and VMAs, and the module list. Everything is read again at each
 * stop; nothing is kept across a resume.
 */
export class LinuxOs implements OsModel {
  private readonly mem: KernelMemory;
  private snapshot?: Promise<Snapshot>;
  private files?: Map<string, string>;

  private constructor(private readonly target: Target, private readonly kernel: KernelInfo, private readonly options: PersonalityOptions) {
    this.mem = new KernelMemory(target);
    target.on('state-change', ({ to }) => {
      if (to === 'running') this.forget();
    });
  }

  static async attach(target: Target, options: PersonalityOptions): Promise<LinuxOs> {
    if (options.activeProbing.length) log.warn('-a %s: the linux personality places no active probes yet; it reads tasks, VMAs and modules from memory at each stop', options.activeProbing.join(','));
    return new LinuxOs(target, await KernelInfo.load(target, options.symbols), options);
  }

  async tasks(): Promise<OsTask[]> {
    return (await this.read()).tasks;
  }

  async threads(): Promise<Thread[]> {
    const { tasks, cpuRegs } = await this.read();
    return tasks.map((t) => {
      const cpuRegsOf = t.runningOn === undefined ? undefined : cpuRegs.get(t.runningOn);
      const context = cpuRegsOf && ((cpuRegsOf.get('cs') ?? 0n) & 3n) !== 0n ? ('user' as const) : ('kernel' as const);
      return new TaskThread(
        this.target,
        { tid: t.tid, name: t.name, state: threadState(t), context, pid: t.pid, ...(t.ppid !== undefined ? { ptid: t.ppid } : {}) },
        () => (cpuRegsOf ? Promise.resolve(cpuRegsOf.clone()) : switchedOutRegisters(this.kernel, this.mem, this.target.arch, t)),
        !cpuRegsOf,
      );
    });
  }

  async addressSpace(task: OsTask): Promise<AddressSpace | undefined> {
    const t = await this.task(task);
    if (t.kernelThread) return undefined;
    return { id: `pid:${t.pid}`, kind: 'virtual', name: `${t.name} (pid ${t.pid})`, pageTableRoot: await pageTableRoot(this.kernel, this.mem, t.mm) };
  }

  async regions(task: OsTask): Promise<Region[]> {
    const t = await this.task(task);
    return t.kernelThread ? [] : vmaRegions(this.kernel, this.mem, t.mm);
  }

  async registers(task: OsTask, context: 'kernel' | 'user'): Promise<RegisterSet> {
    const t = await this.task(task);
    const cpu = t.runningOn === undefined ? undefined : (await this.read()).cpuRegs.get(t.runningOn);
    if (cpu) {
      const inUser = ((cpu.get('cs') ?? 0n) & 3n) !== 0n;
      if (inUser === (context === 'user')) return cpu.clone();
      if (inUser) throw new LinuxPersonalityError(`task ${t.tid} (${t.name}) runs in user mode on CPU ${t.runningOn}: it has no kernel context now`);
    }
    if (context === 'kernel') return switchedOutRegisters(this.kernel, this.mem, this.target.arch, t);
    if (t.kernelThread) throw new LinuxPersonalityError(`task ${t.tid} (${t.name}) is a kernel thread: it has no user context`);
    return savedUserRegisters(this.kernel, this.mem, this.target.arch, t);
  }

  forget(): void {
    this.snapshot = undefined;
  }

  async taskOn(cpuThread: number): Promise<OsTask | undefined> {
    const { tasks, cpuOfThread } = await this.read();
    const cpu = cpuOfThread.get(cpuThread);
    return cpu === undefined ? undefined : tasks.find((t) => t.runningOn === cpu);
  }

  async modules(): Promise<LoadedModule[]> {
    this.files ??= moduleFiles(await this.release(), this.options.rootPrefix);
    const files = this.files;
    return [this.kernel.image, ...(await listModules(this.kernel, this.mem)).map((m) => moduleAsLoaded(m, files))];
  }

  async detach(): Promise<void> {}

  /** The running kernel's release (`init_uts_ns.name.release`). */
  async release(): Promise<string> {
    const uts = await this.kernel.symbol('init_uts_ns');
    const ns = this.kernel.struct('uts_namespace');
    return this.mem.fixedString(uts + BigInt(ns.offset('name.release')), UTS_LEN);
  }

  /** The task the caller names, as read at this stop. */
  private async task(task: OsTask): Promise<LinuxTask> {
    const found = (await this.read()).tasks.find((t) => t.object === task.object && t.tid === task.tid);
    if (!found) throw new LinuxPersonalityError(`task ${task.tid} (${task.name}) is gone`);
    return found;
  }

  private read(): Promise<Snapshot> {
    if (!this.snapshot) {
      const p = this.readUncached();
      this.snapshot = p;
      p.catch(() => {
        if (this.snapshot === p) this.snapshot = undefined;
      });
    }
    return this.snapshot;
  }

  /**
   * Tasks and the registers of the CPUs running them. A vCPU is matched to its
   * CPU by its per-CPU base (GS), else by its position.
   */
  private async readUncached(): Promise<Snapshot> {
    const { perCpuOffsets, current } = await currentTasks(this.kernel, this.mem);
    const cpuRegs = new Map<number, RegisterSet>();
    const cpuOfThread = new Map<number, number>();
    const vcpus = await this.target.threads();
    for (const [i, th] of vcpus.entries()) {
      const regs = await th.registers();
      const cpu = cpuOfRegisters(regs, perCpuOffsets) ?? i;
      if (cpu < current.length && !cpuRegs.has(cpu)) {
        cpuRegs.set(cpu, regs);
        cpuOfThread.set(th.tid, cpu);
      }
    }
    const running = new Map<bigint, number>();
    for (const [cpu, task] of current.entries()) if (cpuRegs.has(cpu)) running.set(task, cpu);
    return { tasks: await listTasks(this.kernel, this.mem, running), cpuRegs, cpuOfThread };
  }
}

/** The thread state of a task's `ps` letter. */
function threadState(t: LinuxTask): ThreadState {
  switch (t.state) {
    case 'R': return 'running';
    case 'S': case 'D': case 'I': case 'P': return 'sleeping';
    case 'T': case 't': return 'stopped';
    case 'Z': return 'zombie';
    case 'X': return 'exited';
    default: return 'unknown';
  }
}
