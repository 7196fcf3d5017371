import { LookupError, ProbeManager, UsageError, monitor, type ProbeHit } from '@stackdb/core';
import { followsCall, returnInstructions } from '../code-scan.js';
import { closeSession, openSession, type SessionTarget } from '../session.js';
import type { ToolContext } from '../tool.js';
import { runToMain } from './dumptarget.js';

/*
 * rop_checkret: a return-oriented-programming detector. Every return
 * instruction of the named functions is probed; at each, before it executes,
 * the address it will return to is read from the stack and must follow a
 * call instruction, as every address a call pushed does. One that does not
 * (a return into a function's entry, or into the middle of code, as a ROP
 * chain makes) is a violation.
 */

/** One checked return. */
interface Check {
  readonly function: string;
  readonly ret: bigint;
  readonly to: bigint;
  readonly valid: boolean;
  readonly tid: number;
}

/** A function's return instructions, found by disassembling its symbol's extent. */
async function returnsOf(s: SessionTarget, name: string): Promise<bigint[]> {
  const sym = (await s.program.lookupSymbol(name)).find((x) => x.elf.type === 'func' || x.elf.type === 'ifunc');
  if (!sym) throw new LookupError(`no function named ${name}`);
  if (sym.size === 0n) throw new UsageError(`${name} has no size in its symbol table: its return instructions cannot be found`);
  const rets = await returnInstructions(s.target, sym.start, Number(sym.size));
  if (!rets.length) throw new UsageError(`${name} has no return instruction`);
  return rets;
}

async function where(s: SessionTarget, address: bigint): Promise<string> {
  const sym = (await s.program.describe(address)).symbol;
  return sym ? `${sym.name}${address > sym.start ? `+0x${(address - sym.start).toString(16)}` : ''}` : '??';
}

async function describe(s: SessionTarget, c: Check, json: boolean): Promise<string> {
  const hex = (a: bigint) => `0x${a.toString(16)}`;
  const from = await where(s, c.ret);
  const to = await where(s, c.to);
  if (json) return JSON.stringify({ function: c.function, ret: hex(c.ret), retSymbol: from, to: hex(c.to), toSymbol: to, valid: c.valid, thread: c.tid });
  const head = c.valid ? 'ok' : 'ROP violation';
  const why = c.valid ? '' : ', which follows no call';
  return `${head}: ${c.function} returned from ${hex(c.ret)} (${from}) to ${hex(c.to)} (${to})${why} (thread ${c.tid})`;
}

/** `stackdb rop_checkret`: check that every return of the given functions goes back to a call site. */
export async function run(ctx: ToolContext): Promise<number> {
  const tool = ctx.args.tool;
  const names = ctx.args.positionals;
  if (!names.length) throw new UsageError('nothing to check: give FUNCTION arguments');
  const json = tool.json === true;
  const limit = typeof tool.count === 'number' ? tool.count : undefined;
  const session = await openSession(ctx);
  let checked = 0;
  let violations = 0;
  try {
    const s = session[0]!;
    const found = new Map<string, bigint[]>();
    for (const name of names) {
      const rets = await returnsOf(s, name).catch(async (err: unknown) => {
        // A launched program has its libraries once it reaches main.
        if (!(err instanceof LookupError) || !s.launched) throw err;
        await runToMain(s);
        return returnsOf(s, name);
      }).catch((err: unknown) => {
        throw err instanceof UsageError ? err : new UsageError(`cannot check ${name}: ${(err as Error).message}`);
      });
      found.set(name, rets);
      ctx.stderr.write(`Checking ${rets.length} return${rets.length === 1 ? '' : 's'} of ${name} at ${rets.map((a) => `0x${a.toString(16)}`).join(', ')}.\n`);
    }
    const manager = ProbeManager.for(s.target);
    for (const [name, rets] of found) {
      await manager.breakpoints(rets, {
        pre: async (hit: ProbeHit) => {
          const to = await s.target.readPointer(await hit.thread.sp());
          const c: Check = { function: name, ret: hit.address, to, valid: await followsCall(s.target, to), tid: hit.thread.tid };
          checked++;
          if (!c.valid) violations++;
          if (!c.valid || tool.all === true) ctx.stdout.write((await describe(s, c, json)) + '\n');
          return (limit !== undefined && checked >= limit) || (!c.valid && tool.stop === true) ? 'stop' : undefined;
        },
      }, { name: `ret:${name}` });
    }
    await monitor([s.target]);
  } finally {
    await closeSession(session, tool);
  }
  if (!json) ctx.stderr.write(`${checked} return${checked === 1 ? '' : 's'} checked, ${violations} violation${violations === 1 ? '' : 's'}.\n`);
  return violations ? 1 : 0;
}
