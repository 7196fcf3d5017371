import {
  dieId,
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
  type VariableSymbol,
  type DieId,
} from '@stackdb/dwdebug';
import { directCallTarget } from '../symbols/call-target.js';
import type { ProgramSymbols, ModuleSymbol } from '../symbols/program.js';
import type { Addr, LoadedModule } from '../target/types.js';
import type { Frame } from '../unwind/frame.js';
import { loadValue, missingValue, type Value } from './value.js';

/*
 * Frames as a user sees them. One physical frame (from the walker) becomes one
 * logical frame per inlined call active at its pc, innermost first, then the
 * out-of-line function, as gdb shows them. Values of parameters and locals are
 * evaluated against the physical frame's recovered registers, with the
 * function's frame base and the frame's CFA; DW_OP_entry_value and
 * DW_OP_GNU_parameter_ref are answered from the caller's call-site parameters
 * (DW_TAG_call_site_parameter), which is also how a parameter's value at entry
 * (`a@entry`) is found.
 *
 * A call site speaks for this frame only when the call entered this frame's
 * function. Which function it entered is read from the call site (a callee
 * defined in the caller's unit), else from the call instruction and the PLT
 * slot it went through, else from DW_AT_call_target. When the entered function
 * is another one, that function ended in a tail call to ours: it appears as a
 * frame of its own (gdb's tail-call frames, one level), our entry values come
 * from its tail call site, and its own from the caller's site. Entry values
 * that need entry values of callers are memoized per frame and followed at
 * most MAX_ENTRY_DEPTH frames out; a value that depends on an entry value
 * nobody can give is "optimized out", as gdb says.
 */

/** How many callers out an entry value is followed (recursion passes its arguments through every level). */
const MAX_ENTRY_DEPTH = 64;

/** A parameter as a call site names it: the register it is passed in, or its DIE (DW_OP_GNU_parameter_ref). */
type ArgKey = { readonly reg: number } | { readonly param: DieId };

function keyText(k: ArgKey): string {
  return 'reg' in k ? `r${k.reg}` : `p${k.param}`;
}

/** A function with the module it is in. */
interface CodeIn {
  readonly fn: FunctionSymbol;
  readonly module: LoadedModule | undefined;
  readonly debugFile: DebugFile | undefined;
}

/** How this frame was entered: the caller's call site, and the function between them when that one tail-called ours. */
interface Incoming {
  readonly site: CallSite;
  readonly tail?: CodeIn & { readonly site: CallSite };
}

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
  /**
   * This frame left by a tail call into the frame before it (gdb's tail-call
   * frame): it has no stack frame of its own; `physical` is its callee's.
   */
  readonly tailCall?: boolean;
  /** The DWARF function (or inlined call) of this frame, when known. */
  readonly code?: FunctionSymbol | InlinedInstance;
  /** Function name: from DWARF, else the ELF symbol, else undefined. */
  readonly name?: string;
  /** The ELF symbol covering the pc, when DWARF does not describe the function. */
  readonly symbol?: ModuleSymbol;
  readonly module?: LoadedModule;
  /**
   * Source position: the pc's line for the innermost frame, the inlined
   * call's position for outer ones. `file` is named as gdb shows it (the
   * unit's DW_AT_name for its primary file), `fullPath` in full.
   */
  readonly file?: string;
  readonly fullPath?: string;
  readonly line?: number;
}

const DW_OP_reg0 = 0x50;
const DW_OP_regx = 0x90;
const DW_OP_regval_type = 0xa5;
const DW_OP_GNU_regval_type = 0xf5;

function uleb(expr: Uint8Array, at: number): { value: number; next: number } | undefined {
  let v = 0;
  let shift = 0;
  for (let i = at; i < expr.length && shift < 35; i++) {
    v += (expr[i]! & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(expr[i]! & 0x80)) return { value: v, next: i + 1 };
  }
  return undefined;
}

/**
 * The register a location expression names when it is exactly `DW_OP_regN`,
 * `DW_OP_regx N` or `DW_OP_regval_type N T` (how gcc names a parameter's
 * register inside DW_OP_entry_value).
 */
