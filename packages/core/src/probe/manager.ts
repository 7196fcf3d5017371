import { NotSupportedError, ProbeError } from '../errors.js';
import { getLogger } from '../log/logger.js';
import type { StopDecision, StopHandler, Target } from '../target/target.js';
import type { Thread } from '../target/thread.js';
import type { Addr, StopEvent } from '../target/types.js';
import { symbolContextOf } from './context.js';
import { callInstructionLength } from './insn.js';
import { Probe, type ProbeAnchor, type WatchRange } from './probe.js';
import { returnRegisters } from './values.js';
import type { BreakpointKind, ProbeAction, ProbeHandler, ProbeHandlerResult, ProbeHandlers, ProbeHit, ProbeOptions } from './types.js';

const log = getLogger('P_PROBE');

/*
 * The probe layer of one target. Probes sit on probepoints: code addresses
 * (software breakpoints shared by reference count, or hardware slots), watched
 * memory (hardware slots), every instruction of some code ranges (a breakpoint
 * at the entry, then single steps), or other probes. Registered as the
 * target's stop handler, the manager turns each stop on a probepoint into one
 * "hit" of every probe there:
 *
 *   1. pre handlers run, source probes before the probes sitting on them
 *      (a filter or thread filter that rejects a hit also hides it from the
 *      sinks); their results (actions) are collected, not yet applied;
 *   2. return tracking is armed for function probes whose probes have exit
 *      handlers: a breakpoint on the return address, matched later by thread
 *      and stack pointer so recursion and threads each see their own return;
 *   3. actions are applied in order (registers, memory, forced return, skip);
 *   4. when a post handler exists or a step was asked for, the thread is
 *      single-stepped (the others stay stopped) and post handlers run;
 *   5. the target resumes unless some handler asked to stop (ctlmux's rule).
 *
 * Exit hits carry the entry hit; instruction probes fire once per
 * instruction executed in their ranges, and when the code calls out of them
 * the thread runs free until the call returns (a breakpoint on the return
 * address), so other threads are never held longer than one step.
 */

interface CodePoint {
  readonly address: Addr;
  readonly hardware: boolean;
  slot?: number;
  /** A hardware slot programmed on this thread only. */
  tid?: number;
  readonly probes: Set<Probe>;
}

/** A hardware watchpoint slot and the probe it serves. */
interface WatchSlot {
  readonly slot: number;
  readonly tid?: number;
  readonly probe: Probe;
}

/** One activation whose return is awaited. */
interface PendingReturn {
  /** The entry hits: a function probe's and those of the probes sitting on it. */
  readonly hits: readonly ProbeHit[];
  /** Stack pointer right after the return. */
  readonly sp: Addr;
}

/** An instruction probe waiting for a call out of its ranges to return. */
interface PendingStep {
  readonly probe: Probe;
  /** Stack pointer right after the call returns. */
  readonly sp: Addr;
  /** Stack pointer at the probed code's entry: leaving the ranges above it means it returned. */
  readonly entrySp: Addr;
}

/** Options of a code probe. */
export interface BreakpointOptions extends ProbeOptions {
  readonly kind?: BreakpointKind;
}

/** What the handlers of one hit asked for. */
interface Outcome {
  stop: boolean;
  steps: number;
  /** The pc moved (forced return, skipped call): no stepping, no post handlers. */
  moved: boolean;
}

type PhaseHandler = 'pre' | 'post' | 'exit';

/** The probe layer of one target: see the comment above. */
export class ProbeManager implements StopHandler {
  private static readonly managers = new WeakMap<Target, ProbeManager>();
  private readonly code = new Map<Addr, CodePoint>();
  private watch: WatchSlot[] = [];
  /** Return breakpoints: address → pending returns by thread. */
  private readonly returns = new Map<Addr, Map<number, PendingReturn[]>>();
  /** Instruction probes' continuation breakpoints: address → waiting steppers by thread. */
  private readonly continuations = new Map<Addr, Map<number, PendingStep[]>>();
  private readonly all = new Set<Probe>();

  private constructor(readonly target: Target, private readonly forceSoftware: boolean) {
    target.addStopHandler(this);
  }

