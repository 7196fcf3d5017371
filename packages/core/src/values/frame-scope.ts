import {
  evaluate,
  type CallSite,
  type CompileUnit,
  type DebugFile,
  type DwarfSymbol,
  type DwarfType,
  type FunctionAt,
  type FunctionSymbol,
  type InlinedInstance,
  type Location,
  type LocationEnv,
  type LocationResult,
  type ParameterSymbol,
  type Scope,
  type UnitEnv,
  type VariableSymbol,
} from '@stackdb/dwdebug';
import type { ProgramSymbols, ModuleSymbol } from '../symbols/program.js';
import type { Addr, LoadedModule } from '../target/types.js';
import type { Frame } from '../unwind/frame.js';
import { loadValue, missingValue, type Value } from './value.js';

/*
 * Frames as a user sees them. One physical frame (from the walker) becomes one
 * logical frame per inlined call active at its pc, innermost first, then the
 * out-of-line function, as gdb shows them. Values of parameters and locals are
 * evaluated against the physical frame's recovered registers, with the
 * function's frame base and the frame's CFA; DW_OP_entry_value is answered
 * from the caller's call-site parameters (DW_TAG_call_site_parameter), which is
 * also how a parameter's value at entry (`a@entry`) is found.
 */

/** A variable or parameter with its value. */
export interface NamedValue {
  readonly name: string;
  readonly symbol: VariableSymbol | ParameterSymbol;
  readonly value: Value;
  /** The parameter's value on entry to the function, when the caller's call site says. */
  readonly entry?: Value;
}

/** One frame of a backtrace. */
export interface LogicalFrame {
  readonly physical: Frame;
  /** 0 for the innermost logical frame of its physical frame. */
  readonly inlineDepth: number;
  /** This frame is a call that was inlined into the next one. */
  readonly inlined: boolean;
  /** The DWARF function (or inlined call) of this frame, when known. */
  readonly code?: FunctionSymbol | InlinedInstance;
  /** Function name: from DWARF, else the ELF symbol, else undefined. */
  readonly name?: string;
  /** The ELF symbol covering the pc, when DWARF does not describe the function. */
  readonly symbol?: ModuleSymbol;
  readonly module?: LoadedModule;
  /** Source position: the pc's line for the innermost frame, the inlined call's position for outer ones. */
  readonly file?: string;
  readonly line?: number;
}

const DW_OP_reg0 = 0x50;
const DW_OP_regx = 0x90;

/** The register a location expression names when it is exactly `DW_OP_regN`/`DW_OP_regx N`. */
function singleRegister(expr: Uint8Array): number | undefined {
  if (expr.length === 1 && expr[0]! >= DW_OP_reg0 && expr[0]! < DW_OP_reg0 + 32) return expr[0]! - DW_OP_reg0;
  if (expr[0] === DW_OP_regx) {
    let v = 0;
    let shift = 0;
    for (let i = 1; i < expr.length; i++) {
      v |= (expr[i]! & 0x7f) << shift;
      shift += 7;
      if (!(expr[i]! & 0x80)) return i === expr.length - 1 ? v : undefined;
    }
  }
  return undefined;
}

/** The expression of a location that applies at a link-time pc; undefined when none does (optimized out there). */
export function locationAt(loc: Location, linkPc: Addr): Uint8Array | undefined {
  if (loc.kind === 'expr') return loc.expr;
  let fallback: Uint8Array | undefined;
  for (const e of loc.entries) {
    if (e.isDefault) fallback = e.expr;
    else if (e.start <= linkPc && linkPc < e.end) return e.expr;
  }
  return fallback;
}

function unitEnvOf(s: DwarfSymbol, bias: Addr): UnitEnv {
  return (s.unit as CompileUnit).env(bias);
}

/**
 * The values and logical frames of one physical frame. Create with
 * {@link FrameScope.create}; `caller` (the next physical frame) enables entry
 * values.
 */
export class FrameScope {
  private constructor(
    readonly program: ProgramSymbols,
    readonly frame: Frame,
    readonly caller: FrameScope | undefined,
    readonly module: LoadedModule | undefined,
    readonly debugFile: DebugFile | undefined,
    readonly at: FunctionAt | undefined,
    readonly symbol: ModuleSymbol | undefined,
    private readonly cfa: () => Promise<Addr | undefined>,
  ) {}

