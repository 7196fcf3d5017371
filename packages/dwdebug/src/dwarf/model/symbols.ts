/**
 * Symbols (functions, variables, parameters, labels, inlined instances, call
 * sites) and scopes (unit, function, lexical block, inlined subroutine).
 * Made from DIEs on demand; a function's scope tree is read the first time
 * someone asks for it.
 */
import { DW_AT, DW_INL, DW_TAG, isCxxLanguage } from '../constants.js';
import type { AddressRange } from '../lists.js';
import type { DieId } from '../unit.js';
import { bigAttr, childrenOf, flagAttr, inheritedAttr, locationOf, numAttr, originOf, rangesOf, refAttr, type Contexts, type DieRef, type Location } from './dies.js';
import { enumeratorValue, isSigned, type DwarfType, type EnumType, type FunctionType, type TypeHost } from './types.js';
import type { CompileUnit } from './unit.js';

/** What symbols need from the model that made them. */
export interface SymbolHost extends TypeHost {
  readonly contexts: Contexts;
  /** The symbol object for a DIE (cached), or undefined for DIEs that are not symbols. */
  symbolFor(r: DieRef): DwarfSymbol | undefined;
  /** The function type of a subprogram DIE (parameters and return type). */
  functionTypeOf(r: DieRef): FunctionType;
  /** The compilation unit object for a unit of a context. */
  unitOf(r: DieRef): CompileUnit;
  /** The symbol for a DIE id (cached), or undefined. */
  symbolById(id: DieId): DwarfSymbol | undefined;
  /** A line-table file name of a DIE's unit by file number (DW_AT_call_file). */
  fileName(r: DieRef, fileNumber: number): string | undefined;
  displayFileName(r: DieRef, fileNumber: number): string | undefined;
}

abstract class SymbolBase {
  abstract readonly kind: string;
  /** The DIE the symbol was made from. */
  readonly id: DieId;
  protected readonly host: SymbolHost;
  /** @internal */
  readonly ref: DieRef;
  private cachedName: string | null | undefined;

  constructor(host: SymbolHost, ref: DieRef) {
    this.host = host;
    this.ref = ref;
    this.id = ref.die.id;
  }

  /** The name, from the DIE or the DIE it refines (DW_AT_abstract_origin, DW_AT_specification). */
  get name(): string | undefined {
    if (this.cachedName === undefined) {
      const n = this.inherited(DW_AT.name);
      const ref = this.ref;
      // C++ names are qualified by their namespaces and classes, from the DIE that carries the name.
      const cxx = n && isCxxLanguage(n.ref.ctx.root(n.ref.unit).language) && ref.die.tag !== DW_TAG.formal_parameter && ref.die.tag !== DW_TAG.inlined_subroutine && ref.die.tag !== DW_TAG.variable ? this.host.cxxName(n.ref) : undefined;
      this.cachedName = n ? (cxx ?? n.ref.ctx.string(n.value, n.ref.unit) ?? null) : null;
    }
    return this.cachedName ?? undefined;
  }

  protected inherited(at: number) {
    return inheritedAttr(this.host.contexts, this.ref, at);
  }

  /** The compilation unit the symbol is in. */
  get unit(): CompileUnit {
    return this.host.unitOf(this.ref);
  }
  get declLine(): number | undefined {
    return numAttr(this.inherited(DW_AT.decl_line)?.value);
  }
  get declColumn(): number | undefined {
    return numAttr(this.inherited(DW_AT.decl_column)?.value);
  }
  get declFile(): string | undefined {
    const a = this.inherited(DW_AT.decl_file);
    return a ? this.host.declFile(a.ref) : undefined;
  }
  get external(): boolean {
    return flagAttr(this.inherited(DW_AT.external)?.value);
  }
  /** A declaration (`extern int x;`, a prototype): the definition may be elsewhere. */
  get declaration(): boolean {
    return flagAttr(this.ref.die.attr(DW_AT.declaration));
  }
  get artificial(): boolean {
    return flagAttr(this.inherited(DW_AT.artificial)?.value);
  }
  /** The C++ mangled name, when there is one. */
  get linkageName(): string | undefined {
    const a = this.inherited(DW_AT.linkage_name) ?? this.inherited(DW_AT.MIPS_linkage_name);
    return a ? a.ref.ctx.string(a.value, a.ref.unit) : undefined;
  }
}

