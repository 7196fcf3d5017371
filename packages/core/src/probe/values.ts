import { DW_ATE, sizeOf, strip, type CfiRow, type CfiTable, type DwarfType, type FunctionSymbol } from '@stackdb/dwdebug';
import type { RegisterSet } from '../arch/register-set.js';
import { ProbeError } from '../errors.js';
import type { Thread } from '../target/thread.js';
import { Frame } from '../unwind/frame.js';
import { FrameScope, type LogicalFrame, type NamedValue } from '../values/frame-scope.js';
import { missingValue, type Value } from '../values/value.js';
import type { SymbolContext } from './context.js';
import type { ProbePoint } from './points.js';
import type { HitValues, ProbeHit } from './types.js';

/*
 * Typed values of probe hits, computed on first use and then kept: a handler
 * that reads nothing costs nothing. At a function's entry the arguments are
 * the DWARF parameters evaluated in the innermost frame (probes on functions
 * sit after the prologue, where their locations hold). For return probes the
 * manager's exit hit carries the entry hit, whose values were captured when
 * the function was entered (they are gone by the time it returns); the return
 * value is read from the registers the x86-64 psABI returns it in.
 */

/** The typed values of one hit. */
export function hitValues(hit: ProbeHit, point: ProbePoint | undefined, ctx: SymbolContext): HitValues {
  return new LazyHitValues(hit, point, ctx);
}

/** One object per hit; everything is computed on first use and kept. */
class LazyHitValues implements HitValues {
  private scope?: Promise<FrameScope>;
  private argValues?: Promise<NamedValue[]>;
  private ret?: Promise<Value | undefined>;

  constructor(private readonly hit: ProbeHit, private readonly point: ProbePoint | undefined, private readonly ctx: SymbolContext) {}

  frame(): Promise<FrameScope> {
    this.scope ??= this.makeScope();
    return this.scope;
  }

  private async makeScope(): Promise<FrameScope> {
    const { hit, ctx } = this;
    // A probe's frame is never a signal trampoline: no need for the walker's check of the code.
    const f = new Frame(hit.thread, 0, await hit.thread.registers(), { returnAddress: { kind: 'thread' }, stepper: 'thread', exactPc: true });
    return FrameScope.create(ctx.program, f, undefined, async () => {
      if (f.cfa === undefined) {
        // Most CFI rows say "CFA = register + offset": no need for a whole unwinding step.
        const cfa = await quickCfa(ctx, f.registers, f.pc);
        if (cfa !== undefined) return cfa;
        await ctx.walker.walkSingleFrame(f);
      }
      return f.cfa;
    });
  }

  private async logical(): Promise<{ scope: FrameScope; frame: LogicalFrame } | undefined> {
    const s = await this.frame();
    const lf = pickFrame(s.logicalFrames(), this.point);
    return lf ? { scope: s, frame: lf } : undefined;
  }

  args(): Promise<NamedValue[]> {
    const entry = this.hit.phase === 'exit' ? this.hit.entry?.values : undefined;
    if (entry) return entry.args();
    this.argValues ??= this.logical().then((l) => (l ? l.scope.args(l.frame) : []));
    return this.argValues;
  }

  returnValue(): Promise<Value | undefined> {
    const fn = this.point?.function;
    if (this.hit.phase !== 'exit' || !fn) return Promise.resolve(undefined);
    this.ret ??= returnValueOf(this.hit.thread, fn);
    return this.ret;
  }

  async variable(name: string): Promise<NamedValue | undefined> {
    const l = await this.logical();
    return l ? l.scope.variable(name, l.frame) : undefined;
  }
}

const cfaRows = new WeakMap<CfiTable, Map<bigint, CfiRow | null>>();