  /** Describes a physical frame. `cfa` computes its CFA when the walker has not yet. */
  static async create(program: ProgramSymbols, frame: Frame, caller: FrameScope | undefined, cfa: () => Promise<Addr | undefined>): Promise<FrameScope> {
    const loc = await program.describe(frame.lookupPc, { symbol: 'fallback' });
    return new FrameScope(program, frame, caller, loc.module, loc.debugFile, loc.function, loc.symbol, cfa);
  }

  private get bias(): Addr {
    return this.module?.bias ?? 0n;
  }

  /** The lookup pc at link time (for DWARF). */
  get linkPc(): Addr {
    return this.frame.lookupPc - this.bias;
  }

  /** The logical frames, innermost first. */
  logicalFrames(): LogicalFrame[] {
    const base = { physical: this.frame, ...(this.symbol ? { symbol: this.symbol } : {}), ...(this.module ? { module: this.module } : {}) };
    if (!this.at) {
      return [{ ...base, inlineDepth: 0, inlined: false, ...(this.symbol ? { name: this.symbol.name } : {}) }];
    }
    const line = this.debugFile?.lineAt(this.linkPc);
    const chain: (FunctionSymbol | InlinedInstance)[] = [...this.at.inlined, this.at.function];
    return chain.map((code, depth) => {
      const name = code.kind === 'inlined' ? (code.origin?.name ?? code.name) : code.name;
      // The innermost frame is at the pc's line; each outer one at the inlined call it made.
      const inner = depth > 0 ? (chain[depth - 1] as InlinedInstance) : undefined;
      const file = inner ? inner.callFile : line?.file;
      const ln = inner ? inner.callLine : line?.line;
      return {
        ...base,
        inlineDepth: depth,
        inlined: code.kind === 'inlined',
        code,
        ...(name ?? this.symbol?.name ? { name: name ?? this.symbol!.name } : {}),
        ...(file !== undefined ? { file } : {}),
        ...(ln !== undefined ? { line: ln } : {}),
      };
    });
  }

  /**
   * gdb's tail-call frames: when the call made from this frame (the caller of
   * `callee`) called a function that ended in a tail call to `callee`'s
   * function, that function appears between them. One level is resolved;
   * its arguments are its entry values from this frame's call site.
   */
  async tailCallFramesTo(callee: FrameScope): Promise<{ frame: LogicalFrame; args: NamedValue[]; pc: Addr }[]> {
    const site = this.callSiteAtReturn();
    const middle = site?.callee;
    const target = callee.at?.function;
    if (!site || !middle || !target || middle.name === target.name) return [];
    const tail = findTailCall(middle.scope, target.name);
    if (!tail) return [];
    const returnPc = tail.returnPc;
    const pc = (returnPc ?? middle.lowPc ?? 0n) + this.bias;
    const line = returnPc !== undefined ? this.debugFile?.lineAt(returnPc - 1n) : undefined;
    const args: NamedValue[] = [];
    for (const p of middle.params) {
      const expr = p.location && middle.entryPc !== undefined ? locationAt(p.location, middle.entryPc) : undefined;
      const reg = expr ? singleRegister(expr) : undefined;
      const v = reg === undefined ? undefined : await this.callSiteArgument(site, reg);
      const value: Value = v === undefined ? missingValue(p.type, 'optimized-out') : { type: p.type, status: 'ok', bytes: constBytes(v, p.type), location: { kind: 'computed' } };
      args.push({ name: p.name ?? '?', symbol: p, value, ...(v === undefined ? {} : { entry: value }) });
    }
    const frame: LogicalFrame = {
      physical: callee.frame,
      inlineDepth: 0,
      inlined: false,
      code: middle,
      ...(middle.name ? { name: middle.name } : {}),
      ...(this.module ? { module: this.module } : {}),
      ...(line ? { file: line.file, line: line.line } : {}),
    };
    return [{ frame, args, pc }];
  }

  /** The scopes (innermost first) that belong to one logical frame. */
  private scopesOf(logical: LogicalFrame): Scope[] {
    if (!this.at) return [];
    const out: Scope[] = [];
    let depth = 0;
    for (const s of this.at.scopes) {
      if (depth === logical.inlineDepth) out.push(s);
      if (s.kind === 'inlined' || s.kind === 'function') depth++;
      if (depth > logical.inlineDepth) break;
    }
    return out;
  }

