import {
  LookupError,
  MemoryError,
  ProbeManager,
  SymbolProbes,
  UsageError,
  errorLine,
  formatValue,
  monitor,
  scriptFrameJson,
  scriptFrameName,
  scriptRuntimeOf,
  valueToJson,
  type FormatContext,
  type NamedValue,
  type ProbeHit,
  type ScriptCall,
  type ScriptRuntime,
  type SymbolProbeOptions,
  type Target,
  type Value,
  type WatchValues,
} from '@stackdb/core';
import { closeSession, openSession, resolveCode, type SessionTarget } from '../session.js';
import type { ToolContext } from '../tool.js';

/*
 * dumptarget and probetargets: probe functions, lines, addresses and
 * variables by name on one or more targets, let them run, and print one line
 * per hit (thread, symbol, typed arguments; the return value at exits; the new
 * value at watchpoints), or one JSON object per line with --json. The probes
 * are core's (driver-independent), so the same command works on a process
 * (ptrace), a machine through a GDB stub, or an overlay.
 */

/** One probe request: a spec on a target (and, for a spec no id addresses, the targets to try next). */
export interface ProbeRequest {
  readonly target: SessionTarget;
  readonly spec: string;
  readonly others?: readonly SessionTarget[];
}

function probeOptions(tool: ToolContext['args']['tool']): SymbolProbeOptions {
  const tids = (tool.tid as string[] | undefined)?.map(Number);
  const names = tool.threadName as string[] | undefined;
  const threads = tids?.length || names?.length ? { ...(tids?.length ? { tids } : {}), ...(names?.length ? { names } : {}) } : undefined;
  return {
    ...(tool.hardware ? { kind: 'hardware' as const } : {}),
    ...(tool.rw ? { access: 'readwrite' as const } : {}),
    ...(tool.inlined ? { inlined: true } : {}),
    ...(tool.entry ? { afterPrologue: false } : {}),
    ...(tool.step ? { instructions: true } : {}),
    ...(tool.reResolve ? { reResolve: true } : {}),
    ...(tool.pending ? { pending: true } : {}),
    ...(threads ? { threads } : {}),
  };
}

/** A char pointer shows as its string, as in the seed's output. */
function compact(text: string): string {
  const m = /^0x[0-9a-f]+(?: <[^>]*>)? ("(?:[^"\\]|\\.)*"(?:\.\.\.)?)$/.exec(text);
  return m ? m[1]! : text;
}

/** A value as dumptarget prints it: a char pointer as its string. */
export async function valueText(v: Value, fmt: FormatContext): Promise<string> {
  return compact(await formatValue(v, fmt, { maxString: 200 }));
}

async function namedText(values: readonly NamedValue[], fmt: FormatContext): Promise<string> {
  return (await Promise.all(values.map(async (n) => `${n.name} = ${await valueText(n.value, fmt)}`))).join(', ');
}

/** Describes where a hit happened: `func+0x12 (file.c:34)`. */
async function whereText(s: SessionTarget, pc: bigint): Promise<string> {
  const loc = await s.program.describe(pc);
  const fn = loc.function?.function.name ?? loc.symbol?.name;
  const start = loc.symbol?.start;
  const sym = fn ? `${fn}${start !== undefined && pc > start ? `+0x${(pc - start).toString(16)}` : ''}` : `0x${pc.toString(16)}`;
  return loc.line ? `${sym} (${loc.line.file.split('/').pop()}:${loc.line.line})` : sym;
}

/** One hit as text (the seed's dumptarget line) or as a JSON object. */
async function describeHit(s: SessionTarget, hit: ProbeHit, multi: boolean, json: boolean): Promise<string> {
  const fmt: FormatContext = { target: hit.target, program: s.program };
  const point = hit.point;
  const shown = point?.kind === 'function' && point.entry !== undefined ? point.entry : point?.kind === 'variable' ? point.watch!.address : hit.address;
  const name = point?.name ?? hit.probe.name;
  const prefix = multi ? `[${hit.target.id}] ` : '';
  const values = hit.values;
  const args = values && point?.kind !== 'variable' && point?.kind !== 'address' ? await values.args().catch(() => []) : [];
  const ret = hit.phase === 'exit' ? await values?.returnValue().catch(() => undefined) : undefined;
  const watched = point?.kind === 'variable' ? await (values as WatchValues | undefined)?.watched().catch(() => undefined) : undefined;
  if (json) {
    const named = (vs: readonly NamedValue[]) => Promise.all(vs.map(async (n) => ({ name: n.name, ...(await valueToJson(n.value, fmt, { scalarsOnly: false })) })));
    return JSON.stringify({
      target: hit.target.id,
      probe: name,
      kind: point?.kind ?? 'address',
      phase: hit.phase,
      address: `0x${shown.toString(16)}`,
      pc: `0x${(await hit.thread.pc()).toString(16)}`,
      thread: hit.thread.tid,
      ...(hit.thread.name ? { threadName: hit.thread.name } : {}),
      ...(point?.kind !== 'variable' ? { args: await named(args) } : {}),
      ...(ret ? { return: await valueToJson(ret, fmt) } : {}),
      ...(watched ? { value: await valueToJson(watched, fmt) } : {}),
      ...(point?.kind === 'variable' || point?.kind === 'line' || point?.kind === 'address' ? { at: await whereText(s, await hit.thread.pc()) } : {}),
    });
  }
  const head = `${prefix}${name} (0x${shown.toString(16)}) (thread ${hit.thread.tid})`;
  if (point?.kind === 'variable') {
    return `${head} ${name} = ${watched ? await valueText(watched, fmt) : '?'} (at ${await whereText(s, await hit.thread.pc())})`;
  }
  if (hit.phase === 'exit') return `${head} returned ${ret ? await valueText(ret, fmt) : 'void'} (${await namedText(args, fmt)})`;
  if (point?.kind === 'line' || point?.kind === 'address' || (point?.kind === 'function' && hit.address !== point.addresses[0])) {
    return `${head} at ${await whereText(s, hit.address)}${args.length ? ` ${await namedText(args, fmt)}` : ''}`;
  }
  return `${head} ${await namedText(args, fmt)}`;
}