  /** The target's probe manager (created on first use; `-s` forces software breakpoints). */
  static for(target: Target): ProbeManager {
    let m = ProbeManager.managers.get(target);
    if (!m) {
      m = new ProbeManager(target, target.softBreakpoints);
      ProbeManager.managers.set(target, m);
    }
    return m;
  }

  /** The manager of a target, if it has one. */
  static existing(target: Target): ProbeManager | undefined {
    return ProbeManager.managers.get(target);
  }

  /** Every live probe. */
  probes(): Probe[] {
    return [...this.all];
  }

  /** A probe on a code address (a software breakpoint unless hardware is asked for, or the only kind the target has). */
  breakpoint(address: Addr, handlers: ProbeHandlers, opts: BreakpointOptions = {}): Promise<Probe> {
    return this.breakpoints([address], handlers, opts);
  }

  /** One probe on several code addresses (a line with several runs of code, a function and its inlined copies). */
  async breakpoints(addresses: readonly Addr[], handlers: ProbeHandlers, opts: BreakpointOptions & { returns?: boolean; atEntry?: boolean } = {}): Promise<Probe> {
    if (!addresses.length) throw new ProbeError('ERR_PROBE_POINT', `${opts.name ? `probe ${opts.name}` : 'a probe'} needs at least one address`);
    const hardware = this.chooseHardware(opts.kind ?? 'auto', addresses.length);
    const probe = new Probe(this, { kind: 'breakpoint', addresses: [...new Set(addresses)], hardware, returns: opts.returns ?? false, atEntry: opts.atEntry ?? false }, handlers, opts);
    await this.attachAll(probe);
    return probe;
  }

  /**
   * An entry/exit probe on a function whose first instruction is at `entry`:
   * `pre`/`post` run at entry, `exit` when that activation returns (with the entry hit).
   */
  functionReturn(entry: Addr, handlers: ProbeHandlers, opts: BreakpointOptions = {}): Promise<Probe> {
    return this.breakpoints([entry], handlers, { ...opts, returns: true, atEntry: true });
  }

  /**
   * A hardware watchpoint on `length` bytes at `address` (aligned to its length);
   * see {@link watchRanges} for any size.
   */
  watchpoint(address: Addr, length: 1 | 2 | 4 | 8, access: 'write' | 'readwrite', handlers: ProbeHandlers, opts: ProbeOptions = {}): Promise<Probe> {
    if (address % BigInt(length) !== 0n) throw new ProbeError('ERR_WATCH_ALIGN', `a ${length}-byte watchpoint needs an address aligned to ${length} (0x${address.toString(16)} is not)`);
    return this.watchRanges([{ address, length }], access, handlers, opts);
  }

  /** A watchpoint over several aligned pieces (one hardware slot each); {@link watchPieces} splits any range. */
  async watchRanges(ranges: readonly WatchRange[], access: 'write' | 'readwrite', handlers: ProbeHandlers, opts: ProbeOptions = {}): Promise<Probe> {
    if (this.target.capabilities.hwDebugSlots === 0) throw new NotSupportedError('watchpoints', this.target.driver);
    const tid = singleTid(opts);
    const free = this.target.hwSlots.free(tid);
    if (ranges.length > free) {
      throw new ProbeError('ERR_NO_HW_SLOTS', `watching ${opts.name ?? `0x${ranges[0]!.address.toString(16)}`} needs ${ranges.length} hardware debug slots and ${this.target.name} has ${free} free; watch a smaller object or remove a probe`);
    }
    const probe = new Probe(this, { kind: 'watchpoint', ranges: [...ranges], access }, handlers, opts);
    const slots: number[] = [];
    try {
      for (const r of ranges) slots.push(await this.target.hwSlots.allocate({ address: r.address, length: r.length, access }, tid));
    } catch (err) {
      for (const s of slots) await this.target.hwSlots.release(s, tid);
      throw err;
    }
    for (const slot of slots) this.watch.push(tid === undefined ? { slot, probe } : { slot, tid, probe });
    this.all.add(probe);
    return probe;
  }