/** The CFA at an exact pc when its CFI row is `register + offset`, else undefined. */
async function quickCfa(ctx: SymbolContext, regs: RegisterSet, pc: bigint): Promise<bigint | undefined> {
  const module = await ctx.program.moduleAt(pc);
  if (!module) return undefined;
  const table = await ctx.program.cfiTable(module);
  if (!table) return undefined;
  let rows = cfaRows.get(table);
  if (!rows) cfaRows.set(table, (rows = new Map()));
  const link = pc - module.bias;
  let row = rows.get(link);
  if (row === undefined) {
    // Probes stop at the same few pcs over and over: remember their rows.
    if (rows.size > 4096) rows.clear();
    row = table.rowFor(link) ?? null;
    rows.set(link, row);
  }
  if (row?.cfa.kind !== 'reg-offset') return undefined;
  const base = regs.arch.findRegister(row.cfa.reg) ? regs.get(row.cfa.reg) : undefined;
  return base === undefined ? undefined : BigInt.asUintN(64, base + BigInt(row.cfa.offset));
}

/** The logical frame a point's values belong to: the probed function (or inlined copy), else the innermost. */
function pickFrame(frames: readonly LogicalFrame[], point: ProbePoint | undefined): LogicalFrame | undefined {
  if (point?.kind === 'inlined' && point.inlined) {
    const copies = new Set(point.inlined.map((c) => c.id));
    const f = frames.find((x) => x.code?.kind === 'inlined' && copies.has(x.code.id));
    if (f) return f;
  }
  if ((point?.kind === 'function' || point?.kind === 'address') && point.function) {
    const fn = point.function;
    const f = frames.find((x) => x.code?.kind === 'function' && (x.code.id === fn.id || x.code.name === fn.name));
    if (f) return f;
  }
  return frames[0];
}