/** A call of a script function (a php overlay's probe) as text or as a JSON object. */
function describeCall(s: SessionTarget, runtime: ScriptRuntime, spec: string, call: ScriptCall, multi: boolean, json: boolean): string {
  const { frame, hit } = call;
  if (json) return JSON.stringify({ target: s.target.id, probe: spec, kind: 'script-function', language: runtime.language, phase: hit.phase, thread: hit.thread.tid, ...scriptFrameJson(frame) });
  const args = frame.args.map((a) => `${a.name} = ${a.value.text}`).join(', ');
  const where = frame.file !== undefined ? ` (at ${frame.file}:${frame.line ?? '?'})` : '';
  return `${multi ? `[${s.target.id}] ` : ''}${scriptFrameName(frame)} (${runtime.language}) (thread ${hit.thread.tid}) ${args}${where}`;
}

/** What a hit is told to: a machine probe's hit, or a script function's call. */
interface HitSinks {
  readonly onHit: (s: SessionTarget, hit: ProbeHit) => Promise<'stop' | undefined>;
  readonly onCall: (s: SessionTarget, runtime: ScriptRuntime, spec: string, call: ScriptCall) => Promise<'stop' | undefined>;
}

/**
 * Resolves the specs, placing a probe for each. Specs naming objects not yet
 * loaded in a launched program (libraries) are retried once it reaches main.
 */
async function placeAll(requests: readonly ProbeRequest[], tool: ToolContext['args']['tool'], { onHit, onCall }: HitSinks, ctx: ToolContext): Promise<number> {
  const opts = probeOptions(tool);
  const wantExit = tool.return === true;
  let placed = 0;
  const pending: ProbeRequest[] = [];
  const place = async (r: ProbeRequest, final: boolean) => {
    const runtime = scriptRuntimeOf(r.target.target);
    if (runtime) {
      await runtime.probeFunction(r.spec, (call) => onCall(r.target, runtime, r.spec, call), opts.threads ? { threads: opts.threads } : {}).catch((err: unknown) => {
        throw new UsageError(`cannot probe ${r.spec}: ${errorLine(err)}`);
      });
      placed++;
      ctx.stderr.write(`Registered probe ${r.spec} (${runtime.language} function) on ${r.target.target.name}.\n`);
      return;
    }
    const probes = SymbolProbes.for(r.target.target, { program: r.target.program, walker: r.target.walker });
    try {
      const handlers = {
        pre: (hit: ProbeHit) => onHit(r.target, hit),
        ...(wantExit ? { exit: (hit: ProbeHit) => onHit(r.target, hit) } : {}),
      };
      // Return values only make sense for functions: other points get entry hits only.
      const points = await probes.resolve(r.spec, opts).catch((err: unknown) => {
        if (opts.pending && err instanceof LookupError) return undefined;
        throw err;
      });
      const exitOk = wantExit && (points ?? []).every((p) => p.kind === 'function');
      const sp = await probes.probe(r.spec, exitOk ? handlers : { pre: handlers.pre }, opts);
      placed++;
      if (sp.waiting) ctx.stderr.write(`Pending probe ${r.spec} on ${r.target.target.name}: placed when a library that defines it is loaded.\n`);
      for (const p of sp.points) {
        const where = p.kind === 'variable' ? `0x${p.watch!.address.toString(16)} (${p.watch!.size} bytes)` : p.addresses.map((a) => `0x${a.toString(16)}`).join(', ');
        ctx.stderr.write(`Registered probe ${r.spec}${p.kind !== 'function' ? ` (${p.kind})` : ''} at ${where} on ${r.target.target.name}.\n`);
      }
    } catch (err) {
      const [next, ...rest] = r.others ?? [];
      // Before main, a launched program has neither its libraries nor its relocated pointers.
      if (!final && (err instanceof LookupError || err instanceof MemoryError)) pending.push(r);
      // A name the first target does not have may be an overlay's (the seed's `sys_open make_child`).
      else if (err instanceof LookupError && next) await place({ target: next, spec: r.spec, others: rest }, !next.launched);
      else throw new UsageError(`cannot probe ${r.spec}: ${errorLine(err)}`);
    }
  };
  for (const r of requests) await place(r, !r.target.launched);
  if (pending.length) {
    // Libraries of a launched program are loaded by the time it reaches main.
    for (const s of new Set(pending.map((r) => r.target))) await runToMain(s);
    for (const r of pending) await place(r, true);
  }
  return placed;
}

