import fs from 'node:fs';
import { SymbolProbes, UsageError, backtrace, decodeSyscallArgs, decodeSyscallReturn, errorLine, formatBacktrace, syscallByName, withSignal, type NamedValue, type ProbeAction, type ProbeHandlerResult, type ProbeHit, type StopHandler, type SymbolProbe, type Thread, type WatchValues } from '@stackdb/core';
import { closeSession, openSession, type SessionTarget } from '../../session.js';
import type { ToolContext } from '../../tool.js';
import { valueText } from '../dumptarget.js';
import { checkIds, parseConfig, parseFilter, type ProbeFilterSpec } from './config.js';

/*
 * spf (Symbol Probing Filter): probes symbols and, at each hit, runs the
 * actions of every enabled filter on that symbol whose stage (pre: entry,
 * post: return), value filter and thread filter match. A symbol
 * `syscall:NAME` is a system call of a process target (entry and exit, its
 * arguments decoded as the syscall tool shows them). Filters come from a
 * config file (-C) and from the command line; SIGHUP or SIGUSR2 reads the
 * file again and places the filters anew.
 */

/** The name the return value goes by in vfilter(). */
const RETURN_NAME = '__RETURN__';
/** The prefix of a system call symbol. */
const SYSCALL = 'syscall:';

/** What one stage of a hit offers the filters. */
interface Stage {
  readonly symbol: string;
  readonly when: 'pre' | 'post';
  readonly thread: Thread;
  readonly args: readonly [string, string][];
  readonly ret?: string;
  /** Whether abort() can force a return here (a function probe's entry). */
  readonly abortable: boolean;
}

/** A filter's values: arguments (or the watched variable), and the return value after a return. */
async function hitValues(s: SessionTarget, hit: ProbeHit, symbol: string): Promise<{ args: [string, string][]; ret?: string }> {
  const fmt = { target: hit.target, program: s.program };
  const text = async (n: NamedValue) => [n.name, unquoted(await valueText(n.value, fmt))] as [string, string];
  if (hit.point?.kind === 'variable') {
    const v = await (hit.values as WatchValues | undefined)?.watched().catch(() => undefined);
    return { args: v ? [[symbol, unquoted(await valueText(v, fmt))]] : [] };
  }
  const args = await Promise.all(((await hit.values?.args().catch(() => [])) ?? []).map(text));
  if (hit.phase !== 'exit') return { args };
  const ret = await hit.values?.returnValue().catch(() => undefined);
  return { args, ...(ret ? { ret: unquoted(await valueText(ret, fmt)) } : {}) };
}

/** A string value as its text, as the original prints and filters it. */
function unquoted(text: string): string {
  return /^".*"(\.\.\.)?$/s.test(text) ? text.replace(/^"|"(\.\.\.)?$/g, '') : text;
}

/** What tfilter() matches: the thread's context (-1 or empty where the target does not know). */
function threadContext(thread: Thread): Map<string, string> {
  const ptid = thread.info.ptid;
  const name = thread.name ?? '';
  return new Map([
    ['tid', String(thread.tid)],
    ['ptid', String(ptid ?? -1)],
    ['tidhier', [thread.tid, ...(ptid !== undefined ? [ptid] : [])].join(',')],
    ['name', name],
    ['namehier', name],
    ['uid', '-1'],
    ['gid', '-1'],
  ]);
}

/** The live filters, their enabled state, and the probes placed for their symbols. */
class FilterSet {
  private readonly enabled = new Map<ProbeFilterSpec, boolean>();
  private readonly probes = new Map<string, SymbolProbe>();
  private syscallTracer?: StopHandler;
  private reports = 0;
  exitCode: number | undefined;

  constructor(private readonly ctx: ToolContext, private readonly s: SessionTarget, private filters: ProbeFilterSpec[]) {
    for (const f of filters) this.enabled.set(f, !f.disabled);
  }

