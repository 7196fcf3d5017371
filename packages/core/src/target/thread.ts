import type { RegisterSet } from '../arch/register-set.js';
import type { RegisterDesc } from '../arch/x86-64.js';
import { NotSupportedError } from '../errors.js';
import type { Target } from './target.js';
import type { ThreadInfo, ThreadState } from './types.js';

/**
 * A thread of a target. Its registers are fetched once per stop and cached until
 * the target runs again; writes go straight to the driver.
 */
export class Thread {
  private infoValue: ThreadInfo;
  private regs?: Promise<RegisterSet>;

  constructor(readonly target: Target, info: ThreadInfo) {
    this.infoValue = info;
  }

  get tid(): number {
    return this.infoValue.tid;
  }
  get name(): string | undefined {
    return this.infoValue.name;
  }
  get state(): ThreadState {
    return this.infoValue.state;
  }
  get info(): ThreadInfo {
    return this.infoValue;
  }

  /** All registers the driver provides, as of the current stop. */
  registers(): Promise<RegisterSet> {
    if (!this.regs) {
      const p = this.target._getRegisters(this.tid);
      this.regs = p;
      p.catch(() => {
        if (this.regs === p) this.regs = undefined;
      });
    }
    return this.regs;
  }

  /** One register by name or DWARF number; throws RegisterError when unavailable. */
  async register(id: string | number | RegisterDesc): Promise<bigint> {
    return (await this.registers()).require(id);
  }

  /**
   * Whether the pc of {@link registers} is a return address (a task stopped in a
   * call, as one switched out is) rather than the next instruction to run.
   */
  get pcIsReturnAddress(): boolean {
    return false;
  }

  /** The program counter. */
  pc(): Promise<bigint> {
    return this.register(this.target.arch.pc);
  }

  /** The stack pointer. */
  sp(): Promise<bigint> {
    return this.register(this.target.arch.sp);
  }

  /** Writes registers (by name) of this stopped thread. */
  async setRegisters(values: Record<string, bigint>): Promise<void> {
    if (!this.target.capabilities.writeRegisters) throw new NotSupportedError('writing registers', this.target.driver);
    const regs = (await this.registers()).clone();
    const names = Object.keys(values);
    for (const n of names) regs.set(n, values[n]!);
    await this.target._setRegisters(this.tid, regs, names.map((n) => this.target.arch.register(n).name));
    this.target.noteRegistersWritten(this.tid);
    this.target.invalidate();
  }

  /** Writes one register. */
  setRegister(name: string, value: bigint): Promise<void> {
    return this.setRegisters({ [name]: value });
  }

  /** @internal Replaces the driver's description after a listing. */
  update(info: ThreadInfo): void {
    this.infoValue = info;
  }

  /** @internal Forgets cached registers. */
  invalidate(): void {
    this.regs = undefined;
  }
}

/**
 * A thread an OS personality models (a kernel task): listed from the OS's
 * memory, with registers the personality computes (a CPU's, or those saved
 * at the task's last switch) instead of the driver's.
 */
export class TaskThread extends Thread {
  private taskRegs?: Promise<RegisterSet>;

  constructor(target: Target, info: ThreadInfo, private readonly load: () => Promise<RegisterSet>, private readonly switchedOut: boolean) {
    super(target, info);
  }

  /** A task switched out has the pc of its return into the scheduler. */
  override get pcIsReturnAddress(): boolean {
    return this.switchedOut;
  }

  override registers(): Promise<RegisterSet> {
    return (this.taskRegs ??= this.load());
  }

  override setRegisters(): Promise<void> {
    return Promise.reject(new NotSupportedError('writing the registers of an OS task', this.target.driver));
  }

  override invalidate(): void {
    this.taskRegs = undefined;
  }
}