/** Variables and parameters: a typed value somewhere. */
abstract class DataSymbol extends SymbolBase {
  private cachedType: DwarfType | undefined;
  get type(): DwarfType {
    if (!this.cachedType) {
      const a = this.inherited(DW_AT.type);
      this.cachedType = a ? this.host.typeOf(a.ref, a.value) : this.host.typeOf(this.ref, undefined);
    }
    return this.cachedType;
  }
  /** Where the value lives (raw expression or location list), or undefined (optimized out, or a constant). */
  get location(): Location | undefined {
    return locationOf(this.ref, DW_AT.location);
  }
  /**
   * DW_AT_const_value: the value itself, for variables the compiler turned
   * into constants. Integers as bigint (signed per the type), blocks and
   * strings as bytes.
   */
  get constValue(): bigint | Uint8Array | undefined {
    const a = this.inherited(DW_AT.const_value);
    if (!a) return undefined;
    const v = a.value;
    if (v.kind === 'const') return bigAttr(v, isSigned(this.type));
    if (v.kind === 'block' || v.kind === 'exprloc' || v.kind === 'data16') return v.bytes;
    if (v.kind === 'string') return new TextEncoder().encode(v.value);
    return undefined;
  }
}

/** A variable: global, static, or local. */
export class VariableSymbol extends DataSymbol {
  readonly kind = 'variable';
}

/** A formal parameter of a function or inlined instance. */
export class ParameterSymbol extends DataSymbol {
  readonly kind = 'parameter';
}

/** A label (`out:`). */
export class LabelSymbol extends SymbolBase {
  readonly kind = 'label';
  get address(): bigint | undefined {
    return this.ref.ctx.address(this.ref.die.attr(DW_AT.low_pc), this.ref.unit);
  }
}

/** An enumerator found by name (global constant of an enum type). */
export class EnumeratorSymbol extends SymbolBase {
  readonly kind = 'enumerator';
  constructor(host: SymbolHost, ref: DieRef, private readonly enumRef: DieRef) {
    super(host, ref);
  }
  get type(): EnumType {
    return this.host.typeAt(this.enumRef) as EnumType;
  }
  get value(): bigint {
    return enumeratorValue(this.ref.die.attr(DW_AT.const_value), isSigned(this.type), this.type.size);
  }
}

/** Shared by functions and inlined instances: code ranges and a scope. */
abstract class CodeSymbol extends SymbolBase {
  private cachedRanges: AddressRange[] | undefined;
  private cachedScope: Scope | undefined;
  /** The code the function (or this inlined copy) occupies, as link-time [start, end) ranges. */
  get ranges(): readonly AddressRange[] {
    this.cachedRanges ??= rangesOf(this.ref);
    return this.cachedRanges;
  }
  /**
   * Where execution enters: DW_AT_entry_pc, else DW_AT_low_pc, else the start
   * of the first range listed (compilers list a function's hot part first and
   * its cold part after, as gdb assumes). Undefined when there is no code.
   */
  get entryPc(): bigint | undefined {
    const e = this.ref.die.attr(DW_AT.entry_pc);
    if (e) {
      const lo = this.ref.ctx.address(this.ref.die.attr(DW_AT.low_pc), this.ref.unit);
      if (e.kind === 'const' && lo !== undefined) return lo + BigInt(e.value);
      const a = this.ref.ctx.address(e, this.ref.unit);
      if (a !== undefined) return a;
    }
    const lo = this.ref.ctx.address(this.ref.die.attr(DW_AT.low_pc), this.ref.unit);
    if (lo !== undefined && !this.ref.die.has(DW_AT.ranges)) return lo;
    return this.ranges[0]?.start;
  }
  /** Lowest address of the code, or undefined. */
  get lowPc(): bigint | undefined {
    let best: bigint | undefined;
    for (const r of this.ranges) if (best === undefined || r.start < best) best = r.start;
    return best;
  }
  /** True when `addr` is in the code. */
  contains(addr: bigint): boolean {
    return this.ranges.some((r) => addr >= r.start && addr < r.end);
  }
  /** The scope tree below this function or inlined instance (parameters, locals, blocks, inlined calls). */
  get scope(): Scope {
    this.cachedScope ??= buildScope(this.host, this.ref, this instanceof FunctionSymbol ? 'function' : 'inlined', this as unknown as FunctionSymbol | InlinedInstance, undefined);
    return this.cachedScope;
  }
}

