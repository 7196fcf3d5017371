import type { Target } from '../target/target.js';
import type { Thread } from '../target/thread.js';
import type { Addr } from '../target/types.js';
import type { Probe } from './probe.js';

/**
 * What a handler may ask for besides resuming. Handlers may also act directly
 * through the thread and target they receive; actions are the declarative form.
 */
export type ProbeAction =
  /** Single-step the thread `count` instructions after the pre handlers (post handlers run after the last). */
  | { readonly action: 'step'; readonly count: number }
  | { readonly action: 'set-registers'; readonly values: Readonly<Record<string, bigint>> }
  | { readonly action: 'write-memory'; readonly address: Addr; readonly bytes: Uint8Array }
  /** At a function's entry: return to the caller at once, with `value` in the return register (the seed's action_return). */
  | { readonly action: 'return'; readonly value?: bigint }
  /** Keep the target stopped and return control to the monitor's caller. */
  | { readonly action: 'stop' };

/**
 * A handler's result decides what happens next (after ctlmux's traps): nothing
 * (or `'resume'`) resumes the thread, `'stop'` keeps the target stopped and
 * returns from `monitor`; actions are applied in order.
 */
export type ProbeHandlerResult = void | undefined | 'resume' | 'stop' | ProbeAction | readonly ProbeAction[];

/** One firing of a probe, given to its handlers while the target is paused. */
export interface ProbeHit {
  readonly probe: Probe;
  readonly target: Target;
  readonly thread: Thread;
  /** The probed address (for watchpoints, the watched address). */
  readonly address: Addr;
  /** `pre`: before the probed instruction; `post`: after it; `exit`: a function returned. */
  readonly phase: 'pre' | 'post' | 'exit';
  /** For a probe on probes: the hit of the probe below that fired. */
  readonly source?: ProbeHit;
  /** For exit hits: the matching entry hit. */
  readonly entry?: ProbeHit;
  /** Values attached by whoever placed the probe (typed arguments, return values...). */
  readonly data: Record<string, unknown>;
}

/** Handlers of a probe; any may be async. */
export interface ProbeHandlers {
  readonly pre?: (hit: ProbeHit) => ProbeHandlerResult | Promise<ProbeHandlerResult>;
  readonly post?: (hit: ProbeHit) => ProbeHandlerResult | Promise<ProbeHandlerResult>;
  /** For return probes: called when the probed function returns. */
  readonly exit?: (hit: ProbeHit) => ProbeHandlerResult | Promise<ProbeHandlerResult>;
}

/** Restricts a probe to some threads. All given criteria must match. */
export interface ThreadFilter {
  readonly tids?: readonly number[];
  readonly names?: readonly (string | RegExp)[];
  /** Threads whose parent (ptid) is this id. */
  readonly parent?: number;
}

/** How a code probe is implemented. */
export type BreakpointKind = 'auto' | 'software' | 'hardware';

/** Options common to every probe. */
export interface ProbeOptions {
  readonly name?: string;
  readonly threads?: ThreadFilter;
  /** A predicate over the hit (a value filter); false ignores the hit. */
  readonly filter?: (hit: ProbeHit) => boolean | Promise<boolean>;
  /** Free data copied into every hit's `data`. */
  readonly data?: Record<string, unknown>;
}
