import type { RegisterSet } from './arch/register-set.js';
import type { AddressSpace } from './target/address-space.js';
import type { Target } from './target/target.js';
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
  /** Running on a CPU right now (its registers are the CPU's). */
  readonly running: boolean;
  /** The kernel's own object for the task (`struct task_struct *`). */
  readonly object?: Addr;
  /** Root of its user page tables, for tasks that have a user address space. */
  readonly pageTableRoot?: Addr;
}

/** Options a personality receives from the command line. */
export interface PersonalityOptions {
  /** `-a` flags: thread_entry, thread_exit, memory, other. */
  readonly activeProbing: readonly string[];
  /** `-R` root prefix for finding module files and debuginfo. */
  readonly rootPrefix?: string;
}

/**
 * What an OS personality knows about a running OS. Overlay drivers
 * (os-process) build on it; tools list tasks through it.
 */
export interface OsModel {
  /** Every task, refreshed from the OS's memory. */
  tasks(): Promise<OsTask[]>;
  /** The address space of a task's user memory. */
  addressSpace(task: OsTask): Promise<AddressSpace>;
  /** A task's user memory regions (its VMAs), with mapped files. */
  regions(task: OsTask): Promise<Region[]>;
  /** Registers of a task: the CPU's when running, else those saved at its last switch. */
  registers(task: OsTask, context: 'kernel' | 'user'): Promise<RegisterSet>;
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