/** A function (DW_TAG_subprogram): a definition with code, an abstract inline instance, or a declaration. */
export class FunctionSymbol extends CodeSymbol {
  readonly kind = 'function';
  /** The function type: return type, parameter types, variadic. */
  get type(): FunctionType {
    return this.host.functionTypeOf(originOf(this.host.contexts, this.ref));
  }
  get returnType(): DwarfType {
    return this.type.returnType;
  }
  /** The parameters, in order, as symbols (with names and locations where this DIE gives them). */
  get params(): readonly ParameterSymbol[] {
    return this.scope.symbols.filter((s): s is ParameterSymbol => s.kind === 'parameter');
  }
  get variadic(): boolean {
    return this.type.variadic;
  }
  get prototyped(): boolean {
    return flagAttr(this.inherited(DW_AT.prototyped)?.value);
  }
  /** DW_AT_frame_base: what DW_OP_fbreg is relative to. */
  get frameBase(): Location | undefined {
    return locationOf(this.ref, DW_AT.frame_base);
  }
  /** DW_AT_inline of the abstract instance (DW_INL_*), when the function is inlined somewhere. */
  get inline(): number | undefined {
    return numAttr(this.inherited(DW_AT.inline)?.value);
  }
  /** True for an abstract instance root: the function exists only inlined (no code of its own in this DIE). */
  get isAbstract(): boolean {
    const i = this.ref.die.attr(DW_AT.inline);
    return i !== undefined && (numAttr(i) === DW_INL.inlined || numAttr(i) === DW_INL.declared_inlined) && this.ranges.length === 0;
  }
  get noreturn(): boolean {
    return flagAttr(this.inherited(DW_AT.noreturn)?.value);
  }
}

/** One inlined copy of a function (DW_TAG_inlined_subroutine). */
export class InlinedInstance extends CodeSymbol {
  readonly kind = 'inlined';
  /** The inlined function's abstract instance (name, type, declared parameters). */
  get origin(): FunctionSymbol | undefined {
    const o = originOf(this.host.contexts, this.ref);
    const s = o === this.ref ? undefined : this.host.symbolFor(o);
    return s instanceof FunctionSymbol ? s : undefined;
  }
  /** The source position of the call that was inlined. */
  get callFile(): string | undefined {
    const v = numAttr(this.ref.die.attr(DW_AT.call_file));
    return v === undefined ? undefined : this.host.fileName(this.ref, v);
  }
  /** The call's file as gdb shows it. */
  get callDisplayFile(): string | undefined {
    const v = numAttr(this.ref.die.attr(DW_AT.call_file));
    return v === undefined ? undefined : this.host.displayFileName(this.ref, v);
  }
  get callLine(): number | undefined {
    return numAttr(this.ref.die.attr(DW_AT.call_line));
  }
  get callColumn(): number | undefined {
    return numAttr(this.ref.die.attr(DW_AT.call_column));
  }
  get params(): readonly ParameterSymbol[] {
    return this.scope.symbols.filter((s): s is ParameterSymbol => s.kind === 'parameter');
  }
}

