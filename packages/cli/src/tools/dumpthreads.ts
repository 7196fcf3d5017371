import type { Thread } from '@stackdb/core';
import { closeSession, openSession, runFor, runLaunched } from '../session.js';
import type { ToolContext } from '../tool.js';

const GROUPS_TEXT = new Set(['general', 'segment', 'control', 'debug']);

async function threadText(th: Thread, all: boolean): Promise<string> {
  const info = th.info;
  const regs = await th.registers().catch(() => undefined);
  const head = `tid(${th.tid}): tid=${th.tid},name=${th.name ?? '(null)'},state=${info.state}` +
    (info.pid !== undefined ? `,pid=${info.pid}` : '') + (info.ptid !== undefined ? `,ptid=${info.ptid}` : '') + (info.context ? `,ctxt=${info.context}` : '');
  if (!regs) return `${head}\n  (registers unavailable)`;
  const parts = [...regs.entries()].filter(([r]) => all || GROUPS_TEXT.has(r.group)).map(([r, v]) => `${r.name}=${v.toString(16)}`);
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 8) lines.push('  ' + parts.slice(i, i + 8).join(','));
  return `${head},\n${lines.join(',\n')}`;
}

async function threadJson(th: Thread, all: boolean) {
  const regs = await th.registers().catch(() => undefined);
  const registers: Record<string, string> = {};
  for (const [r, v] of regs?.entries() ?? []) if (all || GROUPS_TEXT.has(r.group)) registers[r.name] = `0x${v.toString(16)}`;
  return { ...th.info, registers };
}

/** `stackdb dumpthreads`: each thread's state and registers, once or every `--interval` ms. */
export async function run(ctx: ToolContext): Promise<number> {
  const opts = ctx.args.tool;
  const all = opts.allRegisters === true;
  const session = await openSession(ctx);
  try {
    await runLaunched(session, opts);
    const interval = typeof opts.interval === 'number' ? opts.interval : undefined;
    const count = typeof opts.count === 'number' ? opts.count : interval === undefined ? 1 : Infinity;
    for (let round = 0; round < count; round++) {
      if (round > 0) {
        const live = session.filter((s) => s.target.capabilities.execution && s.target.status === 'paused');
        if (!live.length) await new Promise((r) => setTimeout(r, interval));
        await Promise.all(live.map((s) => runFor(s.target, interval!)));
      }
      for (const s of session) {
        if (s.target.status === 'exited') continue;
        const threads = await s.target.tasksOrThreads();
        if (opts.json) {
          ctx.stdout.write(JSON.stringify({ target: s.target.id, name: s.target.name, round, threads: await Promise.all(threads.map((t) => threadJson(t, all))) }) + '\n');
        } else {
          ctx.stdout.write(`threads in target '${s.target.name}':\n`);
          for (const th of threads) ctx.stdout.write((await threadText(th, all)) + '\n');
        }
      }
    }
  } finally {
    await closeSession(session, opts);
  }
  return 0;
}
