import { ProgramSymbols } from '../symbols/program.js';
import type { Target } from '../target/target.js';
import { standardWalker, type Walker } from '../unwind/walker.js';

/** What symbolic probes need of a target: its program's symbols and a stack walker. */
export interface SymbolContext {
  readonly program: ProgramSymbols;
  readonly walker: Walker;
}

const contexts = new WeakMap<Target, SymbolContext>();

/** Records the symbols and walker probes of `target` use (for typed values, returns, forced returns). */
export function setSymbolContext(target: Target, ctx: SymbolContext): void {
  contexts.set(target, ctx);
}

/**
 * The symbol context of a target: the one set for it, or for a fork child,
 * one made like its parent's (the same image, its own memory).
 */
export function symbolContextOf(target: Target): SymbolContext | undefined {
  const ctx = contexts.get(target);
  if (ctx) return ctx;
  const parent = target.forkParent ? symbolContextOf(target.forkParent) : undefined;
  if (!parent) return undefined;
  const program = new ProgramSymbols(target, parent.program.opts);
  const made = { program, walker: standardWalker(target, program) };
  contexts.set(target, made);
  return made;
}