/** A call site (DW_TAG_call_site, DW_TAG_GNU_call_site) and what its parameters held. */
export class CallSite extends SymbolBase {
  readonly kind = 'call-site';
  /** The return address of the call (DWARF 5 DW_AT_call_return_pc; GNU DW_AT_low_pc). */
  get returnPc(): bigint | undefined {
    return this.ref.ctx.address(this.ref.die.attr(DW_AT.call_return_pc) ?? this.ref.die.attr(DW_AT.low_pc), this.ref.unit);
  }
  /** The address of the call instruction (DW_AT_call_pc), when given. */
  get callPc(): bigint | undefined {
    return this.ref.ctx.address(this.ref.die.attr(DW_AT.call_pc), this.ref.unit);
  }
  get tailCall(): boolean {
    return flagAttr(this.ref.die.attr(DW_AT.call_tail_call)) || flagAttr(this.ref.die.attr(DW_AT.GNU_tail_call));
  }
  /** The called function, when known statically. */
  get callee(): FunctionSymbol | undefined {
    const id = refAttr(this.ref, this.ref.die.attr(DW_AT.call_origin) ?? this.ref.die.attr(DW_AT.abstract_origin));
    if (id === undefined) return undefined;
    const s = this.host.symbolById(id);
    return s instanceof FunctionSymbol ? s : undefined;
  }
  /** DW_AT_call_target: an expression computing the callee of an indirect call. */
  get target(): Location | undefined {
    return locationOf(this.ref, DW_AT.call_target) ?? locationOf(this.ref, DW_AT.GNU_call_site_target);
  }
  /** The parameters: where each was passed and an expression for its value at the call. */
  get params(): { readonly location: Location | undefined; readonly value: Location | undefined; readonly parameter?: DieId }[] {
    const out: { location: Location | undefined; value: Location | undefined; parameter?: DieId }[] = [];
    for (const c of childrenOf(this.ref)) {
      if (c.die.tag !== DW_TAG.call_site_parameter && c.die.tag !== DW_TAG.GNU_call_site_parameter) continue;
      const p = refAttr(c, c.die.attr(DW_AT.call_parameter) ?? c.die.attr(DW_AT.abstract_origin));
      out.push({
        location: locationOf(c, DW_AT.location),
        value: locationOf(c, DW_AT.call_value) ?? locationOf(c, DW_AT.GNU_call_site_value),
        ...(p !== undefined ? { parameter: p } : {}),
      });
    }
    return out;
  }
}

/** Every symbol the model makes. Switch on `kind`. */
export type DwarfSymbol = FunctionSymbol | VariableSymbol | ParameterSymbol | LabelSymbol | InlinedInstance | CallSite | EnumeratorSymbol;

/** Makes the symbol for a DIE, or undefined when the DIE is not a symbol. */
export function makeSymbol(host: SymbolHost, r: DieRef): DwarfSymbol | undefined {
  switch (r.die.tag) {
    case DW_TAG.subprogram: case DW_TAG.entry_point: return new FunctionSymbol(host, r);
    case DW_TAG.variable: case DW_TAG.constant: return new VariableSymbol(host, r);
    case DW_TAG.formal_parameter: return new ParameterSymbol(host, r);
    case DW_TAG.label: return new LabelSymbol(host, r);
    case DW_TAG.inlined_subroutine: return new InlinedInstance(host, r);
    case DW_TAG.call_site: case DW_TAG.GNU_call_site: return new CallSite(host, r);
    default: return undefined;
  }
}

/** Makes the symbol of an enumerator DIE (its parent enum DIE is known to the caller). */
export function makeEnumerator(host: SymbolHost, r: DieRef, enumRef: DieRef): EnumeratorSymbol {
  return new EnumeratorSymbol(host, r, enumRef);
}

/**
 * A scope: the unit, a function, a lexical block, an inlined call, or a C++
 * namespace. Symbols declared in it, types declared in it, and nested scopes.
 * Each is read from the scope's DIE on first access, one level at a time, so
 * finding the scopes at an address in a large function reads only the path
 * to it.
 */
export class Scope {
  private cachedRanges: AddressRange[] | undefined;
  private nested: { scopes: Scope[]; callSites: CallSite[] } | undefined;
  private declared: { symbols: DwarfSymbol[]; types: DwarfType[] } | undefined;

