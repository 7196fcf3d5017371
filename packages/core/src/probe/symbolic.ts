import { LookupError, ProbeError } from '../errors.js';
import { getLogger } from '../log/logger.js';
import { LibraryState, type Library, type LibraryChange } from '../symbols/library-state.js';
import type { ProgramSymbols } from '../symbols/program.js';
import type { StopHandler, Target } from '../target/target.js';
import type { StopEvent } from '../target/types.js';
import { loadMemoryValue, type Value } from '../values/value.js';
import type { Walker } from '../unwind/walker.js';
import { setSymbolContext, symbolContextOf, type SymbolContext } from './context.js';
import { ProbeManager, type BreakpointOptions } from './manager.js';
import { resolveProbePoints, watchPieces, type ProbePoint, type ResolveOptions } from './points.js';
import type { Probe } from './probe.js';
import type { HitValues, ProbeHandlers, ProbeHit } from './types.js';
import { hitValues } from './values.js';

const log = getLogger('P_PROBE');

/** Options of {@link SymbolProbes.probe}. */
export interface SymbolProbeOptions extends BreakpointOptions, ResolveOptions {
  /** For variables: catch writes (default) or reads and writes. */
  readonly access?: 'write' | 'readwrite';
  /** Fire at every instruction of the function (or line) instead of once (single-step based). */
  readonly instructions?: boolean;
  /** After an exec, resolve the spec again in the new image and place the probe there (default: dropped). */
  readonly reResolve?: boolean;
  /**
   * When the spec names nothing loaded yet, wait for the dynamic loader: the
   * probe is placed when a library that defines it is loaded, and waits again
   * when that library is unloaded (gdb's pending breakpoints).
   */
  readonly pending?: boolean;
}

/** The typed values of a watchpoint hit, besides the frame's. */
export interface WatchValues extends HitValues {
  /** The watched variable's value now (after the access). */
  watched(): Promise<Value | undefined>;
}

/**
 * A probe placed by name: one low-level probe per resolved point (a static
 * function defined in two files gives two), all with the same handlers.
 */
export class SymbolProbe {
  constructor(
    readonly owner: SymbolProbes,
    readonly spec: string,
    public points: readonly ProbePoint[],
    public probes: readonly Probe[],
    readonly handlers: ProbeHandlers,
    readonly options: SymbolProbeOptions,
  ) {}

  /** For a pending probe: the library each point lies in (undefined for the main program), by point. */
  libraries: readonly (Library | undefined)[] = [];

  /** Whether it waits for a library to define its spec. */
  get waiting(): boolean {
    return this.options.pending === true && !this.probes.length;
  }

  /** Times any of its probes fired. */
  get hits(): number {
    return this.probes.reduce((n, p) => n + p.hits, 0);
  }

  /** Removes its probes. */
  async remove(): Promise<void> {
    for (const p of this.probes) await p.remove();
    this.owner.forget(this);
  }
}

/**
 * Probes by name on one target: functions (entry, and exit with the return
 * value and the entry's arguments), inlined copies, source lines, addresses,
 * variables and member chains (watchpoints sized by their types), and every
 * instruction of a function. Hits carry the {@link ProbePoint} and lazily
 * computed typed values (`hit.values`). After an exec, probes asking for it
 * are resolved again in the new image; the others are gone with the old one.
 */
export class SymbolProbes implements StopHandler {
  private static readonly sets = new WeakMap<Target, SymbolProbes>();
  readonly manager: ProbeManager;
  private readonly live = new Set<SymbolProbe>();
  private followingLibraries = false;

  private constructor(readonly target: Target, readonly context: SymbolContext) {
    setSymbolContext(target, context);
    this.manager = ProbeManager.for(target);
    target.addStopHandler(this);
  }

  /**
   * The symbolic probes of a target, using `program` and `walker` (given the
   * first time; a fork child's are made like its parent's).
   */
  static for(target: Target, ctx?: { program: ProgramSymbols; walker: Walker }): SymbolProbes {
    let s = SymbolProbes.sets.get(target);
    if (!s) {
      const c = ctx ?? symbolContextOf(target);
      if (!c) throw new ProbeError('ERR_PROBE_CONTEXT', `probes by name on ${target.name} need its program symbols and a walker the first time`);
      s = new SymbolProbes(target, c);
      SymbolProbes.sets.set(target, s);
    }
    return s;
  }

