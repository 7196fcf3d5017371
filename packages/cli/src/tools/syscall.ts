import {
  UsageError,
  decodeSyscallArgs,
  decodeSyscallReturn,
  formatSyscallCall,
  monitor,
  signalName,
  syscallByName,
  syscallName,
  type DecodedSyscallArg,
  type StopHandler,
  type Target,
} from '@stackdb/core';
import { closeSession, openSession } from '../session.js';
import type { ToolContext } from '../tool.js';

/*
 * `stackdb syscall`, after the original's strace-like tool: every system call
 * (or the named ones) of a process, its arguments decoded when it starts
 * (strings are read then), printed when it returns as strace does:
 * `openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3`. Calls that do not return
 * (exit_group, a successful execve's old image) end with `= ?`.
 */

interface Pending {
  readonly nr: number;
  readonly args: readonly DecodedSyscallArg[];
  readonly call: string;
}

/** `stackdb syscall`: trace system calls with decoded arguments and return values. */
export async function run(ctx: ToolContext): Promise<number> {
  const tool = ctx.args.tool;
  const json = tool.json === true;
  const names = (tool.trace as string[] | undefined)?.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  let wanted: Set<number> | undefined;
  if (names?.length) {
    wanted = new Set();
    for (const n of names) {
      const info = syscallByName(n);
      if (!info) throw new UsageError(`--trace: no system call named ${n}`);
      wanted.add(info.nr);
    }
  }
  const stringLimit = typeof tool.stringLimit === 'number' ? tool.stringLimit : 32;
  const session = await openSession(ctx);
  const counts = new Map<number, { calls: number; errors: number }>();
  try {
    const targets = session.map((s) => s.target).filter((t) => t.capabilities.syscallEvents);
    if (!targets.length) throw new UsageError('no target here reports system calls');
    const threads = new Set<number>();
    const print = (line: string | object) => ctx.stdout.write((typeof line === 'string' ? line : JSON.stringify(line)) + '\n');
    const watch = async (t: Target) => {
      const pending = new Map<number, Pending>();
      const prefix = (tid: number) => (threads.size > 1 ? `[pid ${tid}] ` : '');
      // A stop handler sees each call while the thread is still stopped in it, so
      // strings are read at the call's entry, before anything can change them.
      const tracer: StopHandler = {
        async handleStop(_t, ev) {
          if (ev.kind === 'syscall-enter') {
            threads.add(ev.tid);
            if (wanted && !wanted.has(ev.nr)) return { consumed: true };
            const decoded = await decodeSyscallArgs(t, ev.nr, ev.args, { stringLimit });
            const call = formatSyscallCall(ev.nr, decoded);
            const name = syscallName(ev.nr);
            if (name === 'exit_group' || name === 'exit') {
              if (!tool.summary) print(json ? { pid: ev.tid, name, nr: ev.nr, args: argsJson(decoded), return: null } : `${prefix(ev.tid)}${call} = ?`);
            } else {
              pending.set(ev.tid, { nr: ev.nr, args: decoded, call });
            }
            return { consumed: true };
          }
          if (ev.kind === 'syscall-exit') {
            // The exit of the execve that started a launched program: its entry was never seen.
            if (ev.nr < 0) return { consumed: true };
            const p = pending.get(ev.tid);
            pending.delete(ev.tid);
            if (wanted && !wanted.has(ev.nr)) return { consumed: true };
            const r = decodeSyscallReturn(ev.nr, ev.ret);
            const c = counts.get(ev.nr) ?? { calls: 0, errors: 0 };
            c.calls++;
            if (r.errno) c.errors++;
            counts.set(ev.nr, c);
            if (tool.summary) return { consumed: true };
            const name = syscallName(ev.nr);
            const call = p?.nr === ev.nr ? p.call : `<... ${name} resumed>`;
            print(json ? { pid: ev.tid, name, nr: ev.nr, args: p?.nr === ev.nr ? argsJson(p.args) : [], return: jsonNumber(r.value), ...(r.errno ? { errno: r.errno } : {}), text: `${call} = ${r.text}` } : `${prefix(ev.tid)}${call} = ${r.text}`);
            return { consumed: true };
          }
          return undefined;
        },
      };
      t.addStopHandler(tracer);
      t.on('signal', ({ thread, signal }) => {
        if (!json && !tool.summary) print(`${prefix(thread.tid)}--- ${signalName(signal)} ---`);
      });
      t.on('exited', ({ status }) => {
        if (json || tool.summary) return;
        print(status.signal !== undefined ? `+++ killed by ${signalName(status.signal)} +++` : `+++ exited with ${status.code ?? '?'} +++`);
      });
      t.on('fork', ({ child }) => {
        if (child) void watch(child);
      });
      if (tool.followForks && !t.forkPolicy.follow) await t.followForks();
      await t.requestEvents('syscall');
    };
    for (const t of targets) await watch(t);
    await monitor(targets);
    if (tool.summary) printSummary(ctx, counts, json);
  } finally {
    await closeSession(session, tool);
  }
  return 0;
}

/** A number when JSON can hold it exactly, else its decimal text. */
function jsonNumber(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function argsJson(args: readonly DecodedSyscallArg[]) {
  return args.map((a) => ({ name: a.name, type: a.type, raw: `0x${a.raw.toString(16)}`, text: a.text, ...(a.string !== undefined ? { string: a.string } : {}), ...(a.strings ? { strings: a.strings } : {}) }));
}

function printSummary(ctx: ToolContext, counts: Map<number, { calls: number; errors: number }>, json: boolean): void {
  const rows = [...counts].sort((a, b) => b[1].calls - a[1].calls);
  if (json) {
    ctx.stdout.write(JSON.stringify(rows.map(([nr, c]) => ({ name: syscallName(nr), nr, calls: c.calls, errors: c.errors }))) + '\n');
    return;
  }
  ctx.stdout.write(`${'calls'.padStart(9)} ${'errors'.padStart(9)} syscall\n${'-'.repeat(9)} ${'-'.repeat(9)} ${'-'.repeat(16)}\n`);
  let calls = 0;
  let errors = 0;
  for (const [nr, c] of rows) {
    calls += c.calls;
    errors += c.errors;
    ctx.stdout.write(`${String(c.calls).padStart(9)} ${(c.errors ? String(c.errors) : '').padStart(9)} ${syscallName(nr)}\n`);
  }
  ctx.stdout.write(`${'-'.repeat(9)} ${'-'.repeat(9)} ${'-'.repeat(16)}\n${String(calls).padStart(9)} ${String(errors).padStart(9)} total\n`);
}