function singleRegister(expr: Uint8Array): number | undefined {
  if (expr.length === 1 && expr[0]! >= DW_OP_reg0 && expr[0]! < DW_OP_reg0 + 32) return expr[0]! - DW_OP_reg0;
  if (expr[0] === DW_OP_regx) {
    const r = uleb(expr, 1);
    return r && r.next === expr.length ? r.value : undefined;
  }
  if (expr[0] === DW_OP_regval_type || expr[0] === DW_OP_GNU_regval_type) {
    const r = uleb(expr, 1);
    const t = r && uleb(expr, r.next);
    return t && t.next === expr.length ? r.value : undefined;
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

function unitOf(s: DwarfSymbol): CompileUnit {
  return s.unit as CompileUnit;
}

function sameFunction(a: CodeIn, b: CodeIn): boolean {
  if (a.module?.path !== b.module?.path) return false;
  if (a.fn.id === b.fn.id && a.debugFile === b.debugFile) return true;
  const ea = a.fn.entryPc ?? a.fn.lowPc;
  return ea !== undefined && ea === (b.fn.entryPc ?? b.fn.lowPc);
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

  /**
   * The pc is exact (frame 0, or interrupted by a signal) and at the first
   * instruction of a source line: gdb then shows the frame without its address.
   */
  get pcAtLineStart(): boolean {
    return this.frame.init.exactPc && this.debugFile?.lineAt(this.linkPc)?.address === this.linkPc;
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
      const file = inner ? inner.callDisplayFile : line?.displayFile;
      const fullPath = inner ? inner.callFile : line?.file;
      const ln = inner ? inner.callLine : line?.line;
      return {
        ...base,
        inlineDepth: depth,
        inlined: code.kind === 'inlined',
        code,
        ...(name ?? this.symbol?.name ? { name: name ?? this.symbol!.name } : {}),
        ...(file !== undefined ? { file } : {}),
        ...(fullPath !== undefined ? { fullPath } : {}),
        ...(ln !== undefined ? { line: ln } : {}),
      };
    });
  }

  /**
   * gdb's tail-call frame below this one: when the caller called a function
   * that ended in a tail call to this frame's function, that function, at
   * its tail call, with its arguments' entry values from the caller's site.
   */
  async tailCallFrames(): Promise<{ frame: LogicalFrame; args: NamedValue[]; pc: Addr }[]> {
    const inc = await this.incoming();
    const tail = inc?.tail;
    if (!inc || !tail || !this.caller) return [];
    const bias = tail.module?.bias ?? 0n;
    const returnPc = tail.site.returnPc;
    const pc = (returnPc ?? tail.fn.lowPc ?? 0n) + bias;
    const line = returnPc !== undefined ? tail.debugFile?.lineAt(returnPc - 1n) : undefined;
    const args: NamedValue[] = [];
    for (const p of tail.fn.params) {
      const key = paramKeyAtEntry(p, tail.fn);
      const v = key === undefined ? undefined : await this.caller.callSiteArgument(inc.site, key, 0);
      const value: Value = v === undefined ? missingValue(p.type, 'optimized-out') : { type: p.type, status: 'ok', bytes: constBytes(v, p.type), location: { kind: 'computed' } };
      args.push({ name: p.name ?? '?', symbol: p, value, ...(v === undefined ? {} : { entry: value }) });
    }
    const frame: LogicalFrame = {
      physical: this.frame,
      inlineDepth: 0,
      inlined: false,
      tailCall: true,
      code: tail.fn,
      ...(tail.fn.name ? { name: tail.fn.name } : {}),
      ...(tail.module ? { module: tail.module } : {}),
      ...(line ? { file: line.displayFile, fullPath: line.file, line: line.line } : {}),
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
      // Entry values belong to the out-of-line function: an inlined call has no call site of its own.
      const entry = logical.inlineDepth === this.at?.inlined.length ? await this.entryValueOf(p) : undefined;
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
    return this.evaluateValue(expr, type, unitOf(sym));
  }

  private async evaluateValue(expr: Uint8Array, type: DwarfType, cu: CompileUnit): Promise<Value> {
    const track = { entryMissing: false };
    let result: LocationResult;
    try {
      result = await evaluate(expr, cu.env(this.bias), this.env(cu, 0, track));
    } catch (err) {
      return missingValue(type, 'unavailable', (err as Error).message);
    }
    const v = await loadValue(this.frame.thread.target, type, result, this.frame.registers);
    // Depending on an entry value nobody can give means the compiler dropped it: gdb's "optimized out".
    return v.status === 'unavailable' && track.entryMissing ? missingValue(type, 'optimized-out', v.reason) : v;
  }

  /**
   * The environment location expressions of a unit evaluate in, in this frame.
   * `depth` counts the callers already asked for entry values.
   */
  env(cu: CompileUnit, depth = 0, track?: { entryMissing: boolean }): LocationEnv {
    const target = this.frame.thread.target;
    const regs = this.frame.registers;
    const unit = cu.env(this.bias);
    const missing = <T>(v: T | undefined): T | undefined => {
      if (v === undefined && track) track.entryMissing = true;
      return v;
    };
    return {
      register: async (n) => (regs.arch.findRegister(n) ? regs.get(n) : undefined),
      memory: (address, size) => target.read(address, size),
      cfa: () => this.cfa(),
      frameBase: () => this.frameBase(cu),
      entryValue: async (expr) => {
        const reg = singleRegister(expr);
        return missing(reg === undefined ? undefined : await this.callSiteValue({ reg }, depth + 1));
      },
      parameterValue: async (off) => missing(await this.callSiteValue({ param: dieId(cu.header.section, (unit.unitOffset ?? 0) + off) }, depth + 1)),
    };
  }

  private async frameBase(cu: CompileUnit): Promise<Addr | undefined> {
    const fb = this.at?.function.frameBase;
    if (!fb) return undefined;
    const expr = locationAt(fb, this.linkPc);
    if (!expr) return undefined;
    const r = await evaluate(expr, cu.env(this.bias), { ...this.env(cu), frameBase: async () => undefined });
    if (r.kind === 'memory') return r.address;
    if (r.kind === 'register') return this.frame.registers.get(r.dwarf);
    return undefined;
  }

  /** A parameter's value at entry: where its location puts it at the function's entry, from the caller's call site. */
  private async entryValueOf(p: ParameterSymbol): Promise<Value | undefined> {
    const fn = this.at?.function;
    const key = fn ? paramKeyAtEntry(p, fn) : undefined;
    if (!key || !('reg' in key)) return undefined;
    const v = await this.callSiteValue(key, 1);
    return v === undefined ? undefined : { type: p.type, status: 'ok', bytes: constBytes(v, p.type), location: { kind: 'computed' } };
  }

  /** How this frame was entered (memoized): see {@link Incoming}. */
  private incoming(): Promise<Incoming | undefined> {
    this.incomingP ??= this.findIncoming().catch(() => undefined);
    return this.incomingP;
  }
  private incomingP?: Promise<Incoming | undefined>;

  private async findIncoming(): Promise<Incoming | undefined> {
    const caller = this.caller;
    const fn = this.at?.function;
    if (!caller || !fn) return undefined;
    const site = caller.callSiteAtReturn();
    if (!site) return undefined;
    const entered = await caller.calledFunction(site);
    if (!entered) return undefined;
    const mine: CodeIn = { fn, module: this.module, debugFile: this.debugFile };
    if (sameFunction(entered, mine)) return { site };
    const tailSite = findTailCall(entered.fn.scope, fn.name);
    return tailSite ? { site, tail: { ...entered, site: tailSite } } : undefined;
  }

  /** The function a call site of this (the caller's) frame entered, when it can be known. */
  private async calledFunction(site: CallSite): Promise<CodeIn | undefined> {
    const callee = site.callee;
    if (callee && callee.ranges.length > 0) return { fn: callee, module: this.module, debugFile: this.debugFile };
    let address = await directCallTarget(this.frame.thread.target, this.frame.pc);
    const targetExpr = site.target && site.target.kind === 'expr' ? site.target.expr : undefined;
    if (address === undefined && targetExpr) {
      const cu = unitOf(site);
      const r = await evaluate(targetExpr, cu.env(this.bias), this.env(cu)).catch(() => undefined);
      address = r?.kind === 'memory' ? r.address : r?.kind === 'value' ? readLe(r.bytes) : r?.kind === 'register' ? this.frame.registers.get(r.dwarf) : undefined;
    }
    if (address === undefined) return undefined;
    const module = await this.program.moduleAt(address);
    const debugFile = module ? await this.program.codeDebugFile(module) : undefined;
    const at = module ? debugFile?.functionAt(address - module.bias) : undefined;
    return at ? { fn: at.function, module, debugFile } : undefined;
  }

  private readonly argMemo = new Map<string, Promise<bigint | undefined>>();

  /**
   * What the call that entered this frame passed for a parameter (by register
   * or DIE), from the caller's call site, or through the tail call site of the
   * function between them.
   */
  private callSiteValue(key: ArgKey, depth: number): Promise<bigint | undefined> {
    if (depth > MAX_ENTRY_DEPTH) return Promise.resolve(undefined);
    const k = keyText(key);
    let p = this.argMemo.get(k);
    if (!p) {
      p = this.findCallSiteValue(key, depth).catch(() => undefined);
      this.argMemo.set(k, p);
    }
    return p;
  }

  private async findCallSiteValue(key: ArgKey, depth: number): Promise<bigint | undefined> {
    const inc = await this.incoming();
    const caller = this.caller;
    if (!inc || !caller) return undefined;
    if (!inc.tail) return caller.callSiteArgument(inc.site, key, depth);
    // Through the tail call: its site's values, whose own entry values the caller's site gives.
    const tail = inc.tail;
    const param = findSiteParam(tail.site, key);
    if (!param || param.value?.kind !== 'expr') return undefined;
    const cu = unitOf(tail.site);
    const unit = cu.env(tail.module?.bias ?? 0n);
    const target = this.frame.thread.target;
    const r = await evaluate(param.value.expr, unit, {
      // The tail-calling function's registers at its jump are gone; only its entry values remain.
      register: async () => undefined,
      memory: (address, size) => target.read(address, size),
      entryValue: async (expr) => {
        const reg = singleRegister(expr);
        return reg === undefined ? undefined : caller.callSiteArgument(inc.site, { reg }, depth + 1);
      },
      parameterValue: async (off) => caller.callSiteArgument(inc.site, { param: dieId(cu.header.section, (unit.unitOffset ?? 0) + off) }, depth + 1),
    });
    return resultValue(r, this.frame.registers);
  }

  /** The call site whose return address is this frame's pc (the call that made the next frame). */
  callSiteAtReturn(): CallSite | undefined {
    if (!this.at || this.frame.init.exactPc) return undefined;
    return findCallSite(this.at.function.scope, this.frame.pc - this.bias);
  }

  /** Evaluates, in this (the caller's) frame, what a call site passed for a parameter. */
  async callSiteArgument(site: CallSite, key: ArgKey | number, depth = 0): Promise<bigint | undefined> {
    const param = findSiteParam(site, typeof key === 'number' ? { reg: key } : key);
    if (!param || param.value?.kind !== 'expr') return undefined;
    const cu = unitOf(site);
    let r: LocationResult;
    try {
      r = await evaluate(param.value.expr, cu.env(this.bias), this.env(cu, depth));
    } catch {
      return undefined;
    }
    return resultValue(r, this.frame.registers);
  }
}

/** Where a parameter is at its function's entry, as a call site would name it. */
function paramKeyAtEntry(p: ParameterSymbol, fn: FunctionSymbol): ArgKey | undefined {
  const loc = p.location;
  const entryPc = fn.entryPc;
  if (!loc || entryPc === undefined) return undefined;
  const expr = locationAt(loc, entryPc);
  const reg = expr ? singleRegister(expr) : undefined;
  return reg === undefined ? undefined : { reg };
}

function findSiteParam(site: CallSite, key: ArgKey): CallSite['params'][number] | undefined {
  return site.params.find((q) => ('reg' in key ? q.location?.kind === 'expr' && singleRegister(q.location.expr) === key.reg : q.parameter === key.param));
}

/** A DWARF expression's value: the top of its stack (a "memory" result is that value). */
function resultValue(r: LocationResult, regs: { get(n: number): bigint | undefined }): bigint | undefined {
  if (r.kind === 'memory') return r.address;
  if (r.kind === 'register') return regs.get(r.dwarf);
  if (r.kind === 'value') return readLe(r.bytes);
  return undefined;
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