  get program(): ProgramSymbols {
    return this.context.program;
  }

  /** The live probes placed by name. */
  probes(): SymbolProbe[] {
    return [...this.live];
  }

  /** Resolves a spec without placing anything. */
  resolve(spec: string, opts: ResolveOptions = {}): Promise<ProbePoint[]> {
    return resolveProbePoints(this.program, spec, opts);
  }

  /**
   * Places a probe on a function, `file:line`, address, variable or `a.b.c`
   * chain (see {@link resolveProbePoints}). An `exit` handler makes it an
   * entry/exit probe; variables become hardware watchpoints.
   */
  async probe(spec: string, handlers: ProbeHandlers, opts: SymbolProbeOptions = {}): Promise<SymbolProbe> {
    let points: ProbePoint[];
    try {
      points = await this.resolvePlaceable(spec, opts);
    } catch (err) {
      if (!(err instanceof LookupError) || !opts.pending) throw err;
      await this.followLibraries();
      const sp = new SymbolProbe(this, spec, [], [], handlers, opts);
      this.live.add(sp);
      log.debug(2, 'probe %s waits for a library that defines it (%s)', spec, err.message);
      return sp;
    }
    const probes = await this.place(points, handlers, opts);
    const sp = new SymbolProbe(this, spec, points, probes, handlers, opts);
    this.live.add(sp);
    if (opts.pending) sp.libraries = await this.librariesOf(await this.followLibraries(), points);
    return sp;
  }

  private resolvePlaceable(spec: string, opts: SymbolProbeOptions): Promise<ProbePoint[]> {
    return this.resolve(spec, { ...opts, ...(opts.instructions ? { afterPrologue: false } : {}) });
  }

  /** Has the loader's changes place waiting probes. */
  private async followLibraries(): Promise<LibraryState> {
    const libs = LibraryState.for(this.target, this.program);
    if (!this.followingLibraries) {
      libs.onChange((change) => this.onLibraryChange(libs, change));
      this.followingLibraries = true;
    }
    await libs.track();
    return libs;
  }

  private async librariesOf(libs: LibraryState, points: readonly ProbePoint[]): Promise<(Library | undefined)[]> {
    const out: (Library | undefined)[] = [];
    for (const p of points) {
      const at = p.addresses[0] ?? p.watch?.address;
      const lib = at === undefined ? undefined : await libs.libraryAt(at);
      out.push(lib?.main ? undefined : lib);
    }
    return out;
  }

  /**
   * A library came or went: pending probes placed in an unloaded library wait
   * again (their breakpoints went with its memory), and waiting probes whose
   * spec a new library defines are placed.
   */
  private async onLibraryChange(libs: LibraryState, change: LibraryChange): Promise<void> {
    const gone = (lib: Library | undefined) => lib !== undefined && change.removed.some((r) => r.linkMap === lib.linkMap && r.base === lib.base);
    for (const sp of this.live) {
      if (!sp.libraries.some(gone)) continue;
      const keep = sp.points.map((_, i) => !gone(sp.libraries[i]));
      for (let i = 0; i < sp.points.length; i++) {
        if (keep[i]) continue;
        for (const a of sp.points[i]!.addresses) this.target.swBreakpoints.forget(a);
        await sp.probes[i]?.remove();
      }
      sp.points = sp.points.filter((_, i) => keep[i]);
      sp.probes = sp.probes.filter((_, i) => keep[i]);
      sp.libraries = sp.libraries.filter((_, i) => keep[i]);
      log.debug(2, 'probe %s: %s', sp.spec, sp.waiting ? 'waits again, its library was unloaded' : 'its points in an unloaded library are gone');
    }
    if (!change.added.length) return;
    for (const sp of this.live) {
      if (!sp.waiting) continue;
      try {
        const points = await this.resolvePlaceable(sp.spec, sp.options);
        sp.probes = await this.place(points, sp.handlers, sp.options);
        sp.points = points;
        sp.libraries = await this.librariesOf(libs, points);
        log.debug(2, 'probe %s placed in %s', sp.spec, sp.libraries.map((l) => l?.path ?? 'the program').join(', '));
      } catch (err) {
        if (!(err instanceof LookupError)) log.warn('probe %s: cannot place it in a new library: %s', sp.spec, (err as Error).message);
      }
    }
  }

