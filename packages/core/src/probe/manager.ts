import { NotSupportedError, ProbeError } from '../errors.js';
import { getLogger } from '../log/logger.js';
import type { StopDecision, StopHandler, Target } from '../target/target.js';
import type { Thread } from '../target/thread.js';
import type { Addr, StopEvent } from '../target/types.js';
import { Probe } from './probe.js';
import type { BreakpointKind, ProbeAction, ProbeHandlerResult, ProbeHandlers, ProbeHit, ProbeOptions } from './types.js';

const log = getLogger('P_PROBE');

/*
 * The probe layer of one target. Probes sit on probepoints: a code address
 * (a software breakpoint shared by reference count, or a hardware slot), a
 * watched range (a hardware slot), or other probes. When the target stops on a
 * probepoint the manager, registered as the target's stop handler, runs the
 * probes' pre handlers, fans the hit out to probes sitting on them, applies the
 * actions they return, single-steps the thread when a post handler or a step
 * action wants it, runs the post handlers, and tells the target whether to go on.
 *
 * Return probes plant a breakpoint on the return address read at function entry
 * and match the return by thread and stack pointer, so recursion and threads
 * each see their own return.
 */

interface CodePoint {
  readonly address: Addr;
  readonly hardware: boolean;
  slot?: number;
  readonly probes: Set<Probe>;
}

interface PendingReturn {
  readonly probe: Probe;
  readonly entry: ProbeHit;
  /** Stack pointer just after the return (entry sp + word). */
  readonly sp: Addr;
}

/** Options of a code probe. */
export interface BreakpointOptions extends ProbeOptions {
  readonly kind?: BreakpointKind;
}

export class ProbeManager implements StopHandler {
  private static readonly managers = new WeakMap<Target, ProbeManager>();
  private readonly code = new Map<Addr, CodePoint>();
  private readonly watch = new Map<number, Probe>();
  /** Return breakpoints: address → pending returns by thread. */
  private readonly returns = new Map<Addr, Map<number, PendingReturn[]>>();
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

  /** Every live probe. */
  probes(): Probe[] {
    return [...this.all];
  }

  /** A probe on a code address (a software breakpoint unless hardware is asked for and allowed). */
  async breakpoint(address: Addr, handlers: ProbeHandlers, opts: BreakpointOptions = {}): Promise<Probe> {
    const hardware = this.chooseHardware(opts.kind ?? 'auto');
    const probe = new Probe(this, { kind: 'breakpoint', address, hardware }, handlers, opts);
    await this.attachCode(address, hardware, probe);
    this.all.add(probe);
    return probe;
  }

  /** A hardware watchpoint on `length` bytes at `address`. */
  async watchpoint(address: Addr, length: 1 | 2 | 4 | 8, access: 'write' | 'readwrite', handlers: ProbeHandlers, opts: ProbeOptions = {}): Promise<Probe> {
    if (this.target.capabilities.hwDebugSlots === 0) throw new NotSupportedError('watchpoints', this.target.driver);
    if (address % BigInt(length) !== 0n) throw new ProbeError('ERR_WATCH_ALIGN', `a ${length}-byte watchpoint needs an address aligned to ${length} (0x${address.toString(16)} is not)`);
    const probe = new Probe(this, { kind: 'watchpoint', address, length, access }, handlers, opts);
    const tid = opts.threads?.tids?.length === 1 ? opts.threads.tids[0] : undefined;
    const slot = await this.target.hwSlots.allocate({ address, length, access }, tid);
    this.watch.set(slot, probe);
    this.all.add(probe);
    return probe;
  }