  /**
   * A probe on every instruction executed in `ranges` (runtime [start, end)),
   * entered at `entries`: a breakpoint at each entry, then single steps while
   * the pc stays in the ranges. Calls out of the ranges run at full speed.
   * Only `pre` handlers are called (the hit's address is the instruction's).
   */
  async instructions(entries: readonly Addr[], ranges: readonly (readonly [Addr, Addr])[], handlers: Pick<ProbeHandlers, 'pre'>, opts: BreakpointOptions = {}): Promise<Probe> {
    if (!this.target.capabilities.singleStep) throw new NotSupportedError('single-step', this.target.driver);
    if (!entries.length || !ranges.length) throw new ProbeError('ERR_PROBE_POINT', `${opts.name ? `instruction probe ${opts.name}` : 'an instruction probe'} needs an entry and code ranges`);
    const hardware = this.chooseHardware(opts.kind ?? 'auto', entries.length);
    const probe = new Probe(this, { kind: 'instructions', addresses: [...new Set(entries)], ranges, hardware }, handlers, opts);
    await this.attachAll(probe);
    return probe;
  }

  /** A probe on other probes: fires when one of them fires and `opts.filter`/thread filter accept it. */
  onProbes(sources: readonly Probe[], handlers: ProbeHandlers, opts: ProbeOptions = {}): Probe {
    if (!sources.length) throw new ProbeError('ERR_PROBE_SOURCES', 'a probe on probes needs at least one source probe');
    const probe = new Probe(this, { kind: 'probes', sources }, handlers, opts);
    for (const s of sources) s.sinks.add(probe);
    this.all.add(probe);
    return probe;
  }

  /** Removes every probe. */
  async removeAll(): Promise<void> {
    for (const p of [...this.all]) await p.remove();
  }

  /**
   * Places copies of this target's probes (same handlers and options, probes
   * on probes rebuilt on the copies) in a fork child that shares its image.
   * Pending returns and steps are not copied.
   */
  async copyTo(child: Target): Promise<Probe[]> {
    const into = ProbeManager.for(child);
    const map = new Map<Probe, Probe>();
    const copies: Probe[] = [];
    const copy = async (p: Probe): Promise<Probe | undefined> => {
      if (map.has(p)) return map.get(p);
      if (p.isRemoved) return undefined;
      const a = p.anchor;
      const kind: BreakpointKind = 'hardware' in a && a.hardware ? 'hardware' : 'software';
      let c: Probe;
      switch (a.kind) {
        case 'breakpoint':
          c = await into.breakpoints(a.addresses, p.handlers, { ...p.options, kind, returns: a.returns, atEntry: a.atEntry });
          break;
        case 'watchpoint':
          c = await into.watchRanges(a.ranges, a.access, p.handlers, p.options);
          break;
        case 'instructions':
          c = await into.instructions(a.addresses, a.ranges, p.handlers, { ...p.options, kind });
          break;
        case 'probes': {
          const sources: Probe[] = [];
          for (const s of a.sources) {
            const cs = await copy(s);
            if (cs) sources.push(cs);
          }
          if (!sources.length) return undefined;
          c = into.onProbes(sources, p.handlers, p.options);
          break;
        }
      }
      c.enabled = p.enabled;
      map.set(p, c);
      copies.push(c);
      return c;
    };
    for (const p of this.all) await copy(p);
    return copies;
  }

  /** @internal Called by Probe.remove(). */
  async release(probe: Probe): Promise<void> {
    this.all.delete(probe);
    const a = probe.anchor;
    switch (a.kind) {
      case 'probes':
        for (const s of a.sources) s.sinks.delete(probe);
        return;
      case 'watchpoint': {
        const mine = this.watch.filter((w) => w.probe === probe);
        this.watch = this.watch.filter((w) => w.probe !== probe);
        if (this.live()) for (const w of mine) await this.target.hwSlots.release(w.slot, w.tid);
        return;
      }
      case 'breakpoint':
      case 'instructions':
        for (const address of a.addresses) await this.detachCode(address, probe);
        await this.dropPending(probe);
        return;
    }
  }

  // ------------------------------------------------------------ stop handling