  constructor(
    readonly kind: 'unit' | 'function' | 'block' | 'inlined' | 'namespace',
    /** @internal */
    readonly ref: DieRef,
    public parent: Scope | undefined,
    /** The function or inlined instance a function/inlined scope belongs to. */
    readonly owner: FunctionSymbol | InlinedInstance | undefined,
    private readonly host: SymbolHost,
  ) {}

  /** The DIE of the scope. */
  get id(): DieId {
    return this.ref.die.id;
  }

  /** The function's or inlined function's name, the unit's source file, or the namespace's name. */
  get name(): string | undefined {
    if (this.kind === 'function' || this.kind === 'inlined') return this.owner?.name;
    if (this.kind === 'unit') return this.host.unitOf(this.ref).name;
    if (this.kind === 'namespace') return this.host.str(this.ref, DW_AT.name);
    return undefined;
  }

  /** The code the scope covers (none for a block without address attributes: see {@link Scope.chainAt}). */
  get ranges(): readonly AddressRange[] {
    if (!this.cachedRanges) {
      this.cachedRanges = this.kind === 'unit' ? this.ref.ctx.unitRanges(this.ref.unit) : this.kind === 'namespace' ? [] : rangesOf(this.ref);
    }
    return this.cachedRanges;
  }

  /** True when the scope's own ranges include `addr` (a scope with no ranges contains nothing). */
  contains(addr: bigint): boolean {
    return this.ranges.some((r) => addr >= r.start && addr < r.end);
  }

  /** Nested scopes: lexical blocks, inlined calls, namespaces. */
  get scopes(): readonly Scope[] {
    return this.loadNested().scopes;
  }

  /** Call sites directly in this scope. */
  get callSites(): readonly CallSite[] {
    return this.loadNested().callSites;
  }

  /**
   * Variables, parameters, labels and nested functions declared directly in
   * this scope. A concrete instance (an out-of-line copy or an inlined call)
   * also lists the variables and parameters of its abstract instance that it
   * has no DIE for: they exist in the source but were optimized out.
   */
  get symbols(): readonly DwarfSymbol[] {
    return this.loadDeclared().symbols;
  }

  /** Types declared directly in this scope. */
  get types(): readonly DwarfType[] {
    return this.loadDeclared().types;
  }

  private loadNested(): { scopes: Scope[]; callSites: CallSite[] } {
    if (this.nested) return this.nested;
    const scopes: Scope[] = [];
    const callSites: CallSite[] = [];
    let count = 0;
    for (const c of childrenOf(this.ref)) {
      if (++count > SCOPE_LIMIT) break;
      switch (c.die.tag) {
        case DW_TAG.lexical_block: case DW_TAG.try_block: case DW_TAG.catch_block:
          scopes.push(new Scope('block', c, this, undefined, this.host));
          break;
        case DW_TAG.inlined_subroutine: {
          const s = (this.host.symbolFor(c) as InlinedInstance).scope;
          s.parent = this;
          scopes.push(s);
          break;
        }
        case DW_TAG.namespace:
          if (this.kind === 'unit' || this.kind === 'namespace') scopes.push(new Scope('namespace', c, this, undefined, this.host));
          break;
        case DW_TAG.call_site: case DW_TAG.GNU_call_site:
          callSites.push(this.host.symbolFor(c) as CallSite);
          break;
      }
    }
    this.nested = { scopes, callSites };
    return this.nested;
  }

  private loadDeclared(): { symbols: DwarfSymbol[]; types: DwarfType[] } {
    if (this.declared) return this.declared;
    const symbols: DwarfSymbol[] = [];
    const types: DwarfType[] = [];
    let count = 0;
    for (const c of childrenOf(this.ref)) {
      if (++count > SCOPE_LIMIT) break;
      const tag = c.die.tag;
      if (tag === DW_TAG.subprogram || tag === DW_TAG.formal_parameter || tag === DW_TAG.variable || tag === DW_TAG.constant || tag === DW_TAG.label) {
        const s = this.host.symbolFor(c);
        if (s) symbols.push(s);
      } else if (TYPE_DIE.has(tag)) types.push(this.host.typeAt(c));
    }
    this.declared = { symbols, types };
    const concrete = this.kind === 'inlined' || (this.kind === 'function' && this.ref.die.has(DW_AT.abstract_origin));
    if (concrete) inheritAbstract(this.host, this.ref, symbols);
    return this.declared;
  }

