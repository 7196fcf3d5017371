import type { Target } from '../target/target.js';
import type { Thread } from '../target/thread.js';
import type { Addr } from '../target/types.js';
import type { FrameScope, NamedValue } from '../values/frame-scope.js';
import type { Value } from '../values/value.js';
import type { ProbePoint } from './points.js';
import type { Probe } from './probe.js';

/**
 * What a handler may ask for besides resuming. Handlers may also act directly
 * through the thread and target they receive; actions are the declarative form.
 * Actions are applied in order once every pre handler of the hit has run.
 */
export type ProbeAction =
  /** Single-step the thread `count` instructions after the pre handlers (post handlers run after the last). */
  | { readonly action: 'step'; readonly count: number }
  | { readonly action: 'set-registers'; readonly values: Readonly<Record<string, bigint>> }
  | { readonly action: 'write-memory'; readonly address: Addr; readonly bytes: Uint8Array }
  /**
   * Return from the probed function at once (the seed's action_return). At a
   * function's first instruction this pops the return address; elsewhere it
   * needs the unwinder (probes placed through {@link SymbolProbes}), which
   * restores the caller's registers. `value`: a bigint goes to rax as it is;
   * on a probe placed by name, a number or the value's bytes are placed as
   * the function's return type says (xmm0 for floating point, rax:rdx or
   * xmm0:xmm1 for small structs, the caller's buffer for large ones).
   */
  | { readonly action: 'return'; readonly value?: bigint | number | Uint8Array }
  /** Skip the probed instruction, which must be a call, as if it had returned `value`. */
  | { readonly action: 'skip'; readonly value?: bigint }
  /** Keep the target stopped and return control to the monitor's caller. */
  | { readonly action: 'stop' };

/**
 * A handler's result decides what happens next (after ctlmux's traps): nothing
 * (or `'resume'`) resumes the thread, `'stop'` keeps the target stopped and
 * returns from `monitor`; actions are applied in order.
 */
export type ProbeHandlerResult = void | undefined | 'resume' | 'stop' | ProbeAction | readonly ProbeAction[];

/**
 * Typed values of a hit, computed on first use (a handler that reads nothing
 * costs no unwinding): the frame the probe fired in, the probed function's
 * arguments, and at an exit the value it returned.
 */
export interface HitValues {
  /** The innermost frame's scope (registers, locals, arguments). */
  frame(): Promise<FrameScope>;
  /**
   * The arguments of the probed function (or inlined call), in order. At an
   * exit these are the values captured when the function was entered.
   */
  args(): Promise<NamedValue[]>;
  /** At an exit: the returned value, typed by the function's DWARF return type (undefined for void). */
  returnValue(): Promise<Value | undefined>;
  /** A variable or parameter visible in the probed frame, by name. */
  variable(name: string): Promise<NamedValue | undefined>;
}

/** One firing of a probe, given to its handlers while the target is paused. */
export interface ProbeHit {
  readonly probe: Probe;
  readonly target: Target;
  readonly thread: Thread;
  /** The probed address (for watchpoints, the watched address; for instruction probes, the pc). */
  readonly address: Addr;
  /** `pre`: before the probed instruction (after the access, for watchpoints); `post`: after it; `exit`: a function returned. */
  readonly phase: 'pre' | 'post' | 'exit';
  /** For a probe on probes: the hit of the probe below that fired. */
  readonly source?: ProbeHit;
  /** For exit hits: the matching entry hit. */
  readonly entry?: ProbeHit;
  /** Values attached by whoever placed the probe. */
  readonly data: Record<string, unknown>;
  /** The symbolic probe point, for probes placed by name. */
  readonly point?: ProbePoint;
  /** Typed values, for probes placed by name (see {@link SymbolProbes}). */
  readonly values?: HitValues;
}

/** A handler; it may be async. */
export type ProbeHandler = (hit: ProbeHit) => ProbeHandlerResult | Promise<ProbeHandlerResult>;

/** Handlers of a probe; any may be async. */
export interface ProbeHandlers {
  readonly pre?: ProbeHandler;
  readonly post?: ProbeHandler;
  /** For return probes: called when the probed function returns (the hit's `entry` is the entry hit). */
  readonly exit?: ProbeHandler;
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
  /** A predicate over the hit (a value filter); false ignores the hit (and the probes sitting on it). */
  readonly filter?: (hit: ProbeHit) => boolean | Promise<boolean>;
  /** Free data copied into every hit's `data`. */
  readonly data?: Record<string, unknown>;
  /** @internal Adds symbolic context (point, typed values) to each hit. */
  readonly decorate?: (hit: ProbeHit) => Partial<Pick<ProbeHit, 'point' | 'values'>>;
}