  async handleStop(target: Target, ev: StopEvent): Promise<{ consumed: boolean; decision?: StopDecision } | undefined> {
    switch (ev.kind) {
      case 'breakpoint':
        return this.onCodeHit(ev.tid, ev.address);
      case 'hw-debug': {
        if (ev.access === 'exec') return this.onCodeHit(ev.tid, ev.address);
        const w = this.watch.find((x) => x.slot === ev.slot && x.tid === ev.tid) ?? this.watch.find((x) => x.slot === ev.slot && x.tid === undefined);
        const probe = w?.probe;
        if (!probe || probe.anchor.kind !== 'watchpoint') return undefined;
        const thread = await target.thread(ev.tid);
        const r = await this.fireEntry([probe], thread, ev.address);
        return { consumed: true, decision: r.stop ? 'stop' : 'resume' };
      }
      case 'fork':
      case 'vfork': {
        const child = target.childTarget(ev.childPid);
        // A vfork child runs in its parent's memory, whose breakpoints are lifted until it execs.
        if (child && ev.kind === 'fork' && target.forkPolicy.inheritProbes && this.all.size) await this.copyTo(child);
        return undefined;
      }
      case 'exec':
      case 'exited':
        // The image is gone, and its breakpoints and debug registers with it:
        // at an exec its probes go too (probes by name may be placed again).
        this.code.clear();
        this.returns.clear();
        this.continuations.clear();
        this.watch = [];
        for (const p of this.all) if (p.anchor.kind !== 'probes') p.enabled = false;
        if (ev.kind === 'exec') await this.dropDisabled();
        return undefined;
      default:
        return undefined;
    }
  }

  /**
   * Forgets every probe of the old image after an exec (their breakpoints are
   * gone with it); probes on probes over them go too.
   */
  async dropDisabled(): Promise<void> {
    for (const p of [...this.all]) if (!p.enabled && p.anchor.kind !== 'probes') await p.remove();
  }

  private async onCodeHit(tid: number, address: Addr): Promise<{ consumed: boolean; decision?: StopDecision } | undefined> {
    const point = this.code.get(address);
    const returns = this.returns.get(address);
    const steps = this.continuations.get(address);
    if (!point && !returns && !steps) return undefined;
    const thread = await this.target.thread(tid);
    let stop = false;
    if (returns) stop = (await this.onReturnHit(thread, address, returns)) || stop;
    if (steps) stop = (await this.onContinuation(thread, address, steps)) || stop;
    if (point) {
      const probes = [...point.probes].filter((p) => p.enabled);
      if (probes.length) stop = (await this.fireEntry(probes, thread, address)).stop || stop;
    }
    return { consumed: true, decision: stop ? 'stop' : 'resume' };
  }

  /**
   * A hit of `roots` (probes anchored at `address`) and the probes sitting on
   * them: pre handlers, return tracking, actions, step and post handlers, and
   * for instruction probes the stepping through their ranges.
   */
  private async fireEntry(roots: readonly Probe[], thread: Thread, address: Addr): Promise<{ stop: boolean }> {
    const fired: { hit: ProbeHit; root: Probe }[] = [];
    const actions: { hit: ProbeHit; actions: readonly ProbeAction[] }[] = [];
    let stop = false;
    const visit = async (probe: Probe, root: Probe, source?: ProbeHit): Promise<void> => {
      if (!probe.enabled || probe.isRemoved || !probe.acceptsThread(thread)) return;
      const hit = probe.makeHit({ target: this.target, thread, address, phase: 'pre', ...(source ? { source } : {}) });
      if (probe.options.filter && !(await probe.options.filter(hit))) return;
      probe.hits++;
      fired.push({ hit, root });
      const r = normalize(await call(probe, 'pre', probe.handlers.pre, hit));
      stop ||= r.stop;
      if (r.actions.length) actions.push({ hit, actions: r.actions });
      for (const sink of probe.sinks) await visit(sink, root, hit);
    };
    for (const p of roots) await visit(p, p);

    for (const root of roots) {
      const a = root.anchor;
      if (a.kind !== 'breakpoint' || !a.returns) continue;
      const hits = fired.filter((f) => f.root === root).map((f) => f.hit);
      if (hits.some((h) => h.probe.handlers.exit)) await this.armReturn(thread, hits, a.atEntry);
    }

    const out: Outcome = { stop, steps: 0, moved: false };
    for (const { hit, actions: list } of actions) await this.apply(hit, list, out);

    const posts = fired.filter((f) => f.hit.probe.handlers.post && f.hit.probe.anchor.kind !== 'instructions');
    if (!out.moved && (out.steps > 0 || posts.length)) {
      for (let i = 0; i < Math.max(1, out.steps); i++) {
        const ev = await this.target.step(thread);
        if (!ev.some((e) => e.kind === 'step')) break;
      }
      const after: Outcome = { stop: false, steps: 0, moved: false };
      for (const { hit } of posts) {
        const postHit: ProbeHit = { ...hit, phase: 'post' };
        const r = normalize(await call(hit.probe, 'post', hit.probe.handlers.post, postHit));
        after.stop ||= r.stop;
        await this.apply(postHit, r.actions.filter((x) => x.action !== 'step'), after);
      }
      out.stop ||= after.stop;
    }

    if (!out.moved && !out.stop) {
      for (const { hit, root } of fired) {
        if (hit.probe !== root || root.anchor.kind !== 'instructions') continue;
        if ((await this.stepThrough(root, thread, await thread.sp())).stop) out.stop = true;
      }
    }
    return { stop: out.stop };
  }