  /**
   * The innermost scopes containing `addr`, from this scope down, innermost
   * first. Blocks without ranges are transparent: their children are
   * searched as if they were this scope's.
   */
  chainAt(addr: bigint): Scope[] {
    const out: Scope[] = [this];
    for (let depth = 0; depth < 1000; depth++) {
      const next = findChild(out[out.length - 1]!, addr, 0);
      if (!next) break;
      out.push(next);
    }
    return out.reverse();
  }
}

const TYPE_DIE = new Set<number>([
  DW_TAG.base_type, DW_TAG.typedef, DW_TAG.structure_type, DW_TAG.union_type, DW_TAG.class_type, DW_TAG.enumeration_type,
  DW_TAG.pointer_type, DW_TAG.const_type, DW_TAG.volatile_type, DW_TAG.array_type, DW_TAG.subroutine_type, DW_TAG.restrict_type,
  DW_TAG.atomic_type, DW_TAG.reference_type, DW_TAG.rvalue_reference_type, DW_TAG.unspecified_type, DW_TAG.ptr_to_member_type,
]);

function findChild(s: Scope, addr: bigint, depth: number): Scope | undefined {
  if (depth > 64) return undefined;
  for (const c of s.scopes) {
    if (c.ranges.length === 0 && c.kind === 'block') {
      const inner = findChild(c, addr, depth + 1);
      if (inner) return inner;
    } else if (c.contains(addr)) return c;
  }
  return undefined;
}

const SCOPE_LIMIT = 1_000_000;

/** The scope of a unit, function or inlined call (its contents load on first use). */
export function buildScope(host: SymbolHost, ref: DieRef, kind: Scope['kind'], owner: FunctionSymbol | InlinedInstance | undefined, parent: Scope | undefined): Scope {
  return new Scope(kind, ref, parent, owner, host);
}

/**
 * Adds to a concrete function's symbols the abstract instance's parameters
 * and variables that no DIE of the concrete instance (at any depth) refers
 * to, and puts parameters in the abstract instance's order.
 */
function inheritAbstract(host: SymbolHost, ref: DieRef, symbols: DwarfSymbol[]): void {
  const origin = originOf(host.contexts, ref);
  if (origin === ref) return;
  const referenced = new Set<DieId>();
  const dr = ref.ctx.dies(ref.unit);
  const work = [ref.die];
  let count = 0;
  while (work.length && count < SCOPE_LIMIT) {
    for (const c of dr.children(work.pop()!)) {
      count++;
      const o = refAttr({ ctx: ref.ctx, unit: ref.unit, die: c }, c.attr(DW_AT.abstract_origin));
      if (o !== undefined) referenced.add(o);
      if (c.hasChildren && (c.tag === DW_TAG.lexical_block || c.tag === DW_TAG.inlined_subroutine)) work.push(c);
    }
  }
  const order: DieId[] = [];
  for (const c of childrenOf(origin)) {
    const tag = c.die.tag;
    if (tag === DW_TAG.formal_parameter) order.push(c.die.id);
    if ((tag === DW_TAG.formal_parameter || tag === DW_TAG.variable) && !referenced.has(c.die.id)) {
      const s = host.symbolFor(c);
      if (s) symbols.push(s);
    }
  }
  // Parameters in the abstract instance's order: a concrete copy may lack some, or list them differently.
  const rank = (s: DwarfSymbol) => (s.kind === 'parameter' ? order.indexOf(originOf(host.contexts, s.ref).die.id) : -1);
  const params = symbols.filter((s) => s.kind === 'parameter').sort((a, b) => rank(a) - rank(b));
  let k = 0;
  for (let i = 0; i < symbols.length; i++) if (symbols[i]!.kind === 'parameter') symbols[i] = params[k++]!;
}
