import { LookupError, UsageError, monitor, type ModuleSymbol, type ProbeHandlerResult } from '@stackdb/core';
import { isFunctionSymbol } from '@stackdb/dwdebug';
import { returnInstructions } from '../code-scan.js';
import { closeSession, openSession, type SessionTarget } from '../session.js';
import type { ToolContext } from '../tool.js';
import { runToMain } from './dumptarget.js';

/*
 * What rop_checkret and cfi_check share: finding each named function and its
 * return instructions, running the target while probes check the returns,
 * and reporting one line (or JSON object) per violation, or per check with
 * --all, then a count; the exit status is 1 when there was a violation.
 */

/** A function to check: its symbol and its return instructions. */
export interface CheckedFunction {
  readonly name: string;
  readonly symbol: ModuleSymbol;
  readonly returns: readonly bigint[];
}

/** One checked return, as the tools print it. */
export interface ReturnCheck {
  readonly valid: boolean;
  /** The text line. */
  readonly text: string;
  readonly json: Record<string, unknown>;
}

/** How a tool reports a check: the result of the probe handler that made it. */
export type Report = (check: ReturnCheck) => ProbeHandlerResult;

async function findFunction(s: SessionTarget, name: string): Promise<CheckedFunction> {
  const symbol = (await s.program.lookupSymbol(name)).find((x) => isFunctionSymbol(x.elf));
  if (!symbol) throw new LookupError(`no function named ${name}`);
  if (symbol.size === 0n) throw new UsageError(`${name} has no size in its symbol table: its return instructions cannot be found`);
  const returns = await returnInstructions(s.target, symbol.start, Number(symbol.size));
  if (!returns.length) throw new UsageError(`${name} has no return instruction`);
  return { name, symbol, returns };
}

/** `sym+0xOFF` for an address, `??` outside every symbol. */
export async function symbolic(s: SessionTarget, address: bigint): Promise<string> {
  const sym = (await s.program.describe(address)).symbol;
  return sym ? `${sym.name}${address > sym.start ? `+0x${(address - sym.start).toString(16)}` : ''}` : '??';
}

export const hex = (a: bigint) => `0x${a.toString(16)}`;

/**
 * Opens the session, finds the positional functions (a launched program's
 * libraries once it reaches main), lets `place` probe them on the first
 * target, runs it to its end (or --count checks, or --stop at a violation)
 * and prints the checks `place` reports.
 */
export async function runReturnChecks(ctx: ToolContext, place: (s: SessionTarget, fns: readonly CheckedFunction[], report: Report) => Promise<void>): Promise<number> {
  const tool = ctx.args.tool;
  const names = ctx.args.positionals;
  if (!names.length) throw new UsageError('nothing to check: give FUNCTION arguments');
  const json = tool.json === true;
  const limit = typeof tool.count === 'number' ? tool.count : undefined;
  let checked = 0;
  let violations = 0;
  const report: Report = (c) => {
    checked++;
    if (!c.valid) violations++;
    if (!c.valid || tool.all === true) ctx.stdout.write((json ? JSON.stringify(c.json) : c.text) + '\n');
    return (limit !== undefined && checked >= limit) || (!c.valid && tool.stop === true) ? 'stop' : undefined;
  };
  const session = await openSession(ctx);
  try {
    const s = session[0]!;
    const fns: CheckedFunction[] = [];
    for (const name of names) {
      const fn = await findFunction(s, name).catch(async (err: unknown) => {
        if (!(err instanceof LookupError) || !s.launched) throw err;
        await runToMain(s);
        return findFunction(s, name);
      }).catch((err: unknown) => {
        throw err instanceof UsageError ? err : new UsageError(`cannot check ${name}: ${(err as Error).message}`);
      });
      fns.push(fn);
      ctx.stderr.write(`Checking ${fn.returns.length} return${fn.returns.length === 1 ? '' : 's'} of ${name} at ${fn.returns.map(hex).join(', ')}.\n`);
    }
    await place(s, fns, report);
    await monitor([s.target]);
  } finally {
    await closeSession(session, tool);
  }
  if (!json) ctx.stderr.write(`${checked} return${checked === 1 ? '' : 's'} checked, ${violations} violation${violations === 1 ? '' : 's'}.\n`);
  return violations ? 1 : 0;
}