  /** Applies actions in order; records stops, steps and pc moves in `out`. */
  private async apply(hit: ProbeHit, actions: readonly ProbeAction[], out: Outcome): Promise<void> {
    for (const a of actions) {
      switch (a.action) {
        case 'stop':
          out.stop = true;
          break;
        case 'step':
          out.steps = Math.max(out.steps, a.count);
          break;
        case 'set-registers':
          await hit.thread.setRegisters({ ...a.values });
          break;
        case 'write-memory':
          await this.target.write(a.address, a.bytes);
          break;
        case 'return':
          if (out.moved) break;
          await this.forceReturn(hit, a.value);
          out.moved = true;
          break;
        case 'skip':
          if (out.moved) break;
          await this.skipCall(hit, a.value);
          out.moved = true;
          break;
      }
    }
  }

  /** Makes the thread return from the probed function now, as `ret` would, returning `value`. */
  private async forceReturn(hit: ProbeHit, value: bigint | number | Uint8Array | undefined): Promise<void> {
    const anchor = hit.probe.anchor;
    const root = rootAnchor(hit);
    const arch = this.target.arch;
    let regs: Record<string, bigint>;
    const atEntry = hit.phase === 'pre' && root?.kind === 'breakpoint' && root.atEntry === true;
    // Placed before the registers move: a value returned in memory goes where rdi points at entry.
    let valueRegs: Record<string, bigint> = {};
    if (typeof value === 'bigint') valueRegs = { rax: value };
    else if (value !== undefined) {
      const fn = hit.point?.function;
      if (!fn) throw new ProbeError('ERR_PROBE_ACTION', `probe ${hit.probe.name}: returning a number or bytes needs the function's return type: place the probe by name (SymbolProbes)`);
      valueRegs = await returnRegisters(hit.thread, fn, value, atEntry);
    }
    if (atEntry) {
      const sp = await hit.thread.sp();
      regs = { [arch.pc.name]: await this.target.readPointer(sp), [arch.sp.name]: sp + BigInt(arch.wordSize) };
    } else {
      const caller = await this.callerRegisters(hit.thread);
      if (!caller) {
        throw new ProbeError('ERR_PROBE_ACTION', `probe ${hit.probe.name}: cannot force a return here (${anchor.kind === 'watchpoint' ? 'a watchpoint' : 'not at a function entry'}, and the frame cannot be unwound)`);
      }
      regs = caller;
    }
    await hit.thread.setRegisters({ ...regs, ...valueRegs });
    this.target.forgetBreakpointStop(hit.thread.tid);
  }

  /** Skips the call instruction the thread stopped at. */
  private async skipCall(hit: ProbeHit, value: bigint | undefined): Promise<void> {
    const pc = await hit.thread.pc();
    const len = callInstructionLength(await this.target.read(pc, 16).catch(() => new Uint8Array(0)));
    if (len === undefined) throw new ProbeError('ERR_PROBE_ACTION', `probe ${hit.probe.name}: the instruction at 0x${pc.toString(16)} is not a call; only calls can be skipped`);
    const regs: Record<string, bigint> = { [this.target.arch.pc.name]: pc + BigInt(len) };
    if (value !== undefined) regs.rax = value;
    await hit.thread.setRegisters(regs);
    this.target.forgetBreakpointStop(hit.thread.tid);
  }

