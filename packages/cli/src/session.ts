import {
  ProbeManager,
  ProgramSymbols,
  UsageError,
  openTargets,
  standardWalker,
  type ExitStatus,
  type MonitorResult,
  type Target,
  type TargetSpec,
  type Walker,
} from '@stackdb/core';
import { isFunctionSymbol } from '@stackdb/dwdebug';
import type { ToolContext } from './tool.js';

/** One opened target with its symbols and walker. */
export interface SessionTarget {
  readonly target: Target;
  readonly program: ProgramSymbols;
  readonly walker: Walker;
  /** The tool launched the program (it is killed or detached at the end). */
  readonly launched: boolean;
}

/** Options shared by tools that look at a stopped target. */
export const RUN_OPTIONS = [
  { long: 'delay', arg: 'MS', type: 'uint' as const, help: 'For a launched program: let it run this long first (default 500)' },
  { long: 'at', arg: 'SYMBOL', help: 'For a launched program: run until SYMBOL (or FILE:LINE, or ADDR) is reached' },
  { long: 'demo', help: 'Launch the bundled demo program (the seed\'s dummy)' },
  { long: 'demo-threads', help: 'Launch the bundled two-thread demo program (dummy.threads)' },
  { long: 'kill', help: 'Kill a launched program at the end instead of detaching' },
];

async function withDemo(specs: readonly TargetSpec[], tool: ToolContext['args']['tool']): Promise<readonly TargetSpec[]> {
  const threads = tool.demoThreads === true;
  if (tool.demo !== true && !threads) return specs;
  if (specs.length) throw new UsageError('--demo launches its own target: give no target options with it');
  // Loaded only here: building the demo needs child_process and crypto, which other runs never load.
  const { demoProgram } = await import('./demo.js');
  return [{
    id: 1, driver: 'ptrace', kind: 'base', options: {}, selectedBy: '--demo', overlays: [],
    common: { activeProbing: [], debugfileLoadOpts: [], softBreakpoints: false },
    program: [demoProgram({ threads }), '1'],
  }];
}

/** Opens the command line's targets (or the demo) and builds symbols and a walker for each. */
export async function openSession(ctx: ToolContext): Promise<SessionTarget[]> {
  const specs = await withDemo(ctx.args.targets, ctx.args.tool);
  if (!specs.length) throw new UsageError('no target given: use -p PID, -- PROGRAM ARGS, --core FILE, --gdb-port PORT, ... (see --help)');
  const targets = await openTargets(specs, ctx.registry);
  return targets.map((target) => {
    const program = ProgramSymbols.of(target);
    return { target, program, walker: standardWalker(target, program), launched: target.spec?.program !== undefined };
  });
}

/**
 * For launched programs: runs them for `--delay` ms (default 500), or until
 * `--at` is reached, then pauses. Attached targets are left as they were opened.
 */
export async function runLaunched(session: readonly SessionTarget[], tool: ToolContext['args']['tool']): Promise<void> {
  for (const s of session) {
    if (!s.launched || !s.target.capabilities.execution) continue;
    if (typeof tool.at === 'string') {
      const addresses = await resolveCode(s.program, tool.at);
      const probes = ProbeManager.for(s.target);
      const ps = await Promise.all(addresses.map((a) => probes.breakpoint(a, { pre: () => 'stop' }, { name: tool.at as string })));
      const r = await s.target.monitor();
      for (const p of ps) await p.remove();
      if (r.reason === 'exited') throw new UsageError(`the program exited before reaching ${tool.at}`);
    } else {
      const delay = typeof tool.delay === 'number' ? tool.delay : 500;
      const r = await runFor(s.target, delay);
      if (r.reason === 'exited') throw new UsageError(`the program exited${exitText(r.status)} during the ${delay} ms --delay`);
    }
  }
}

/**
 * Lets a target run for `ms` milliseconds, handling its stops meanwhile
 * (thread events, signals for the program), and pauses it again.
 */
export function runFor(target: Target, ms: number): Promise<MonitorResult> {
  return target.monitor({ signal: AbortSignal.timeout(ms) });
}

function exitText(status: ExitStatus | undefined): string {
  if (status?.code !== undefined) return ` with status ${status.code}`;
  if (status?.signal !== undefined) return ` on signal ${status.signal}`;
  return '';
}

/** Runtime addresses of a code location: `SYMBOL`, `OBJECT:SYMBOL`, `FILE:LINE`, or a hex address. */
export async function resolveCode(program: ProgramSymbols, spec: string): Promise<bigint[]> {
  if (/^0x[0-9a-f]+$/i.test(spec)) return [BigInt(spec)];
  const fileLine = /^(.+):(\d+)$/.exec(spec);
  if (fileLine) {
    const out: bigint[] = [];
    for (const m of await program.modules()) {
      const df = await program.debugFile(m);
      for (const a of df?.addressesOf(fileLine[1]!, Number(fileLine[2])) ?? []) out.push(a.address + m.bias);
    }
    if (out.length) return out;
  }
  const syms = (await program.lookupSymbol(spec)).filter((s) => isFunctionSymbol(s.elf));
  if (!syms.length) throw new UsageError(`no function or line named ${spec}`);
  return [syms[0]!.start];
}

/** Detaches (or kills, with --kill or for the demo) every target, leaving programs running. */
export async function closeSession(session: readonly SessionTarget[], tool: ToolContext['args']['tool']): Promise<void> {
  const kill = tool.kill === true || tool.demo === true || tool.demoThreads === true;
  for (const s of [...session].reverse()) {
    if (kill && s.launched && s.target.capabilities.kill && s.target.status !== 'exited') await s.target.kill();
    await s.target.close();
  }
}
