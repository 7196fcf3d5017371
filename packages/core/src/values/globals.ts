import { evaluate, strip, type DwarfSymbol, type DwarfType, type CompileUnit } from '@stackdb/dwdebug';
import { RegisterSet } from '../arch/register-set.js';
import type { ProgramSymbols } from '../symbols/program.js';
import type { Thread } from '../target/thread.js';
import type { Addr, LoadedModule } from '../target/types.js';
import { loadValue, missingValue, type Value } from './value.js';

/** A global variable, or a member reached from one, with its value. */
export interface GlobalValue {
  /** The chain as asked (`counters.depth`). */
  readonly name: string;
  /** The module whose debuginfo defines the variable. */
  readonly module: LoadedModule;
  readonly symbol: DwarfSymbol;
  readonly value: Value;
}

/**
 * Loads a global or static variable, or a member chain from it (`a.b.c`,
 * following pointers as the original Stackdb did: `.` also dereferences),
 * from the first module whose debuginfo defines it (the main program first;
 * `OBJECT:chain` names the module). Thread-local variables need `thread`.
 * Returns undefined when no module defines the name.
 */
export async function loadGlobal(program: ProgramSymbols, spec: string, opts: { thread?: Thread } = {}): Promise<GlobalValue | undefined> {
  const colon = spec.lastIndexOf(':');
  const moduleName = colon > 0 ? spec.slice(0, colon) : undefined;
  const chain = colon > 0 ? spec.slice(colon + 1) : spec;
  const target = program.target;
  const mods = (await program.modules()).filter((m) => moduleName === undefined || m.name === moduleName || m.path === moduleName);
  mods.sort((a, b) => Number(b.main === true) - Number(a.main === true));
  for (const module of mods) {
    const df = await program.debugFile(module);
    const found = df?.lookupChain(chain);
    if (!found || found.symbol.kind !== 'variable') continue;
    const regs = opts.thread ? await opts.thread.registers() : new RegisterSet(target.arch);
    const loc = found.symbol.location;
    let address: Addr | undefined;
    if (loc?.kind === 'expr') {
      const cu = found.symbol.unit as CompileUnit;
      const r = await evaluate(loc.expr, cu.env(module.bias), {
        register: async (n) => (regs.arch.findRegister(n) ? regs.get(n) : undefined),
        memory: (a, size) => target.read(a, size),
      }).catch(() => undefined);
      // A chain's members need an address; a whole variable may also live in a register or be a constant.
      if (r?.kind === 'memory') address = r.address;
      else if (r && found.steps.length === 0) return { name: spec, module, symbol: found.symbol, value: await loadValue(target, found.type, r, regs) };
    }
    const cv = found.symbol.constValue;
    if (address === undefined) {
      const value = cv !== undefined && found.steps.length === 0 && cv instanceof Uint8Array ? { type: found.type, status: 'ok' as const, bytes: cv, location: { kind: 'computed' as const } } : missingValue(found.type, 'optimized-out');
      return { name: spec, module, symbol: found.symbol, value };
    }
    let type: DwarfType = found.symbol.type;
    for (const step of found.steps) {
      // `.` goes through as many pointers as stand between the object and its member.
      for (let t = strip(type); t.kind === 'pointer'; t = strip(type)) {
        address = await target.readPointer(address);
        type = t.target;
      }
      const bits = step.bitOffset ?? 0;
      if (step.member.bitSize !== undefined) {
        return { name: spec, module, symbol: found.symbol, value: await bitfieldValue(program, step.member.type, address + BigInt(Math.floor(bits / 8)), bits % 8, step.member.bitSize) };
      }
      address += BigInt(Math.floor(bits / 8));
      type = step.member.type;
    }
    return { name: spec, module, symbol: found.symbol, value: await loadValue(target, found.type, { kind: 'memory', address }, regs) };
  }
  return undefined;
}

/** A bitfield member on its own: its bits, sign-extended for a signed type, as a value of the member's type. */
async function bitfieldValue(program: ProgramSymbols, type: DwarfType, address: Addr, bitOffset: number, bitSize: number): Promise<Value> {
  const size = Math.max(1, Number((strip(type) as { size?: number }).size ?? 4));
  const raw = new Uint8Array(Math.ceil((bitOffset + bitSize) / 8));
  if ((await program.target.readInto(address, raw).catch(() => 0)) < raw.length) return missingValue(type, 'unavailable', `cannot access memory at 0x${address.toString(16)}`);
  let v = 0n;
  for (let i = bitSize - 1; i >= 0; i--) {
    const b = bitOffset + i;
    v = (v << 1n) | BigInt((raw[b >> 3]! >> (b & 7)) & 1);
  }
  const t = strip(type);
  if ((t.kind === 'base' && t.signed) || (t.kind === 'enum' && t.enumerators.some((e) => e.value < 0n))) v = BigInt.asIntN(bitSize, v);
  const bytes = new Uint8Array(size);
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++, x >>= 8n) bytes[i] = Number(x & 0xffn);
  return { type, status: 'ok', bytes, location: { kind: 'computed' } };
}