function littleEndian(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

function isFloat(t: DwarfType): boolean {
  const s = strip(t);
  return s.kind === 'base' && (s.encoding === DW_ATE.float || s.encoding === DW_ATE.complex_float);
}

/**
 * psABI classes of the eightbytes of a small aggregate: SSE when every
 * scalar in the eightbyte is a float or double, INTEGER otherwise.
 */
function classify(t: DwarfType, base: number, classes: ('int' | 'sse' | undefined)[]): void {
  const s = strip(t);
  if (s.kind === 'struct' || s.kind === 'union' || s.kind === 'class') {
    for (const m of s.complete().members) if (!m.isStatic) classify(m.type, base + (m.offset ?? 0), classes);
    return;
  }
  if (s.kind === 'array') {
    const el = s.element;
    const es = sizeOf(el) ?? 0;
    const n = es ? Math.floor((sizeOf(s) ?? 0) / es) : 0;
    for (let i = 0; i < n; i++) classify(el, base + i * es, classes);
    return;
  }
  const size = sizeOf(s) ?? 1;
  for (let b = Math.floor(base / 8); b <= Math.floor((base + size - 1) / 8); b++) {
    const c = isFloat(s) ? 'sse' : 'int';
    classes[b] = classes[b] === 'int' || c === 'int' ? 'int' : 'sse';
  }
}

/** The value a function returned, from the registers of the returning thread (x86-64 psABI). */
export async function returnValueOf(thread: Thread, fn: FunctionSymbol): Promise<Value | undefined> {
  const type = fn.returnType;
  const s = strip(type);
  if (s.kind === 'void') return undefined;
  const size = sizeOf(type) ?? 8;
  const regs: RegisterSet = await thread.registers();
  const reg = (name: string) => regs.get(name) ?? 0n;
  const ok = (bytes: Uint8Array, register?: string): Value => ({ type, status: 'ok', bytes, location: register ? { kind: 'register', register } : { kind: 'computed' } });
  if (isFloat(s)) {
    if (size > 8) return missingValue(type, 'unavailable', 'x87 and complex return values are not read');
    return ok(littleEndian(reg('xmm0'), 16).subarray(0, size), size === 8 || size === 4 ? undefined : 'xmm0');
  }
  if (s.kind === 'struct' || s.kind === 'union' || s.kind === 'class' || s.kind === 'array') {
    if (size > 16) {
      // Returned in memory: rax holds the address the caller passed.
      const address = reg('rax');
      const bytes = new Uint8Array(size);
      const n = await thread.target.readInto(address, bytes).catch(() => 0);
      if (n < size) return missingValue(type, 'unavailable', `cannot access memory at 0x${(address + BigInt(n)).toString(16)}`);
      return { type, status: 'ok', bytes, location: { kind: 'memory', address } };
    }
    const classes: ('int' | 'sse' | undefined)[] = [];
    classify(s, 0, classes);
    const ints = ['rax', 'rdx'];
    const sses = ['xmm0', 'xmm1'];
    const bytes = new Uint8Array(size);
    for (let b = 0; b * 8 < size; b++) {
      const r = classes[b] === 'sse' ? sses.shift()! : ints.shift()!;
      bytes.set(littleEndian(reg(r), 8).subarray(0, Math.min(8, size - b * 8)), b * 8);
    }
    return ok(bytes);
  }
  if (size > 8) return ok(Uint8Array.from([...littleEndian(reg('rax'), 8), ...littleEndian(reg('rdx'), size - 8)]));
  return ok(littleEndian(reg('rax'), size), 'rax');
}

/**
 * The registers that make a returning function give `value` (x86-64 psABI,
 * the inverse of {@link returnValueOf}): a number for a scalar return type
 * (a float or double goes to xmm0, an integer, enum or pointer to rax), or the
 * value's bytes for any type. A value returned in memory is written to the
 * caller's buffer, whose address arrived in rdi: only `atEntry`, before the
 * function could change rdi.
 */
export async function returnRegisters(thread: Thread, fn: FunctionSymbol, value: number | Uint8Array, atEntry: boolean): Promise<Record<string, bigint>> {
  const type = fn.returnType;
  const s = strip(type);
  const what = fn.name ?? 'the function';
  const refuse = (why: string) => new ProbeError('ERR_PROBE_ACTION', `cannot return ${typeof value === 'number' ? value : `${value.length} bytes`} from ${what}: ${why}`);
  if (s.kind === 'void') throw refuse('it returns void');
  const size = sizeOf(type) ?? 8;
  const float = isFloat(s);
  if (typeof value === 'number') {
    if (float && size === 8) return { xmm0: new DataView(Float64Array.of(value).buffer).getBigUint64(0, true) };
    if (float && size === 4) return { xmm0: BigInt(new DataView(Float32Array.of(value).buffer).getUint32(0, true)) };
    if (float || size > 8 || s.kind === 'struct' || s.kind === 'union' || s.kind === 'class' || s.kind === 'array') throw refuse('give its bytes');
    if (!Number.isInteger(value)) throw refuse('its type is an integer type');
    return { rax: BigInt.asUintN(64, BigInt(value)) };
  }
  if (value.length !== size) throw refuse(`its type is ${size} bytes`);
  const word = (from: number) => {
    let v = 0n;
    for (let i = Math.min(value.length, from + 8) - 1; i >= from; i--) v = (v << 8n) | BigInt(value[i]!);
    return v;
  };
  if (float) {
    if (size > 8) throw refuse('x87 and complex return values are not set');
    return { xmm0: word(0) };
  }
  if (size > 16) {
    if (!atEntry) throw refuse('it is returned in memory, whose address is known only at the function\'s first instruction');
    const address = await thread.register('rdi');
    await thread.target.write(address, value);
    return { rax: address };
  }
  const out: Record<string, bigint> = {};
  if (s.kind === 'struct' || s.kind === 'union' || s.kind === 'class' || s.kind === 'array') {
    const classes: ('int' | 'sse' | undefined)[] = [];
    classify(s, 0, classes);
    const ints = ['rax', 'rdx'];
    const sses = ['xmm0', 'xmm1'];
    for (let b = 0; b * 8 < size; b++) out[classes[b] === 'sse' ? sses.shift()! : ints.shift()!] = word(b * 8);
    return out;
  }
  out.rax = word(0);
  if (size > 8) out.rdx = word(8);
  return out;
}