  /** Arguments of a logical frame, in declaration order, with their entry values. */
  async args(logical: LogicalFrame): Promise<NamedValue[]> {
    const params = logical.code?.params ?? [];
    const out: NamedValue[] = [];
    for (const p of params) {
      const value = await this.valueOf(p);
      const entry = await this.entryValueOf(p);
      out.push({ name: p.name ?? '?', symbol: p, value, ...(entry ? { entry } : {}) });
    }
    return out;
  }

  /** Local variables of a logical frame visible at the pc, innermost scope first. */
  async locals(logical: LogicalFrame): Promise<NamedValue[]> {
    const out: NamedValue[] = [];
    for (const s of this.scopesOf(logical)) {
      for (const sym of s.symbols) {
        if (sym.kind !== 'variable') continue;
        out.push({ name: sym.name ?? '?', symbol: sym, value: await this.valueOf(sym) });
      }
    }
    return out;
  }

  /**
   * A variable or parameter by name as seen from a logical frame: the innermost
   * visible one; `not-in-scope` when the function declares it only in a block
   * the pc is outside of; undefined when the function does not declare it.
   */
  async variable(name: string, logical: LogicalFrame): Promise<NamedValue | undefined> {
    for (const s of this.scopesOf(logical)) {
      for (const sym of s.symbols) {
        if ((sym.kind === 'variable' || sym.kind === 'parameter') && sym.name === name) return { name, symbol: sym, value: await this.valueOf(sym) };
      }
    }
    const declared = logical.code ? findDeclared(logical.code.scope, name) : undefined;
    if (declared) return { name, symbol: declared, value: missingValue(declared.type, 'not-in-scope', `${name} is not in scope at this pc`) };
    return undefined;
  }

  /** The value of a variable or parameter in this frame. */
  async valueOf(sym: VariableSymbol | ParameterSymbol): Promise<Value> {
    const type = sym.type;
    const cv = sym.constValue;
    if (cv !== undefined) return { type, status: 'ok', bytes: constBytes(cv, type), location: { kind: 'computed' } };
    const loc = sym.location;
    if (!loc) return missingValue(type, 'optimized-out');
    const expr = locationAt(loc, this.linkPc);
    if (!expr) return missingValue(type, 'optimized-out');
    return this.evaluateValue(expr, type, unitEnvOf(sym, this.bias));
  }

  private async evaluateValue(expr: Uint8Array, type: DwarfType, unit: UnitEnv): Promise<Value> {
    let result: LocationResult;
    try {
      result = await evaluate(expr, unit, this.env(unit));
    } catch (err) {
      return missingValue(type, 'unavailable', (err as Error).message);
    }
    return loadValue(this.frame.thread.target, type, result, this.frame.registers);
  }

  /** The environment location expressions of this frame evaluate in. */
  env(unit: UnitEnv): LocationEnv {
    const target = this.frame.thread.target;
    const regs = this.frame.registers;
    return {
      register: async (n) => (regs.arch.findRegister(n) ? regs.get(n) : undefined),
      memory: (address, size) => target.read(address, size),
      cfa: () => this.cfa(),
      frameBase: () => this.frameBase(unit),
      entryValue: (expr) => this.entryValueOfExpression(expr),
    };
  }

  private async frameBase(unit: UnitEnv): Promise<Addr | undefined> {
    const fb = this.at?.function.frameBase;
    if (!fb) return undefined;
    const expr = locationAt(fb, this.linkPc);
    if (!expr) return undefined;
    const r = await evaluate(expr, unit, { ...this.env(unit), frameBase: async () => undefined });
    if (r.kind === 'memory') return r.address;
    if (r.kind === 'register') return this.frame.registers.get(r.dwarf);
    return undefined;
  }

  /** DW_OP_entry_value(DW_OP_regN): the caller passed it in register N; ask the caller's call site. */
  private async entryValueOfExpression(expr: Uint8Array): Promise<bigint | undefined> {
    const reg = singleRegister(expr);
    return reg === undefined ? undefined : this.callSiteValue(reg);
  }