  /** One probe per symbol: entry hits, and return hits when some filter of it is when(post). */
  async place(): Promise<void> {
    const probes = SymbolProbes.for(this.s.target, { program: this.s.program, walker: this.s.walker });
    const symbols = new Set(this.filters.map((f) => f.symbol));
    await this.placeSyscalls([...symbols].filter((x) => x.startsWith(SYSCALL)));
    for (const symbol of [...symbols].filter((x) => !x.startsWith(SYSCALL))) {
      try {
        const points = await probes.resolve(symbol);
        const post = this.filters.some((f) => f.symbol === symbol && f.when === 'post');
        const functions = points.every((p) => p.kind === 'function');
        if (post && !functions) throw new UsageError(`when(post) needs a function, and ${symbol} is not one`);
        const handler = (hit: ProbeHit) => this.onHit(symbol, hit);
        this.probes.set(symbol, await probes.probe(symbol, post ? { pre: handler, exit: handler } : { pre: handler }));
        this.ctx.stderr.write(`Registered probe ${symbol} on ${this.s.target.name}.\n`);
      } catch (err) {
        throw err instanceof UsageError ? err : new UsageError(`cannot probe ${symbol}: ${errorLine(err)}`);
      }
    }
  }

  /** One stop handler for every system call filter: decoded arguments at entry, the return value at exit. */
  private async placeSyscalls(symbols: readonly string[]): Promise<void> {
    if (!symbols.length) return;
    const target = this.s.target;
    if (!target.capabilities.syscallEvents) throw new UsageError(`${symbols[0]}: ${target.name} does not report system calls`);
    const byNr = new Map<number, string>();
    for (const symbol of symbols) {
      const info = syscallByName(symbol.slice(SYSCALL.length));
      if (!info) throw new UsageError(`${symbol}: no system call named ${symbol.slice(SYSCALL.length)}`);
      byNr.set(info.nr, symbol);
    }
    const entries = new Map<number, [string, string][]>();
    this.syscallTracer = {
      handleStop: async (_t, ev) => {
        if (ev.kind !== 'syscall-enter' && ev.kind !== 'syscall-exit') return undefined;
        const symbol = byNr.get(ev.nr);
        if (!symbol) return { consumed: true };
        const thread = await target.thread(ev.tid);
        let result: ProbeHandlerResult;
        if (ev.kind === 'syscall-enter') {
          const args = (await decodeSyscallArgs(target, ev.nr, ev.args)).map((a) => [a.name, unquoted(a.text)] as [string, string]);
          entries.set(ev.tid, args);
          result = await this.runFilters({ symbol, when: 'pre', thread, args, abortable: false });
        } else {
          const args = entries.get(ev.tid) ?? [];
          entries.delete(ev.tid);
          result = await this.runFilters({ symbol, when: 'post', thread, args, ret: decodeSyscallReturn(ev.nr, ev.ret).text, abortable: false });
        }
        return { consumed: true, ...(this.exitCode !== undefined || result === 'stop' ? { decision: 'stop' as const } : {}) };
      },
    };
    target.addStopHandler(this.syscallTracer);
    await target.requestEvents('syscall');
    for (const symbol of symbols) this.ctx.stderr.write(`Registered probe ${symbol} on ${target.name}.\n`);
  }

  async removeAll(): Promise<void> {
    for (const p of this.probes.values()) await p.remove();
    this.probes.clear();
    if (this.syscallTracer) this.s.target.removeStopHandler(this.syscallTracer);
    this.syscallTracer = undefined;
  }

  private byId(id: string): ProbeFilterSpec | undefined {
    return this.filters.find((f) => f.id === id);
  }

  private async onHit(symbol: string, hit: ProbeHit): Promise<ProbeHandlerResult> {
    const when = hit.phase === 'exit' ? 'post' : 'pre';
    if (!this.filters.some((f) => f.symbol === symbol && f.when === when && this.enabled.get(f))) return undefined;
    const { args, ret } = await hitValues(this.s, hit, symbol);
    return this.runFilters({ symbol, when, thread: hit.thread, args, ...(ret !== undefined ? { ret } : {}), abortable: when === 'pre' && hit.point?.kind === 'function' });
  }

