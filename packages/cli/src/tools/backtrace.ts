import { UsageError, backtrace, formatBacktrace, formatScriptBacktrace, scriptFrameJson, scriptRuntimeOf, valueToJson, type Backtrace, type FormatContext, type NamedValue, type ScriptBacktrace, type ScriptRuntime, type Thread } from '@stackdb/core';
import { closeSession, openSession, runLaunched, type SessionTarget } from '../session.js';
import type { ToolContext } from '../tool.js';

async function namedJson(values: readonly NamedValue[], ctx: FormatContext) {
  return Promise.all(values.map(async (n) => ({
    name: n.name,
    ...(await valueToJson(n.value, ctx, { scalarsOnly: false })),
    ...(n.entry ? { entry: await valueToJson(n.entry, ctx) } : {}),
  })));
}

async function backtraceJson(bt: Backtrace, ctx: FormatContext) {
  return {
    tid: bt.thread.tid,
    ...(bt.thread.name ? { name: bt.thread.name } : {}),
    end: bt.end,
    ...(bt.error ? { error: bt.error } : {}),
    frames: await Promise.all(bt.frames.map(async (f) => ({
      index: f.index,
      pc: `0x${f.pc.toString(16)}`,
      function: f.frame.name ?? null,
      inlined: f.frame.inlined,
      ...(f.frame.tailCall ? { tailCall: true } : {}),
      ...(f.frame.physical.isSignalTrampoline && !f.frame.tailCall ? { signalTrampoline: true } : {}),
      ...(f.frame.file !== undefined ? { file: f.frame.file, ...(f.frame.fullPath !== undefined ? { fullname: f.frame.fullPath } : {}), line: f.frame.line } : {}),
      ...(f.frame.module ? { module: f.frame.module.path } : {}),
      stepper: f.frame.physical.stepper,
      args: await namedJson(f.args, ctx),
      ...(f.locals ? { locals: await namedJson(f.locals, ctx) } : {}),
    }))),
  };
}

function scriptBacktraceJson(bt: ScriptBacktrace) {
  return {
    tid: bt.thread.tid,
    ...(bt.thread.name ? { name: bt.thread.name } : {}),
    language: bt.language,
    end: bt.end,
    ...(bt.error ? { error: bt.error } : {}),
    frames: bt.frames.map(scriptFrameJson),
  };
}

/** An interpreter's stacks (a php overlay): its frames, not the machine's. */
async function scriptTraces(runtime: ScriptRuntime, threads: readonly Thread[], maxDepth: number | undefined) {
  return Promise.all(threads.map((th) => runtime.scriptBacktrace(th, maxDepth !== undefined ? { maxDepth } : {})));
}

async function threadsOf(s: SessionTarget, only: number | undefined): Promise<Thread[]> {
  if (only === undefined) return s.target.tasksOrThreads();
  if (!s.target.os) return [await s.target.thread(only)];
  const task = (await s.target.os.threads()).find((t) => t.tid === only);
  if (!task) throw new UsageError(`--thread ${only}: ${s.target.name} has no task with that pid`);
  return [task];
}

/** `stackdb backtrace`: every thread's stack with typed arguments, then detach. */
export async function run(ctx: ToolContext): Promise<number> {
  const opts = ctx.args.tool;
  const session = await openSession(ctx);
  try {
    await runLaunched(session, opts);
    const json: unknown[] = [];
    for (const s of session) {
      const fmt: FormatContext = { target: s.target, program: s.program };
      const lines: string[] = [];
      if (session.length > 1 && !opts.json) lines.push(`target ${s.target.id} ${s.target.name}:`);
      const maxDepth = typeof opts.depth === 'number' ? opts.depth : undefined;
      const threads = await threadsOf(s, typeof opts.thread === 'number' ? opts.thread : undefined);
      const runtime = scriptRuntimeOf(s.target);
      if (runtime) {
        const scripts = await scriptTraces(runtime, threads, maxDepth);
        if (opts.json) json.push({ target: s.target.id, name: s.target.name, driver: s.target.driver, threads: scripts.map(scriptBacktraceJson) });
        else ctx.stdout.write([...lines, ...scripts.flatMap((bt) => [...formatScriptBacktrace(bt), ''])].join('\n'));
        continue;
      }
      const btOpts = { ...(maxDepth !== undefined ? { maxDepth } : {}), locals: opts.locals === true };
      const traces: Backtrace[] = [];
      for (const th of threads) traces.push(await backtrace(s.walker, s.program, th, btOpts));
      if (opts.json) {
        json.push({ target: s.target.id, name: s.target.name, driver: s.target.driver, threads: await Promise.all(traces.map((bt) => backtraceJson(bt, fmt))) });
        continue;
      }
      for (const bt of traces) lines.push(...(await formatBacktrace(bt, fmt)), '');
      ctx.stdout.write(lines.join('\n'));
    }
    if (opts.json) ctx.stdout.write(JSON.stringify(json.length === 1 ? json[0] : json, null, 2) + '\n');
  } finally {
    await closeSession(session, opts);
  }
  return 0;
}