  /** @internal */
  forget(sp: SymbolProbe): void {
    this.live.delete(sp);
  }

  private async place(points: readonly ProbePoint[], handlers: ProbeHandlers, opts: SymbolProbeOptions): Promise<Probe[]> {
    const placed: Probe[] = [];
    try {
      for (const point of points) placed.push(await this.placeOne(point, handlers, opts));
    } catch (err) {
      for (const p of placed) await p.remove();
      throw err;
    }
    return placed;
  }

  private async placeOne(point: ProbePoint, handlers: ProbeHandlers, opts: SymbolProbeOptions): Promise<Probe> {
    const name = opts.name ?? point.name;
    const base = { ...opts, name, decorate: decorator(point), data: { ...(opts.data ?? {}) } };
    if (point.kind === 'variable') {
      const w = point.watch!;
      return this.manager.watchRanges(watchPieces(w.address, w.size), opts.access ?? 'write', handlers, base);
    }
    if (opts.instructions) {
      const ranges = point.ranges ?? [];
      if (!ranges.length) throw new ProbeError('ERR_PROBE_POINT', `${point.spec}: no code ranges to step through`);
      const entries = point.kind === 'function' && point.entry !== undefined ? [point.entry] : point.addresses;
      return this.manager.instructions(entries, ranges, handlers, base);
    }
    const wantsExit = handlers.exit !== undefined;
    if (wantsExit && point.kind !== 'function' && point.kind !== 'inlined') throw new ProbeError('ERR_PROBE_POINT', `${point.spec}: exit handlers need a function (it is a ${point.kind})`);
    // Arguments are gone when the function returns: capture them at entry for the exit handler.
    const wrapped: ProbeHandlers = wantsExit
      ? {
          ...handlers,
          pre: async (hit) => {
            await hit.values?.args().catch(() => undefined);
            return handlers.pre?.(hit);
          },
        }
      : handlers;
    const atEntry = point.kind === 'function' && point.entry !== undefined && point.addresses.length === 1 && point.addresses[0] === point.entry;
    return this.manager.breakpoints(point.addresses, wrapped, { ...base, returns: wantsExit && point.kind === 'function', atEntry });
  }

  /** @internal Re-resolves the probes that asked for it after an exec. */
  async handleStop(target: Target, ev: StopEvent): Promise<undefined> {
    if (ev.kind !== 'exec') return undefined;
    this.program.invalidate();
    for (const sp of [...this.live]) {
      if (!sp.options.reResolve) {
        this.live.delete(sp);
        continue;
      }
      sp.libraries = [];
      try {
        const points = await this.resolvePlaceable(sp.spec, sp.options);
        sp.points = points;
        sp.probes = await this.place(points, sp.handlers, sp.options);
        log.debug(3, 'probe %s placed again in the new image of %s', sp.spec, target.name);
      } catch (err) {
        sp.points = [];
        sp.probes = [];
        if (!sp.options.pending) log.warn('probe %s: not found in the new image of %s: %s', sp.spec, target.name, (err as Error).message);
      }
    }
    // The new image has its own loader to follow.
    if ([...this.live].some((sp) => sp.options.pending)) await this.followLibraries().catch((err: Error) => log.warn('pending probes on %s: cannot follow its loader: %s', target.name, err.message));
    return undefined;
  }
}

/** Adds the point and lazily computed typed values to every hit of a probe. */
function decorator(point: ProbePoint): (hit: ProbeHit) => Partial<Pick<ProbeHit, 'point' | 'values'>> {
  return (hit) => {
    const ctx = symbolContextOf(hit.target);
    if (!ctx) return { point };
    const values = hitValues(hit, point, ctx);
    if (point.kind !== 'variable' || !point.watch) return { point, values };
    const w = point.watch;
    const watched = async (): Promise<Value | undefined> => (w.type ? loadMemoryValue(hit.target, w.type, w.address, await hit.thread.registers()) : undefined);
    const out: WatchValues = Object.assign(values, { watched });
    return { point, values: out };
  };
}