/** Runs a launched program to main, by when its libraries are loaded. */
export async function runToMain(s: SessionTarget): Promise<void> {
  const addresses = await resolveCode(s.program, 'main');
  const probes = ProbeManager.for(s.target);
  const p = await probes.breakpoints(addresses, { pre: () => 'stop' }, { name: 'main' });
  const r = await s.target.monitor();
  await p.remove();
  if (r.reason === 'exited') throw new UsageError(`${s.target.name} exited before reaching main`);
  // Libraries were loaded meanwhile.
  s.program.invalidate();
}

/** Runs probe requests on a session until the targets exit, a count is reached, or SIGINT. */
async function runProbes(ctx: ToolContext, session: readonly SessionTarget[], requests: readonly ProbeRequest[]): Promise<number> {
  const tool = ctx.args.tool;
  const json = tool.json === true;
  const limit = typeof tool.count === 'number' ? tool.count : undefined;
  const multi = session.length > 1;
  let hits = 0;
  const perTarget = new Map<Target, number>();
  const counted = (line: string, target: Target): 'stop' | undefined => {
    ctx.stdout.write(line + '\n');
    hits++;
    perTarget.set(target, (perTarget.get(target) ?? 0) + 1);
    return limit !== undefined && hits >= limit ? 'stop' : undefined;
  };
  const sinks: HitSinks = {
    onHit: async (s, hit) => {
      // A fork child's hits are described with its own target's symbols.
      const owner = hit.target === s.target ? s : { ...s, target: hit.target, program: SymbolProbes.for(hit.target).program };
      return counted(await describeHit(owner, hit, multi || hit.target !== s.target, json), hit.target);
    },
    onCall: (s, runtime, spec, call) => Promise.resolve(counted(describeCall(s, runtime, spec, call, multi, json), call.hit.target)),
  };
  if (tool.followForks) for (const s of session) await s.target.followForks({ inheritProbes: true });
  const placed = await placeAll(requests, tool, sinks, ctx);
  if (!placed) throw new UsageError('no probe was placed');
  if (!json) ctx.stderr.write('Starting main debugging loop!\n');
  const targets: Target[] = session.map((s) => s.target).filter((t) => t.capabilities.execution);
  const r = await monitor(targets);
  if (!json) {
    for (const [t, res] of r.results) {
      const how = res.reason === 'exited' ? `exited${res.status?.code !== undefined ? ` with status ${res.status.code}` : res.status?.signal !== undefined ? ` by signal ${res.status.signal}` : ''}` : res.reason === 'aborted' ? 'interrupted' : res.reason;
      const n = perTarget.get(t) ?? 0;
      ctx.stderr.write(`${t.name} ${how} (${n} hit${n === 1 ? '' : 's'}).\n`);
    }
  }
  return 0;
}

/** Splits `ID:SPEC` when ID is the id of one of the targets (probetargets); other specs go to the first target that has what they name. */
function requestsFor(session: readonly SessionTarget[], specs: readonly string[], byId: boolean): ProbeRequest[] {
  return specs.map((spec) => {
    const m = byId ? /^(\d+):(.+)$/.exec(spec) : null;
    const s = m ? session.find((x) => x.target.id === Number(m[1])) : undefined;
    if (m && !s && !/^\d+$/.test(m[2]!)) throw new UsageError(`no target with id ${m[1]} (for ${spec}); give targets ids with -i`);
    return s ? { target: s, spec: m![2]! } : { target: session[0]!, spec, others: session.slice(1) };
  });
}

/**
 * Opens the session, probes the positional specs (`ID:SPEC` addressing a
 * target by id when `byId`) and prints every hit until the targets end.
 */
export async function probeSpecs(ctx: ToolContext, byId: boolean, usage: string): Promise<number> {
  const specs = ctx.args.positionals;
  if (!specs.length) throw new UsageError(`nothing to probe: ${usage}`);
  const session = await openSession(ctx);
  try {
    return await runProbes(ctx, session, requestsFor(session, specs, byId));
  } finally {
    await closeSession(session, ctx.args.tool);
  }
}

/** `stackdb dumptarget`: probe functions, lines, addresses or variables and print every hit. */
export function run(ctx: ToolContext): Promise<number> {
  return probeSpecs(ctx, false, 'give SYMBOL, FILE:LINE or 0xADDR arguments');
}