  /** A parameter's value at entry: where its location puts it at the function's entry, from the caller's call site. */
  private async entryValueOf(p: ParameterSymbol): Promise<Value | undefined> {
    const loc = p.location;
    const entryPc = this.at?.function.entryPc;
    if (!loc || entryPc === undefined) return undefined;
    const expr = locationAt(loc, entryPc);
    const reg = expr ? singleRegister(expr) : undefined;
    if (reg === undefined) return undefined;
    const v = await this.callSiteValue(reg);
    return v === undefined ? undefined : { type: p.type, status: 'ok', bytes: constBytes(v, p.type), location: { kind: 'computed' } };
  }

  /**
   * The value the caller's call site says it passed in register `reg` to this
   * frame's function (DW_TAG_call_site_parameter: DW_AT_location DW_OP_regN,
   * DW_AT_call_value evaluated in the caller's frame).
   */
  private async callSiteValue(reg: number): Promise<bigint | undefined> {
    const site = this.caller?.callSiteAtReturn();
    const callee = site?.callee;
    // The call site must have called this very function: a callee defined in the caller's
    // module under another name ended in a tail call, which breaks the chain. (A callee that
    // is only declared there, in another library, is known by another name, e.g. sleep/__sleep.)
    if (!site || !this.caller || (callee && callee.ranges.length > 0 && callee.name !== this.at?.function.name)) return undefined;
    return this.caller.callSiteArgument(site, reg);
  }

  /** The call site whose return address is this frame's pc (the call that made the next frame). */
  callSiteAtReturn(): CallSite | undefined {
    if (!this.at || this.frame.init.exactPc) return undefined;
    return findCallSite(this.at.function.scope, this.frame.pc - this.bias);
  }

  /** Evaluates, in this (the caller's) frame, what a call site passed in register `reg`. */
  async callSiteArgument(site: CallSite, reg: number): Promise<bigint | undefined> {
    const param = site.params.find((q) => q.location?.kind === 'expr' && singleRegister(q.location.expr) === reg && q.value?.kind === 'expr');
    if (!param || param.value?.kind !== 'expr') return undefined;
    const unit = unitEnvOf(site, this.bias);
    let r: LocationResult;
    try {
      r = await evaluate(param.value.expr, unit, this.env(unit));
    } catch {
      return undefined;
    }
    // A DWARF expression's value is the top of its stack: an "address" result is that value.
    if (r.kind === 'memory') return r.address;
    if (r.kind === 'register') return this.frame.registers.get(r.dwarf);
    if (r.kind === 'value') return readLe(r.bytes);
    return undefined;
  }
}

function readLe(bytes: Uint8Array): bigint {
  let x = 0n;
  for (let i = Math.min(8, bytes.length) - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[i]!);
  return x;
}

function findCallSite(scope: Scope, returnPc: Addr): CallSite | undefined {
  const stack = [scope];
  for (let n = 0; stack.length && n < 100000; n++) {
    const s = stack.pop()!;
    for (const c of s.callSites) if (c.returnPc === returnPc) return c;
    stack.push(...s.scopes);
  }
  return undefined;
}

function findTailCall(scope: Scope, calleeName: string | undefined): CallSite | undefined {
  const stack = [scope];
  for (let n = 0; stack.length && n < 100000; n++) {
    const s = stack.pop()!;
    for (const c of s.callSites) if (c.tailCall && c.callee?.name === calleeName) return c;
    stack.push(...s.scopes);
  }
  return undefined;
}

function findDeclared(scope: Scope, name: string): VariableSymbol | ParameterSymbol | undefined {
  const stack = [scope];
  for (let n = 0; stack.length && n < 100000; n++) {
    const s = stack.pop()!;
    for (const sym of s.symbols) if ((sym.kind === 'variable' || sym.kind === 'parameter') && sym.name === name) return sym;
    stack.push(...s.scopes);
  }
  return undefined;
}

function constBytes(cv: bigint | Uint8Array, type: DwarfType): Uint8Array {
  if (cv instanceof Uint8Array) return cv;
  const size = Math.max(1, Math.min(16, Number((type as { size?: number }).size ?? 8)));
  const out = new Uint8Array(size);
  let x = BigInt.asUintN(size * 8, cv);
  for (let i = 0; i < size; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