  /** The caller's registers as unwinding the thread's innermost frame recovers them, when a walker is available. */
  private async callerRegisters(thread: Thread): Promise<Record<string, bigint> | undefined> {
    const caller = await this.unwindOnce(thread);
    if (!caller) return undefined;
    const out: Record<string, bigint> = {};
    for (const [r, v] of caller.registers.entries()) if (r.group === 'general') out[r.name] = v;
    return out;
  }

  private async unwindOnce(thread: Thread) {
    const walker = symbolContextOf(this.target)?.walker;
    if (!walker) return undefined;
    const r = await walker.walkSingleFrame(await walker.getInitialFrame(thread));
    return 'frame' in r ? r.frame : undefined;
  }

  // ---------------------------------------------------------- return probes

  private async armReturn(thread: Thread, hits: readonly ProbeHit[], atEntry: boolean): Promise<void> {
    let ra: Addr;
    let sp: Addr;
    if (atEntry) {
      const entrySp = await thread.sp();
      ra = await this.target.readPointer(entrySp);
      sp = entrySp + BigInt(this.target.arch.wordSize);
    } else {
      const caller = await this.unwindOnce(thread);
      if (!caller) {
        log.warn('probe %s: cannot find the return address (no unwinder for this frame); its exit handlers will not run', hits[0]!.probe.name);
        return;
      }
      ra = caller.pc;
      sp = caller.sp;
    }
    let byTid = this.returns.get(ra);
    if (!byTid) {
      byTid = new Map();
      this.returns.set(ra, byTid);
      await this.target.swBreakpoints.insert(ra);
    }
    const list = byTid.get(thread.tid) ?? [];
    list.push({ hits, sp });
    byTid.set(thread.tid, list);
  }

  /** A return breakpoint fired: run exit handlers of the activations that just returned. */
  private async onReturnHit(thread: Thread, address: Addr, byTid: Map<number, PendingReturn[]>): Promise<boolean> {
    const list = byTid.get(thread.tid);
    if (!list) return false;
    const sp = await thread.sp();
    // Those popped without returning here (longjmp) are dropped.
    const done = takePopped(byTid, thread.tid, list, sp);
    if (!byTid.size) await this.dropReturnPoint(address);
    const out: Outcome = { stop: false, steps: 0, moved: false };
    for (const r of done.filter((d) => d.sp === sp)) {
      const exits = new Map<ProbeHit, ProbeHit>();
      for (const entry of r.hits) {
        const probe = entry.probe;
        if (!probe.enabled || probe.isRemoved) continue;
        const source = entry.source ? exits.get(entry.source) : undefined;
        const hit = probe.makeHit({ target: this.target, thread, address, phase: 'exit', entry, ...(source ? { source } : {}) });
        exits.set(entry, hit);
        if (!probe.handlers.exit) continue;
        const res = normalize(await call(probe, 'exit', probe.handlers.exit, hit));
        out.stop ||= res.stop;
        await this.apply(hit, res.actions.filter((x) => x.action === 'set-registers' || x.action === 'write-memory' || x.action === 'stop'), out);
      }
    }
    return out.stop;
  }

  private async dropReturnPoint(ra: Addr): Promise<void> {
    this.returns.delete(ra);
    if (this.live()) await this.target.swBreakpoints.remove(ra);
  }

  // -------------------------------------------------------- instruction probes

