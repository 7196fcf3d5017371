import type { RegisterSet } from '../arch/register-set.js';
import type { Thread } from '../target/thread.js';
import type { Addr } from '../target/types.js';

/** Where a frame's return address (its pc) was found while unwinding its callee. */
export type ReturnAddressLocation =
  | { readonly kind: 'memory'; readonly address: Addr }
  | { readonly kind: 'register'; readonly register: string }
  | { readonly kind: 'thread' };

/**
 * One physical stack frame. Frame 0 comes from the thread's registers; each
 * caller frame is produced by the stepper that walked through its callee, with
 * the registers that stepper could recover (others are unknown).
 */
export class Frame {
  constructor(
    readonly thread: Thread,
    readonly index: number,
    /** Registers recovered for this frame; unknown ones are absent. */
    readonly registers: RegisterSet,
    readonly init: {
      readonly returnAddress: ReturnAddressLocation;
      /** Name of the stepper that produced this frame (from its callee); `thread` for frame 0. */
      readonly stepper: string;
      /** The pc is exact (frame 0, or a frame interrupted by a signal), not a return address. */
      readonly exactPc: boolean;
      /** This frame is a signal trampoline (`__restore_rt`). */
      readonly signalTrampoline?: boolean;
      readonly callee?: Frame;
    },
  ) {}

  get pc(): Addr {
    return this.registers.require(this.registers.arch.pc);
  }
  get sp(): Addr {
    return this.registers.require(this.registers.arch.sp);
  }
  private cfaValue?: Addr;

  /** This frame's canonical frame address, once a stepper computed it (by unwinding this frame). */
  get cfa(): Addr | undefined {
    return this.cfaValue;
  }

  /** @internal Set by the walker when unwinding this frame computed its CFA. */
  setCfa(cfa: Addr): void {
    this.cfaValue ??= cfa;
  }
  get returnAddress(): ReturnAddressLocation {
    return this.init.returnAddress;
  }
  get stepper(): string {
    return this.init.stepper;
  }
  get callee(): Frame | undefined {
    return this.init.callee;
  }
  get isSignalTrampoline(): boolean {
    return this.init.signalTrampoline === true;
  }

  /**
   * The pc to use for symbol, line and unwind-table lookups: a return address
   * points after the call, possibly into the next function or line, so callers'
   * frames use pc − 1; exact pcs are used as they are.
   */
  get lookupPc(): Addr {
    return this.init.exactPc ? this.pc : this.pc - 1n;
  }
}

/** The outcome of one stepper on one frame (StackwalkerAPI's gcf_*). */
export type StepResult =
  /** `cfa`: the canonical frame address of the frame that was unwound (not of the caller). */
  | { readonly status: 'success'; readonly registers: RegisterSet; readonly cfa?: Addr; readonly returnAddress: ReturnAddressLocation; readonly exactPc?: boolean; readonly signalTrampoline?: boolean }
  | { readonly status: 'bottom' }
  | { readonly status: 'not-me' }
  | { readonly status: 'error'; readonly message: string };

/** The result of walking a stack. */
export interface Stack {
  readonly thread: Thread;
  readonly frames: readonly Frame[];
  /** Why the walk ended. */
  readonly end: 'bottom' | 'depth-limit' | 'error';
  /** For `error`: what went wrong below the last frame. */
  readonly error?: string;
}
