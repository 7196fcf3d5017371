import type { Target } from '../target/target.js';
import type { Addr, LoadedModule, Region } from '../target/types.js';
import type { Frame, StepResult } from './frame.js';

/** A symbol covering an address, as far as the walker needs one. */
export interface AddressSymbol {
  readonly name: string;
  /** Runtime start address. */
  readonly start: Addr;
  readonly module?: LoadedModule;
}

/** Address-to-symbol lookup the walker and steppers may use (StackwalkerAPI's SymbolLookup). */
export interface SymbolLookup {
  symbolAt(address: Addr): Promise<AddressSymbol | undefined>;
}

/** What a stepper may use besides the frame it walks through. */
export interface WalkContext {
  readonly target: Target;
  readonly symbols?: SymbolLookup;
  /** The executable region containing an address (cached for the current stop). */
  executableRegionAt(address: Addr): Promise<Region | undefined>;
}

/**
 * Knows how to walk through one kind of frame (after StackwalkerAPI's
 * FrameStepper). The walker tries steppers in priority order (lower first) among
 * those claiming the frame's pc; `not-me` passes to the next one.
 */
export interface FrameStepper {
  readonly name: string;
  /** Lower runs first. Shipped steppers use 100 (signal), 200 (bottom), 300 (CFI), 350 (kernel ORC), 400 (frame pointer), 900 (scanner). */
  readonly priority: number;
  /** Whether this stepper covers the frame's pc at all; absent means everywhere. */
  claims?(frame: Frame, ctx: WalkContext): boolean | Promise<boolean>;
  /** Computes the caller of `frame`. */
  getCallerFrame(frame: Frame, ctx: WalkContext): Promise<StepResult>;
}