  /** Runs the actions of the enabled filters of a stage that match it, in order; returns what the probe should do. */
  private async runFilters(stage: Stage): Promise<ProbeHandlerResult> {
    const { symbol, when, args, ret, thread } = stage;
    const live = this.filters.filter((f) => f.symbol === symbol && f.when === when && this.enabled.get(f));
    if (!live.length) return undefined;
    const values = new Map(args);
    if (ret !== undefined) values.set(RETURN_NAME, ret);
    const context = threadContext(thread);
    let abort: bigint | undefined;
    let removed = false;
    for (const f of live) {
      if (!this.enabled.get(f) || !this.filters.includes(f)) continue;
      if (!f.vfilter.every((m) => values.has(m.name) && m.re.test(values.get(m.name)!))) continue;
      if (!f.tfilter.every((m) => m.re.test(context.get(m.name)!))) continue;
      for (const a of f.actions) {
        switch (a.kind) {
          case 'print':
            this.ctx.stdout.write(`${symbol} (${args.map(([n, v]) => `${n} = ${v}`).join(',')})${when === 'post' ? ` = ${ret ?? 'void'}` : ''}\n`);
            break;
          case 'bt': {
            const bt = await backtrace(this.s.walker, this.s.program, thread);
            this.ctx.stdout.write((await formatBacktrace(bt, { target: this.s.target, program: this.s.program })).join('\n') + '\n');
            break;
          }
          case 'report': {
            const r = a.fields;
            const outputs = [...values].map(([n, v]) => `${n}=${v}`).join(',');
            this.ctx.stdout.write(`RESULT:: (${r.rt ?? 'i'}:${++this.reports}) ${r.tn ?? symbol} (${r.tid ?? 0}) ${r.rv ?? ''} "${r.msg ?? ''}" (${outputs}) ::RESULT\n`);
            break;
          }
          case 'enable':
          case 'disable': {
            const other = this.byId(a.id);
            if (other) this.enabled.set(other, a.kind === 'enable');
            break;
          }
          case 'remove': {
            const other = this.byId(a.id);
            if (other) {
              this.filters = this.filters.filter((x) => x !== other);
              removed = true;
            }
            break;
          }
          case 'abort':
            if (stage.abortable) abort ??= a.code;
            break;
          case 'exit':
            this.exitCode ??= a.code;
            break;
        }
      }
    }
    if (removed) await this.dropUnfiltered();
    const out: ProbeAction[] = [];
    if (abort !== undefined) out.push({ action: 'return', value: abort });
    if (this.exitCode !== undefined) out.push({ action: 'stop' });
    return out;
  }

  /** A symbol whose last filter was removed loses its probe. */
  private async dropUnfiltered(): Promise<void> {
    for (const [symbol, probe] of this.probes) {
      if (this.filters.some((f) => f.symbol === symbol)) continue;
      await probe.remove();
      this.probes.delete(symbol);
    }
  }

}

/** `stackdb spf`: probe symbols and run filters' actions on their hits. */
export async function run(ctx: ToolContext): Promise<number> {
  const tool = ctx.args.tool;
  const file = typeof tool.config === 'string' ? tool.config : undefined;
  const load = (): ProbeFilterSpec[] => {
    let text: string | undefined;
    if (file !== undefined) {
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
    }
    const all = [...(text !== undefined ? parseConfig(text, file!) : []), ...ctx.args.positionals.map((p, i) => parseFilter(p, `argument ${i + 1}`))];
    checkIds(all);
    return all;
  };
  const first = load();
  if (!first.length) throw new UsageError('nothing to probe: give -C FILE or SYMBOL arguments');
  const session = await openSession(ctx);
  let reload = false;
  let pause = new AbortController();
  const onReload = () => {
    reload = true;
    pause.abort();
  };
  let set = new FilterSet(ctx, session[0]!, first);
  try {
    await set.place();
    await withSignal('SIGHUP', onReload, () => withSignal('SIGUSR2', onReload, async () => {
      for (;;) {
        const r = await session[0]!.target.monitor({ signal: pause.signal });
        if (!reload || r.reason !== 'aborted') return;
        reload = false;
        pause = new AbortController();
        let next: ProbeFilterSpec[];
        try {
          next = load();
        } catch (err) {
          ctx.stderr.write(`stackdb: reload: ${errorLine(err)} (the filters stay as they were)\n`);
          continue;
        }
        await set.removeAll();
        set = new FilterSet(ctx, session[0]!, next);
        await set.place();
        ctx.stderr.write(`Reloaded ${file ?? 'the filters'}.\n`);
      }
    }));
  } finally {
    await closeSession(session, tool);
  }
  return set.exitCode ?? 0;
}