  /**
   * An entry/exit probe on a function whose first instruction is at `entry`:
   * `pre`/`post` run at entry, `exit` when that activation returns (with the entry hit).
   */
  async functionReturn(entry: Addr, handlers: ProbeHandlers, opts: BreakpointOptions = {}): Promise<Probe> {
    const hardware = this.chooseHardware(opts.kind ?? 'auto');
    const probe = new Probe(this, { kind: 'return', address: entry, hardware }, handlers, opts);
    await this.attachCode(entry, hardware, probe);
    this.all.add(probe);
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

  /** @internal Called by Probe.remove(). */
  async release(probe: Probe): Promise<void> {
    this.all.delete(probe);
    const a = probe.anchor;
    if (a.kind === 'probes') {
      for (const s of a.sources) s.sinks.delete(probe);
      return;
    }
    if (a.kind === 'watchpoint') {
      for (const [slot, p] of this.watch) {
        if (p !== probe) continue;
        this.watch.delete(slot);
        if (this.live()) await this.target.hwSlots.release(slot);
      }
      return;
    }
    await this.detachCode(a.address, probe);
    if (a.kind === 'return') {
      for (const [ra, byTid] of this.returns) {
        for (const [tid, list] of byTid) {
          const keep = list.filter((r) => r.probe !== probe);
          if (keep.length) byTid.set(tid, keep);
          else byTid.delete(tid);
        }
        if (!byTid.size) await this.dropReturnPoint(ra);
      }
    }
  }

  // ------------------------------------------------------------ stop handling

  async handleStop(target: Target, ev: StopEvent): Promise<{ consumed: boolean; decision?: StopDecision } | undefined> {
    if (ev.kind === 'breakpoint') return this.onCodeHit(ev.tid, ev.address);
    if (ev.kind === 'hw-debug') {
      if (ev.access === 'exec') return this.onCodeHit(ev.tid, ev.address);
      const probe = this.watch.get(ev.slot);
      if (!probe) return undefined;
      const thread = await target.thread(ev.tid);
      const decision = await this.fire([probe], thread, probe.anchor.kind === 'watchpoint' ? probe.anchor.address : ev.address, 'pre');
      return { consumed: true, decision: decision.stop ? 'stop' : 'resume' };
    }
    if (ev.kind === 'exec' || ev.kind === 'exited') {
      // The image is gone: its breakpoints went with it.
      this.code.clear();
      this.returns.clear();
      this.watch.clear();
      for (const p of this.all) if (p.anchor.kind !== 'probes') p.enabled = false;
    }
    return undefined;
  }

  private async onCodeHit(tid: number, address: Addr): Promise<{ consumed: boolean; decision?: StopDecision } | undefined> {
    const point = this.code.get(address);
    const returns = this.returns.get(address);
    if (!point && !returns) return undefined;
    const thread = await this.target.thread(tid);
    let stop = false;
    if (returns) stop = (await this.onReturnHit(thread, address, returns)) || stop;
    if (point) {
      const probes = [...point.probes].filter((p) => p.enabled);
      const r = await this.fire(probes, thread, address, 'pre');
      stop = stop || r.stop;
    }
    return { consumed: true, decision: stop ? 'stop' : 'resume' };
  }

  /**
   * Runs pre handlers of `probes` (and their sinks), applies actions, steps when
   * asked, runs post handlers. Returns whether anyone asked to stop.
   */
  private async fire(probes: readonly Probe[], thread: Thread, address: Addr, phase: 'pre' | 'exit', extra: { entry?: ProbeHit } = {}): Promise<{ stop: boolean }> {
    let stop = false;
    let steps = 0;
    let returned = false;
    const fired: ProbeHit[] = [];
    const run = async (probe: Probe, hit: ProbeHit, fn: ProbeHandlers['pre']) => {
      if (!fn) return;
      let result: ProbeHandlerResult;
      try {
        result = await fn(hit);
      } catch (err) {
        log.warn('probe %s handler failed: %s', probe.name, (err as Error).message);
        throw err;
      }
      const r = await this.applyResult(hit, result);
      stop ||= r.stop;
      steps = Math.max(steps, r.steps);
      returned ||= r.returned;
    };
    const visit = async (probe: Probe, source?: ProbeHit) => {
      if (!probe.enabled || !probe.acceptsThread(thread)) return;
      const hit = probe.makeHit({ target: this.target, thread, address, phase, ...(source ? { source } : {}), ...(extra.entry ? { entry: extra.entry } : {}) });
      if (probe.options.filter && !(await probe.options.filter(hit))) return;
      probe.hits++;
      fired.push(hit);
      if (phase === 'exit') await run(probe, hit, probe.handlers.exit);
      else await run(probe, hit, probe.handlers.pre);
      if (phase === 'pre' && probe.anchor.kind === 'return') await this.armReturn(probe, hit);
      for (const sink of probe.sinks) await visit(sink, hit);
    };
    for (const p of probes) await visit(p);

    const wantsPost = phase === 'pre' && fired.some((h) => h.probe.handlers.post);
    if (!returned && (steps > 0 || wantsPost)) {
      for (let i = 0; i < Math.max(1, steps); i++) await this.target.step(thread);
      for (const hit of fired) {
        const post = hit.probe.handlers.post;
        if (post) await run(hit.probe, { ...hit, phase: 'post' }, post);
      }
    }
    return { stop };
  }

  private async applyResult(hit: ProbeHit, result: ProbeHandlerResult): Promise<{ stop: boolean; steps: number; returned: boolean }> {
    if (result === undefined || result === 'resume') return { stop: false, steps: 0, returned: false };
    if (result === 'stop') return { stop: true, steps: 0, returned: false };
    const actions: readonly ProbeAction[] = Array.isArray(result) ? result : [result as ProbeAction];
    let stop = false;
    let steps = 0;
    let returned = false;
    for (const a of actions) {
      switch (a.action) {
        case 'stop':
          stop = true;
          break;
        case 'step':
          steps += a.count;
          break;
        case 'set-registers':
          await hit.thread.setRegisters(a.values);
          break;
        case 'write-memory':
          await this.target.write(a.address, a.bytes);
          break;
        case 'return':
          await this.forceReturn(hit, a.value);
          returned = true;
          break;
      }
    }
    return { stop, steps, returned };
  }

  /** At a function's first instruction: pop the return address into pc, as `ret` would. */
  private async forceReturn(hit: ProbeHit, value: bigint | undefined): Promise<void> {
    const anchor = hit.probe.anchor;
    if ((anchor.kind !== 'breakpoint' && anchor.kind !== 'return') || hit.phase !== 'pre') {
      throw new ProbeError('ERR_PROBE_ACTION', `probe ${hit.probe.name}: a forced return is only possible at a function's entry`);
    }
    const arch = this.target.arch;
    const sp = await hit.thread.sp();
    const ra = await this.target.readPointer(sp);
    const values: Record<string, bigint> = { [arch.pc.name]: ra, [arch.sp.name]: sp + BigInt(arch.wordSize) };
    if (value !== undefined) values.rax = value;
    await hit.thread.setRegisters(values);
    this.target.forgetBreakpointStop(hit.thread.tid);
  }

  // ---------------------------------------------------------- return probes

  private async armReturn(probe: Probe, entry: ProbeHit): Promise<void> {
    if (!probe.handlers.exit) return;
    const sp = await entry.thread.sp();
    const ra = await this.target.readPointer(sp);
    let byTid = this.returns.get(ra);
    if (!byTid) {
      byTid = new Map();
      this.returns.set(ra, byTid);
      await this.target.swBreakpoints.insert(ra);
    }
    const list = byTid.get(entry.thread.tid) ?? [];
    list.push({ probe, entry, sp: sp + BigInt(this.target.arch.wordSize) });
    byTid.set(entry.thread.tid, list);
  }

  /** A return breakpoint fired: run exit handlers of the activations that just returned. */
  private async onReturnHit(thread: Thread, address: Addr, byTid: Map<number, PendingReturn[]>): Promise<boolean> {
    const list = byTid.get(thread.tid);
    if (!list) return false;
    const sp = await thread.sp();
    // Activations whose frame is now popped (sp above their entry sp) have returned;
    // deeper ones (recursion returning to the same address) stay pending.
    const done = list.filter((r) => r.sp <= sp);
    const keep = list.filter((r) => r.sp > sp);
    if (keep.length) byTid.set(thread.tid, keep);
    else byTid.delete(thread.tid);
    if (!byTid.size) await this.dropReturnPoint(address);
    let stop = false;
    for (const r of done.filter((d) => d.sp === sp)) {
      const res = await this.fire([r.probe], thread, address, 'exit', { entry: r.entry });
      stop ||= res.stop;
    }
    return stop;
  }

  private async dropReturnPoint(ra: Addr): Promise<void> {
    this.returns.delete(ra);
    if (this.live()) await this.target.swBreakpoints.remove(ra);
  }

  // ------------------------------------------------------------ probepoints

  private chooseHardware(kind: BreakpointKind): boolean {
    if (kind === 'software' || this.forceSoftware) return false;
    if (kind === 'hardware') {
      if (this.target.capabilities.hwDebugSlots === 0) throw new NotSupportedError('hardware breakpoints', this.target.driver);
      return true;
    }
    return !this.target.capabilities.swBreakpoints && this.target.capabilities.hwDebugSlots > 0;
  }

  private async attachCode(address: Addr, hardware: boolean, probe: Probe): Promise<void> {
    const existing = this.code.get(address);
    if (existing) {
      existing.probes.add(probe);
      return;
    }
    const point: CodePoint = { address, hardware, probes: new Set([probe]) };
    if (hardware) {
      const tid = probe.options.threads?.tids?.length === 1 ? probe.options.threads.tids[0] : undefined;
      point.slot = await this.target.hwSlots.allocate({ address, access: 'exec', length: 1 }, tid);
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
    if (point.slot !== undefined) await this.target.hwSlots.release(point.slot);
    else await this.target.swBreakpoints.remove(address);
  }

  private live(): boolean {
    const s = this.target.status;
    return s === 'paused' || s === 'running';
  }
}
