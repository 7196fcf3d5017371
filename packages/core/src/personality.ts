import type { RegisterSet } from './arch/register-set.js';
import type { ProgramSymbols } from './symbols/program.js';
import type { AddressSpace } from './target/address-space.js';
import type { Target } from './target/target.js';
import type { Thread } from './target/thread.js';
import type { Addr, LoadedModule, Region } from './target/types.js';

/** One task (process or thread) of an OS target, as a personality models it. */
export interface OsTask {
  /** Thread id (the kernel's `pid`). */
  readonly tid: number;
  /** Process id (the kernel's `tgid`). */
  readonly pid: number;
  readonly ppid?: number;
  /** Command name (`comm`). */
  readonly name: string;
  /** Kernel threads have no user address space. */
  readonly kernelThread: boolean;
  /** The CPU it runs on right now (its registers are that CPU's), if any. */
  readonly runningOn?: number;
  /** The CPU it last ran on. */
  readonly cpu?: number;
  /** The kernel's scheduling state, as `ps` letters it (`R`, `S`, `D`, `T`, `t`, `Z`, `X`, `I`). */
  readonly state?: string;
  /** The kernel's own object for the task (`struct task_struct *`). */
  readonly object?: Addr;
}

/** Options a personality receives. */
export interface PersonalityOptions {
  /** `-a` flags: thread_entry, thread_exit, memory, other. */
  readonly activeProbing: readonly string[];
  /** `-R` root prefix for finding module files and debuginfo. */
  readonly rootPrefix?: string;
  /** The target's symbols (the kernel's debuginfo), shared with the tools. */
  readonly symbols: ProgramSymbols;
}

/**
 * What an OS personality knows about a running OS. Overlay drivers
 * (os-process) build on it; tools list tasks through it. Every answer is
 * read from the OS's memory at the current stop.
 */
export interface OsModel {
  /** Every task. */
  tasks(): Promise<OsTask[]>;
  /** Every task as a thread whose registers are its kernel context, ready for a stack walk. */
  threads(): Promise<Thread[]>;
  /** The address space of a task's user memory (undefined for kernel threads). */
  addressSpace(task: OsTask): Promise<AddressSpace | undefined>;
  /** A task's user memory regions (its VMAs), with mapped files. */
  regions(task: OsTask): Promise<Region[]>;
  /**
   * Registers of a task: in `kernel` context the CPU's when it runs in the kernel,
   * else those saved at its last switch; in `user` context those saved on entry
   * to the kernel (or the CPU's when it runs in user mode).
   */
  registers(task: OsTask, context: 'kernel' | 'user'): Promise<RegisterSet>;
  /** Forgets what was read, as after the machine stepped (a resume does it by itself). */
  forget(): void;
  /** The task a CPU (a thread of the machine target, by its id) runs now, when known. */
  taskOn(cpuThread: number): Promise<OsTask | undefined>;
  /** The kernel and its loaded modules. */
  modules(): Promise<LoadedModule[]>;
  /** Removes active probes the personality installed. */
  detach(): Promise<void>;
}

/**
 * An OS personality (`--personality linux`, or one loaded with
 * `--personality-lib`): turns a machine target's raw state into an {@link OsModel}.
 * A module providing one exports it as `personality`.
 */
export interface Personality {
  readonly name: string;
  attach(target: Target, options: PersonalityOptions): Promise<OsModel>;
}

/** Type guard for a module's `personality` export. */
export function isPersonality(x: unknown): x is Personality {
  return !!x && typeof x === 'object' && typeof (x as Personality).name === 'string' && typeof (x as Personality).attach === 'function';
}
