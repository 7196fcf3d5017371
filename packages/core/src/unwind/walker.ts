import { getLogger } from '../log/logger.js';
import type { Target } from '../target/target.js';
import type { Thread } from '../target/thread.js';
import type { Addr, Region } from '../target/types.js';
import { Frame, type Stack, type StepResult } from './frame.js';
import type { FrameStepper, SymbolLookup, WalkContext } from './stepper.js';
import type { ProgramSymbols } from '../symbols/program.js';
import { BottomOfStackStepper } from './steppers/bottom.js';
import { CfiStepper } from './steppers/cfi.js';
import { OrcStepper } from './steppers/orc.js';
import { FramePointerStepper } from './steppers/frame-pointer.js';
import { HeuristicScanStepper } from './steppers/scan.js';
import { SignalFrameStepper, isSigreturnTrampoline } from './steppers/signal.js';

const log = getLogger('T_UNW');

/*
 * The stack walker (after Dyninst's StackwalkerAPI). A walk starts from a
 * thread's registers (frame 0) and repeatedly asks the steppers, in priority
 * order among those claiming the frame, for the caller frame. A stepper answers
 * success (with the caller's recovered registers), bottom-of-stack, not-me (the
 * next stepper is tried) or error. A caller frame must make progress (a higher
 * stack pointer, except across a signal frame, which may switch stacks);
 * otherwise the next stepper is tried, and when none can, the walk ends with the
 * reason. Frames whose pc sits on the signal-return trampoline are marked so
 * that the signal stepper takes them and their callers keep exact pcs.
 */

/** Options of one walk. */
export interface WalkOptions {
  /** Maximum frames (default 4096). */
  readonly maxDepth?: number;
}

export class Walker {
  private readonly steppers: FrameStepper[] = [];
  private regionCache?: Promise<Region[]>;

  constructor(readonly target: Target, opts: { symbols?: SymbolLookup; steppers?: readonly FrameStepper[]; defaults?: boolean } = {}) {
    this.symbols = opts.symbols;
    if (opts.defaults ?? true) {
      for (const s of [new SignalFrameStepper(), new BottomOfStackStepper(), new FramePointerStepper(), new HeuristicScanStepper()]) this.addStepper(s);
    }
    for (const s of opts.steppers ?? []) this.addStepper(s);
    target.on('state-change', ({ to }) => {
      if (to === 'running') this.regionCache = undefined;
    });
  }

  /** Symbol lookup offered to steppers (and used for bottom-of-stack names). */
  symbols: SymbolLookup | undefined;

  /** Adds a stepper (users may add their own). */
  addStepper(stepper: FrameStepper): void {
    this.steppers.push(stepper);
    this.steppers.sort((a, b) => a.priority - b.priority);
  }

  /** The steppers in the order they are tried. */
  getSteppers(): readonly FrameStepper[] {
    return this.steppers;
  }

  /** The threads that can be walked. */
  getAvailableThreads(): Promise<Thread[]> {
    return this.target.threads();
  }

  /** Frame 0 of a thread, from its registers. */
  async getInitialFrame(thread: Thread): Promise<Frame> {
    const regs = await thread.registers();
    return this.finishFrame(new Frame(thread, 0, regs, { returnAddress: { kind: 'thread' }, stepper: 'thread', exactPc: !thread.pcIsReturnAddress }));
  }

  /** The caller of `frame`, or why there is none. */
  async walkSingleFrame(frame: Frame): Promise<{ frame: Frame } | { bottom: true } | { error: string }> {
    const ctx: WalkContext = {
      target: this.target,
      executableRegionAt: (a) => this.executableRegionAt(a),
      ...(this.symbols ? { symbols: this.symbols } : {}),
    };
    let lastError: string | undefined;
    for (const stepper of this.steppers) {
      if (stepper.claims && !(await stepper.claims(frame, ctx))) continue;
      let r: StepResult;
      try {
        r = await stepper.getCallerFrame(frame, ctx);
      } catch (err) {
        r = { status: 'error', message: (err as Error).message };
      }
      if (r.status === 'not-me') continue;
      if (r.status === 'bottom') return { bottom: true };
      if (r.status === 'error') {
        lastError = `${stepper.name}: ${r.message}`;
        log.debug(5, 'frame %d: %s', frame.index, lastError);
        continue;
      }
      const pc = r.registers.pc;
      const sp = r.registers.sp;
      if (pc === undefined || sp === undefined) {
        lastError = `${stepper.name}: no pc or sp for the caller`;
        continue;
      }
      if (pc === 0n) return { bottom: true };
      // Signal and exception frames may switch stacks (sigaltstack, the kernel's entry stacks).
      if (sp <= frame.sp && !frame.isSignalTrampoline && r.exactPc !== true) {
        lastError = `${stepper.name}: the stack does not progress (sp 0x${sp.toString(16)})`;
        continue;
      }
      if (r.cfa !== undefined) frame.setCfa(r.cfa);
      const caller = new Frame(frame.thread, frame.index + 1, r.registers, {
        returnAddress: r.returnAddress,
        stepper: stepper.name,
        exactPc: r.exactPc === true,
        callee: frame,
      });
      return { frame: await this.finishFrame(caller) };
    }
    return { error: lastError ?? 'no stepper can unwind this frame' };
  }

  /** Walks a thread's whole stack. */
  async walkStack(thread: Thread, opts: WalkOptions = {}): Promise<Stack> {
    return this.walkStackFromFrame(await this.getInitialFrame(thread), opts);
  }

  /** Walks from a given frame to the bottom. */
  async walkStackFromFrame(frame: Frame, opts: WalkOptions = {}): Promise<Stack> {
    const max = opts.maxDepth ?? 4096;
    const frames: Frame[] = [frame];
    let cur = frame;
    for (;;) {
      const r = await this.walkSingleFrame(cur);
      if ('bottom' in r) return { thread: frame.thread, frames, end: 'bottom' };
      if ('error' in r) return { thread: frame.thread, frames, end: 'error', error: r.error };
      // One step past the limit tells "more frames follow" from "that was the last".
      if (frames.length >= max) return { thread: frame.thread, frames, end: 'depth-limit' };
      frames.push(r.frame);
      cur = r.frame;
    }
  }

  /** Executable memory containing `address`, from a per-stop cache of the target's regions. */
  async executableRegionAt(address: Addr): Promise<Region | undefined> {
    this.regionCache ??= this.target.regions().catch(() => []);
    const regions = await this.regionCache;
    return regions.find((r) => r.executable && r.start <= address && address < r.end);
  }

  private async finishFrame(frame: Frame): Promise<Frame> {
    if (!(await isSigreturnTrampoline(this.target, frame.pc))) return frame;
    return new Frame(frame.thread, frame.index, frame.registers, { ...frame.init, exactPc: true, signalTrampoline: true });
  }
}

/**
 * A walker with every shipped stepper: signal frames, bottom of stack, kernel
 * ORC, DWARF CFI, frame pointers and the heuristic scanner, using the program's
 * modules for symbols and unwind tables.
 */
export function standardWalker(target: Target, program: ProgramSymbols): Walker {
  return new Walker(target, {
    symbols: program,
    defaults: false,
    steppers: [
      new SignalFrameStepper(),
      new BottomOfStackStepper((pc) => program.hasUnwindInfo(pc)),
      new OrcStepper(program),
      new CfiStepper(program),
      new FramePointerStepper(),
      new HeuristicScanStepper(),
    ],
  });
}