  /**
   * Steps a thread through an instruction probe's ranges, firing the probe at
   * each instruction. A call out of the ranges arms a continuation breakpoint
   * on its return address and lets the target run; leaving the ranges any
   * other way (a return) ends the stepping.
   */
  private async stepThrough(probe: Probe, thread: Thread, entrySp: Addr): Promise<{ stop: boolean }> {
    const a = probe.anchor;
    if (a.kind !== 'instructions') return { stop: false };
    const inRanges = (pc: Addr) => a.ranges.some(([s, e]) => s <= pc && pc < e);
    for (;;) {
      if (probe.isRemoved || !probe.enabled) return { stop: false };
      const pc = await thread.pc();
      // A breakpoint under the pc (another probe, this probe's entry in a recursion) is stepped over, not hit.
      if (this.target.swBreakpoints.has(pc)) this.target.markOnBreakpoint(thread.tid, pc);
      const ev = await this.target.step(thread);
      if (!ev.some((e) => e.kind === 'step')) return { stop: false };
      const next = await thread.pc();
      if (inRanges(next)) {
        if (!probe.acceptsThread(thread)) continue;
        const hit = probe.makeHit({ target: this.target, thread, address: next, phase: 'pre' });
        if (probe.options.filter && !(await probe.options.filter(hit))) continue;
        probe.hits++;
        const r = normalize(await call(probe, 'pre', probe.handlers.pre, hit));
        const out: Outcome = { stop: r.stop, steps: 0, moved: false };
        await this.apply(hit, r.actions.filter((x) => x.action !== 'step'), out);
        if (out.stop) return { stop: true };
        continue;
      }
      const sp = await thread.sp();
      if (sp < entrySp) {
        // A call out of the ranges: run it at full speed.
        const ra = await this.target.readPointer(sp);
        if (!inRanges(ra)) return { stop: false };
        let byTid = this.continuations.get(ra);
        if (!byTid) {
          byTid = new Map();
          this.continuations.set(ra, byTid);
          await this.target.swBreakpoints.insert(ra);
        }
        const list = byTid.get(thread.tid) ?? [];
        list.push({ probe, sp: sp + BigInt(this.target.arch.wordSize), entrySp });
        byTid.set(thread.tid, list);
      }
      return { stop: false };
    }
  }

  /** A continuation breakpoint fired: the call returned into an instruction probe's ranges. */
  private async onContinuation(thread: Thread, address: Addr, byTid: Map<number, PendingStep[]>): Promise<boolean> {
    const list = byTid.get(thread.tid);
    if (!list) return false;
    const sp = await thread.sp();
    const done = takePopped(byTid, thread.tid, list, sp);
    if (!byTid.size) {
      this.continuations.delete(address);
      if (this.live()) await this.target.swBreakpoints.remove(address);
    }
    let stop = false;
    for (const r of done.filter((d) => d.sp === sp)) {
      const probe = r.probe;
      if (probe.isRemoved || !probe.enabled) continue;
      if (probe.acceptsThread(thread)) {
        const hit = probe.makeHit({ target: this.target, thread, address, phase: 'pre' });
        if (!probe.options.filter || (await probe.options.filter(hit))) {
          probe.hits++;
          const res = normalize(await call(probe, 'pre', probe.handlers.pre, hit));
          const out: Outcome = { stop: res.stop, steps: 0, moved: false };
          await this.apply(hit, res.actions.filter((x) => x.action !== 'step'), out);
          if (out.stop) return true;
        }
      }
      stop = (await this.stepThrough(probe, thread, r.entrySp)).stop || stop;
    }
    return stop;
  }

  /** Drops pending returns and continuations that belong to a removed probe. */
  private async dropPending(probe: Probe): Promise<void> {
    for (const [ra, byTid] of [...this.returns]) {
      for (const [tid, list] of byTid) {
        const keep = list.map((r) => ({ ...r, hits: r.hits.filter((h) => h.probe !== probe && !isAbove(h, probe)) })).filter((r) => r.hits.length);
        if (keep.length) byTid.set(tid, keep);
        else byTid.delete(tid);
      }
      if (!byTid.size) await this.dropReturnPoint(ra);
    }
    for (const [ra, byTid] of [...this.continuations]) {
      for (const [tid, list] of byTid) {
        const keep = list.filter((r) => r.probe !== probe);
        if (keep.length) byTid.set(tid, keep);
        else byTid.delete(tid);
      }
      if (!byTid.size) {
        this.continuations.delete(ra);
        if (this.live()) await this.target.swBreakpoints.remove(ra);
      }
    }
  }

  // ------------------------------------------------------------ probepoints

  private chooseHardware(kind: BreakpointKind, count: number): boolean {
    if (kind === 'software' || (this.forceSoftware && kind !== 'hardware')) return false;
    const caps = this.target.capabilities;
    if (kind === 'hardware') {
      if (caps.hwDebugSlots === 0) throw new NotSupportedError('hardware breakpoints', this.target.driver);
      return true;
    }
    if (!caps.swBreakpoints && caps.hwDebugSlots > 0) {
      if (count > caps.hwDebugSlots) throw new ProbeError('ERR_NO_HW_SLOTS', `${count} addresses need ${count} hardware debug slots and ${this.target.name} has ${caps.hwDebugSlots}`);
      return true;
    }
    return false;
  }

