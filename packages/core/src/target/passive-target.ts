import { NotSupportedError } from '../errors.js';
import { Target } from './target.js';
import type { StopEvent, TargetCapabilities } from './types.js';

/** The capability manifest of a target that can be read (and maybe written) but never runs. */
export function passiveCapabilities(opts: { readOnly: boolean; physicalMemory: boolean }): TargetCapabilities {
  return {
    launch: false,
    readOnly: opts.readOnly,
    writeRegisters: false,
    execution: false,
    swBreakpoints: false,
    hwDebugSlots: 0,
    singleStep: false,
    threadEvents: false,
    processEvents: false,
    syscallEvents: false,
    physicalMemory: opts.physicalMemory,
    kill: false,
  };
}

/**
 * A target that never runs on its own (a core file; a process seen through
 * its OS): pausing, resuming, waiting and breakpoints are refused, saying why;
 * detaching has nothing to undo.
 */
export abstract class PassiveTarget extends Target {
  /** Why it does not run, for the refusals (`a core file never runs`). */
  protected abstract readonly passiveReason: string;

  private refuse<T>(what: string): Promise<T> {
    return Promise.reject(new NotSupportedError(`${what} (${this.passiveReason})`, this.driver));
  }

  protected _pause(): Promise<StopEvent[]> {
    return this.refuse('pausing');
  }

  protected _resume(): Promise<void> {
    return this.refuse('resuming');
  }

  protected _wait(): Promise<StopEvent[]> {
    return this.refuse('waiting for a stop');
  }

  protected _poll(): Promise<StopEvent[]> {
    return Promise.resolve([]);
  }

  override _insertSwBreakpoint(): Promise<Uint8Array> {
    return this.refuse('placing breakpoints and probes');
  }

  protected _detach(): Promise<void> {
    return Promise.resolve();
  }
}