  private async attachAll(probe: Probe): Promise<void> {
    const a = probe.anchor;
    if (a.kind !== 'breakpoint' && a.kind !== 'instructions') return;
    const done: Addr[] = [];
    try {
      for (const address of a.addresses) {
        await this.attachCode(address, a.hardware, probe);
        done.push(address);
      }
    } catch (err) {
      for (const address of done) await this.detachCode(address, probe);
      throw err;
    }
    this.all.add(probe);
  }

  private async attachCode(address: Addr, hardware: boolean, probe: Probe): Promise<void> {
    const tid = singleTid(probe.options);
    const existing = this.code.get(address);
    if (existing) {
      if (existing.slot !== undefined && existing.tid !== undefined && existing.tid !== tid) {
        // A slot on one thread now serves probes of other threads too: program it on all of them.
        const slot = await this.target.hwSlots.allocate({ address, access: 'exec', length: 1 });
        await this.target.hwSlots.release(existing.slot, existing.tid);
        existing.slot = slot;
        delete existing.tid;
      }
      existing.probes.add(probe);
      return;
    }
    const point: CodePoint = { address, hardware, probes: new Set([probe]) };
    if (hardware) {
      point.slot = await this.target.hwSlots.allocate({ address, access: 'exec', length: 1 }, tid);
      if (tid !== undefined) point.tid = tid;
    } else {
      if (!this.target.capabilities.swBreakpoints) throw new NotSupportedError('software breakpoints', this.target.driver);
      await this.target.swBreakpoints.insert(address);
    }
    this.code.set(address, point);
  }

  private async detachCode(address: Addr, probe: Probe): Promise<void> {
    const point = this.code.get(address);
    if (!point) return;
    point.probes.delete(probe);
    if (point.probes.size) return;
    this.code.delete(address);
    if (!this.live()) return;
    if (point.slot !== undefined) await this.target.hwSlots.release(point.slot, point.tid);
    else await this.target.swBreakpoints.remove(address);
  }

  private live(): boolean {
    const s = this.target.status;
    return s === 'paused' || s === 'running';
  }
}

/** A probe restricted to exactly one thread programs its hardware slot on that thread only. */
function singleTid(opts: ProbeOptions): number | undefined {
  return opts.threads?.tids?.length === 1 ? opts.threads.tids[0] : undefined;
}

/** The anchor of the probe at the bottom of a hit's source chain. */
function rootAnchor(hit: ProbeHit): ProbeAnchor | undefined {
  let h = hit;
  while (h.source) h = h.source;
  return h.probe.anchor;
}

/** Whether `probe` is one of the probes below `hit` (its sources). */
function isAbove(hit: ProbeHit, probe: Probe): boolean {
  for (let s = hit.source; s; s = s.source) if (s.probe === probe) return true;
  return false;
}

async function call(probe: Probe, phase: PhaseHandler, fn: ProbeHandler | undefined, hit: ProbeHit): Promise<ProbeHandlerResult> {
  if (!fn) return undefined;
  try {
    return await fn(hit);
  } catch (err) {
    log.warn('probe %s: %s handler failed: %s', probe.name, phase, (err as Error).message);
    throw err;
  }
}

function normalize(result: ProbeHandlerResult): { stop: boolean; actions: readonly ProbeAction[] } {
  if (result === undefined || result === 'resume') return { stop: false, actions: [] };
  if (result === 'stop') return { stop: true, actions: [] };
  const actions: readonly ProbeAction[] = Array.isArray(result) ? result : [result as ProbeAction];
  return { stop: actions.some((a) => a.action === 'stop'), actions };
}

/**
 * Takes a thread's pending activations whose frame is popped at `sp` (entered
 * with an sp at or below it) out of `byTid`; deeper ones (recursion returning
 * to the same address) stay pending.
 */
function takePopped<T extends { readonly sp: Addr }>(byTid: Map<number, T[]>, tid: number, list: readonly T[], sp: Addr): T[] {
  const keep = list.filter((r) => r.sp > sp);
  if (keep.length) byTid.set(tid, keep);
  else byTid.delete(tid);
  return list.filter((r) => r.sp <= sp);
}
