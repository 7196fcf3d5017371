/**
 * The type model. Types are made from DIEs on first use and cached by DIE id;
 * what they point at (pointer targets, members, parameters) is read on first
 * access, so a cycle (a struct holding a pointer to itself) costs nothing and
 * a lookup touches only the DIEs it needs.
 */
import { DW_AT, DW_ATE, DW_TAG, isCxxLanguage } from '../constants.js';
import type { AttrValue } from '../die.js';
import type { DieId } from '../unit.js';
import { bigAttr, childrenOf, flagAttr, numAttr, type DieRef } from './dies.js';

/** What a type needs from the model that made it. */
export interface TypeHost {
  /** The type a DW_AT_type-like attribute of `from` names; void when absent. */
  typeOf(from: DieRef, v: AttrValue | undefined): DwarfType;
  /** The type made from the DIE itself (cached). */
  typeAt(r: DieRef): DwarfType;
  /** The complete definition of a struct/union/class/enum declaration, when one exists anywhere in the file. */
  definitionOf(t: StructType | EnumType): StructType | EnumType | undefined;
  /** The file name of a DW_AT_decl_file value of a DIE. */
  declFile(r: DieRef): string | undefined;
  /** The string value of a DIE's attribute. */
  str(r: DieRef, at: number): string | undefined;
  /** The `::`-qualified name of a DIE in a C++ unit (undefined elsewhere, or for unnamed DIEs). */
  cxxName(r: DieRef): string | undefined;
}

/** Sizes above this are treated as unknown: corrupt input must not make callers allocate terabytes. */
const MAX_SIZE = 2 ** 48;

function sizeAttr(r: DieRef): number | undefined {
  const v = numAttr(r.die.attr(DW_AT.byte_size));
  return v !== undefined && v <= MAX_SIZE ? v : undefined;
}

/** Fields every type has. */
abstract class TypeBase {
  abstract readonly kind: string;
  /** The DIE the type was made from (void has none). */
  readonly id: DieId | undefined;
  /** The name; in C++ units qualified with its namespaces and classes (`geo::Rect`). */
  readonly name: string | undefined;
  /** True for types of C++ units, which are named without `struct`/`class`/`enum`. */
  readonly cxx: boolean;
  readonly declLine: number | undefined;
  protected readonly ref: DieRef | undefined;
  protected readonly host: TypeHost | undefined;

  constructor(host: TypeHost | undefined, ref: DieRef | undefined) {
    this.host = host;
    this.ref = ref;
    this.id = ref?.die.id;
    this.cxx = ref ? isCxxLanguage(ref.ctx.root(ref.unit).language) : false;
    this.name = ref && host ? (this.cxx ? host.cxxName(ref) : undefined) ?? host.str(ref, DW_AT.name) : undefined;
    this.declLine = ref ? numAttr(ref.die.attr(DW_AT.decl_line)) : undefined;
  }

  /** The file the type is declared in. */
  get declFile(): string | undefined {
    return this.ref && this.host ? this.host.declFile(this.ref) : undefined;
  }
}

/** `void`, and the target of a pointer without DW_AT_type. */
export class VoidType extends TypeBase {
  readonly kind = 'void';
  readonly size = undefined;
  constructor() {
    super(undefined, undefined);
  }
  /** The one void type. */
  static readonly instance = new VoidType();
}

/** A base type (DW_TAG_base_type): int, char, double... */
export class BaseType extends TypeBase {
  readonly kind = 'base';
  readonly size: number | undefined;
  /** DW_ATE_* encoding. */
  readonly encoding: number;
  /** DW_AT_bit_size when the type is narrower than its bytes (_BitInt, bitfield base types). */
  readonly bitSize: number | undefined;
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    this.size = sizeAttr(ref);
    this.encoding = numAttr(ref.die.attr(DW_AT.encoding)) ?? 0;
    this.bitSize = numAttr(ref.die.attr(DW_AT.bit_size));
  }
  /** True for signed integer and character encodings. */
  get signed(): boolean {
    return this.encoding === DW_ATE.signed || this.encoding === DW_ATE.signed_char || this.encoding === DW_ATE.signed_fixed;
  }
}

/** DW_TAG_unspecified_type (asm's untyped symbols, C++ `decltype(nullptr)`) and tags this model does not describe further. */
export class UnspecifiedType extends TypeBase {
  readonly kind = 'unspecified';
  readonly size: number | undefined;
  readonly tag: number;
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    this.size = sizeAttr(ref);
    this.tag = ref.die.tag;
  }
}

/** A type that wraps another: pointers, references, qualifiers, typedefs. */
abstract class WrapperType extends TypeBase {
  private cachedTarget: DwarfType | undefined;
  /** The type pointed to, qualified or named. */
  get target(): DwarfType {
    this.cachedTarget ??= this.host!.typeOf(this.ref!, this.ref!.die.attr(DW_AT.type));
    return this.cachedTarget;
  }
}

/** `T *`. */
export class PointerType extends WrapperType {
  readonly kind = 'pointer';
  readonly size: number;
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    this.size = sizeAttr(ref) ?? ref.ctx.units[ref.unit]!.addressSize;
  }
}

/** C++ `T &` and `T &&`. */
export class ReferenceType extends WrapperType {
  readonly kind: 'reference' | 'rvalue-reference';
  readonly size: number;
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    this.kind = ref.die.tag === DW_TAG.rvalue_reference_type ? 'rvalue-reference' : 'reference';
    this.size = sizeAttr(ref) ?? ref.ctx.units[ref.unit]!.addressSize;
  }
}

/** `const`, `volatile`, `restrict` and `_Atomic` qualifiers. */
export class QualifiedType extends WrapperType {
  readonly kind: 'const' | 'volatile' | 'restrict' | 'atomic';
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    const t = ref.die.tag;
    this.kind = t === DW_TAG.const_type ? 'const' : t === DW_TAG.volatile_type ? 'volatile' : t === DW_TAG.restrict_type ? 'restrict' : 'atomic';
  }
  get size(): number | undefined {
    return sizeOf(this.target);
  }
}

/** `typedef T name`. */
export class TypedefType extends WrapperType {
  readonly kind = 'typedef';
  get size(): number | undefined {
    return sizeOf(this.target);
  }
}

/** A member of a struct, union or class, or a base class (inheritance). */
export interface Member {
  readonly name: string | undefined;
  readonly type: DwarfType;
  /** Byte offset from the start of the enclosing object (for bitfields, of the storage unit). */
  readonly offset: number | undefined;
  /** Bit offset of the first bit from the start of the enclosing object, whatever encoding DWARF used. */
  readonly bitOffset: number | undefined;
  /** Width of a bitfield in bits; undefined for ordinary members. */
  readonly bitSize: number | undefined;
  /** A base class (DW_TAG_inheritance) rather than a data member. */
  readonly inheritance: boolean;
  readonly artificial: boolean;
  /** A C++ static data member: it has no offset, it lives elsewhere. */
  readonly isStatic: boolean;
  readonly declLine: number | undefined;
  /** DW_AT_data_member_location given as an expression (virtual bases): the raw bytes. */
  readonly locationExpr: Uint8Array | undefined;
  /** The DIE of the member. */
  readonly id: DieId;
}

/** `struct`, `union` and `class` types. */
export class StructType extends TypeBase {
  readonly kind: 'struct' | 'union' | 'class';
  readonly size: number | undefined;
  /** A declaration only (`struct foo;`): use {@link StructType.complete} for the definition. */
  readonly declaration: boolean;
  private cachedMembers: Member[] | undefined;
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    const t = ref.die.tag;
    this.kind = t === DW_TAG.union_type ? 'union' : t === DW_TAG.class_type ? 'class' : 'struct';
    this.size = sizeAttr(ref);
    this.declaration = flagAttr(ref.die.attr(DW_AT.declaration));
  }

  /** The definition of a declared-only type, found by name anywhere in the file (itself when defined, or when none exists). */
  complete(): StructType {
    if (!this.declaration) return this;
    const d = this.host!.definitionOf(this);
    return d instanceof StructType ? d : this;
  }

  /**
   * Members and base classes in declaration order, with their bit offsets
   * computed (DW_AT_data_bit_offset, DW_AT_data_member_location, or the
   * DWARF 2/3 DW_AT_bit_offset counted from the storage unit's most
   * significant bit). A declaration answers with its definition's members.
   */
  get members(): readonly Member[] {
    if (this.cachedMembers) return this.cachedMembers;
    if (this.declaration) {
      const c = this.complete();
      if (c !== this) return (this.cachedMembers = c.members as Member[]);
    }
    const out: Member[] = [];
    const host = this.host!;
    for (const m of childrenOf(this.ref!)) {
      const tag = m.die.tag;
      const isMember = tag === DW_TAG.member;
      const isStatic = (isMember && flagAttr(m.die.attr(DW_AT.declaration))) || tag === DW_TAG.variable;
      if (!isMember && tag !== DW_TAG.inheritance && tag !== DW_TAG.variable) continue;
      const type = host.typeOf(m, m.die.attr(DW_AT.type));
      const locV = m.die.attr(DW_AT.data_member_location);
      let offset: number | undefined;
      let locationExpr: Uint8Array | undefined;
      if (locV?.kind === 'const') offset = numAttr(locV);
      else if (locV?.kind === 'exprloc' || locV?.kind === 'block') {
        offset = plusUconst(locV.bytes);
        if (offset === undefined) locationExpr = locV.bytes;
      }
      const bitSize = numAttr(m.die.attr(DW_AT.bit_size));
      let bitOffset: number | undefined;
      const dbo = numAttr(m.die.attr(DW_AT.data_bit_offset));
      if (dbo !== undefined) {
        bitOffset = dbo;
        if (offset === undefined) offset = Math.floor(dbo / 8);
      } else {
        const bo = numAttr(m.die.attr(DW_AT.bit_offset));
        const base = offset ?? (this.kind === 'union' && !isStatic ? 0 : undefined);
        if (bo !== undefined && bitSize !== undefined) {
          // DWARF 2/3: bit_offset counts from the most significant bit of a storage unit of byte_size bytes.
          const storage = (numAttr(m.die.attr(DW_AT.byte_size)) ?? sizeOf(type) ?? 0) * 8;
          bitOffset = m.ctx.littleEndian ? (base ?? 0) * 8 + storage - bo - bitSize : (base ?? 0) * 8 + bo;
        } else if (base !== undefined) bitOffset = base * 8;
        if (offset === undefined && base !== undefined) offset = base;
      }
      out.push({
        name: host.str(m, DW_AT.name), type, offset, bitOffset, bitSize, inheritance: tag === DW_TAG.inheritance,
        artificial: flagAttr(m.die.attr(DW_AT.artificial)), isStatic, declLine: numAttr(m.die.attr(DW_AT.decl_line)),
        locationExpr, id: m.die.id,
      });
    }
    this.cachedMembers = out;
    return out;
  }

  /** A member by name, looking into anonymous struct/union members as C does. Returns the member and its absolute bit offset. */
  member(name: string): { member: Member; bitOffset: number | undefined; path: Member[] } | undefined {
    return findMember(this, name, 0, 0);
  }
}

function findMember(t: StructType, name: string, base: number, depth: number): { member: Member; bitOffset: number | undefined; path: Member[] } | undefined {
  if (depth > 32) return undefined;
  for (const m of t.members) {
    if (m.name === name) return { member: m, bitOffset: m.bitOffset === undefined ? undefined : base + m.bitOffset, path: [m] };
  }
  for (const m of t.members) {
    if (m.name !== undefined && !m.inheritance) continue;
    const inner = strip(m.type);
    if (inner instanceof StructType) {
      const r = findMember(inner.complete(), name, base + (m.bitOffset ?? 0), depth + 1);
      if (r) return { ...r, path: [m, ...r.path] };
    }
  }
  return undefined;
}

/** The offset of a DW_OP_plus_uconst-only member location (DWARF 2 style), or undefined. */
function plusUconst(e: Uint8Array): number | undefined {
  if (e.length < 2 || e[0] !== 0x23) return undefined;
  let v = 0;
  let mul = 1;
  for (let i = 1; i < e.length; i++) {
    v += (e[i]! & 0x7f) * mul;
    mul *= 128;
    if (!(e[i]! & 0x80)) return i === e.length - 1 ? v : undefined;
  }
  return undefined;
}

/** One enumerator. */
export interface Enumerator {
  readonly name: string;
  readonly value: bigint;
}

/** `enum` types. */
export class EnumType extends TypeBase {
  readonly kind = 'enum';
  readonly size: number | undefined;
  readonly declaration: boolean;
  /** C++11 `enum class`. */
  readonly scoped: boolean;
  private cachedEnumerators: Enumerator[] | undefined;
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    this.size = sizeAttr(ref);
    this.declaration = flagAttr(ref.die.attr(DW_AT.declaration));
    this.scoped = flagAttr(ref.die.attr(DW_AT.enum_class));
  }
  /** The underlying integer type (DWARF 3+), when stated. */
  get underlying(): DwarfType | undefined {
    const v = this.ref!.die.attr(DW_AT.type);
    return v ? this.host!.typeOf(this.ref!, v) : undefined;
  }
  get enumerators(): readonly Enumerator[] {
    if (this.cachedEnumerators) return this.cachedEnumerators;
    if (this.declaration) {
      const d = this.host!.definitionOf(this);
      if (d instanceof EnumType && d !== this) return (this.cachedEnumerators = d.enumerators as Enumerator[]);
    }
    const u = this.underlying;
    const signed = u ? isSigned(u) : false;
    const out: Enumerator[] = [];
    for (const e of childrenOf(this.ref!)) {
      if (e.die.tag !== DW_TAG.enumerator) continue;
      const v = e.die.attr(DW_AT.const_value);
      out.push({ name: this.host!.str(e, DW_AT.name) ?? '', value: enumeratorValue(v, signed, this.size) });
    }
    this.cachedEnumerators = out;
    return out;
  }
}

/** One dimension of an array. */
export interface ArrayDimension {
  readonly lowerBound: bigint;
  /** Element count; undefined for an unknown bound (`int a[]`, a VLA). */
  readonly count: bigint | undefined;
}

/** Arrays, with every dimension of a multi-dimensional C array in one type. */
export class ArrayType extends TypeBase {
  readonly kind = 'array';
  /** GCC vector types (`__attribute__((vector_size))`). */
  readonly vector: boolean;
  private cachedDims: ArrayDimension[] | undefined;
  private cachedElement: DwarfType | undefined;
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    this.vector = flagAttr(ref.die.attr(DW_AT.GNU_vector));
  }
  get element(): DwarfType {
    this.cachedElement ??= this.host!.typeOf(this.ref!, this.ref!.die.attr(DW_AT.type));
    return this.cachedElement;
  }
  get dimensions(): readonly ArrayDimension[] {
    if (this.cachedDims) return this.cachedDims;
    const out: ArrayDimension[] = [];
    for (const c of childrenOf(this.ref!)) {
      if (c.die.tag === DW_TAG.subrange_type) {
        const lo = boundAttr(c.die.attr(DW_AT.lower_bound)) ?? 0n;
        const cnt = c.die.attr(DW_AT.count);
        const up = c.die.attr(DW_AT.upper_bound);
        let count: bigint | undefined;
        if (cnt?.kind === 'const') count = bigAttr(cnt, false);
        else if (up?.kind === 'const') {
          // An upper bound of -1 (all ones) is gcc's way of saying "zero elements" for `a[0]`.
          const u = boundAttr(up)!;
          count = u - lo + 1n >= 0n ? u - lo + 1n : 0n;
        }
        out.push({ lowerBound: lo, count });
      } else if (c.die.tag === DW_TAG.enumeration_type) {
        // An array indexed by an enumeration (Ada, Pascal): as many elements as enumerators.
        let n = 0n;
        for (const e of childrenOf(c)) if (e.die.tag === DW_TAG.enumerator) n++;
        out.push({ lowerBound: 0n, count: n });
      }
    }
    if (out.length === 0) out.push({ lowerBound: 0n, count: undefined });
    this.cachedDims = out;
    return out;
  }
  /** Total size in bytes, from DW_AT_byte_size or the element size and counts; undefined when a bound is unknown. */
  get size(): number | undefined {
    const b = sizeAttr(this.ref!);
    if (b !== undefined) return b;
    const es = sizeOf(this.element);
    if (es === undefined) return undefined;
    let n = BigInt(es);
    for (const d of this.dimensions) {
      if (d.count === undefined) return undefined;
      n *= d.count;
    }
    return n <= BigInt(MAX_SIZE) ? Number(n) : undefined;
  }
}

/** Function types (DW_TAG_subroutine_type, and a function's own type). */
export class FunctionType extends TypeBase {
  readonly kind = 'function';
  readonly size = undefined;
  readonly prototyped: boolean;
  private cached: { returnType: DwarfType; params: DwarfType[]; variadic: boolean } | undefined;
  constructor(host: TypeHost, ref: DieRef) {
    super(host, ref);
    this.prototyped = flagAttr(ref.die.attr(DW_AT.prototyped));
  }
  private load() {
    if (this.cached) return this.cached;
    const params: DwarfType[] = [];
    let variadic = false;
    for (const c of childrenOf(this.ref!)) {
      if (c.die.tag === DW_TAG.formal_parameter) params.push(this.host!.typeOf(c, c.die.attr(DW_AT.type)));
      else if (c.die.tag === DW_TAG.unspecified_parameters) variadic = true;
    }
    this.cached = { returnType: this.host!.typeOf(this.ref!, this.ref!.die.attr(DW_AT.type)), params, variadic };
    return this.cached;
  }
  get returnType(): DwarfType {
    return this.load().returnType;
  }
  get params(): readonly DwarfType[] {
    return this.load().params;
  }
  get variadic(): boolean {
    return this.load().variadic;
  }
}

/** C++ pointer to member (`int C::*`). */
export class PtrToMemberType extends WrapperType {
  readonly kind = 'ptr-to-member';
  get size(): number | undefined {
    return sizeAttr(this.ref!);
  }
  get containingType(): DwarfType {
    return this.host!.typeOf(this.ref!, this.ref!.die.attr(DW_AT.containing_type));
  }
}

/** Every type the model makes. Switch on `kind`. */
export type DwarfType =
  | VoidType | BaseType | UnspecifiedType | PointerType | ReferenceType | QualifiedType | TypedefType
  | StructType | EnumType | ArrayType | FunctionType | PtrToMemberType;

/** Makes the type for a DIE (the model caches the result). */
export function makeType(host: TypeHost, r: DieRef): DwarfType {
  switch (r.die.tag) {
    case DW_TAG.base_type: return new BaseType(host, r);
    case DW_TAG.pointer_type: return new PointerType(host, r);
    case DW_TAG.reference_type: case DW_TAG.rvalue_reference_type: return new ReferenceType(host, r);
    case DW_TAG.const_type: case DW_TAG.volatile_type: case DW_TAG.restrict_type: case DW_TAG.atomic_type: return new QualifiedType(host, r);
    case DW_TAG.typedef: case DW_TAG.template_alias: return new TypedefType(host, r);
    case DW_TAG.structure_type: case DW_TAG.union_type: case DW_TAG.class_type: case DW_TAG.interface_type: return new StructType(host, r);
    case DW_TAG.enumeration_type: return new EnumType(host, r);
    case DW_TAG.array_type: return new ArrayType(host, r);
    case DW_TAG.subroutine_type: case DW_TAG.subprogram: return new FunctionType(host, r);
    case DW_TAG.ptr_to_member_type: return new PtrToMemberType(host, r);
    default: return new UnspecifiedType(host, r);
  }
}

/** Follows typedefs and qualifiers (bounded, so a corrupt cycle ends). */
export function strip(t: DwarfType): DwarfType {
  let cur = t;
  for (let i = 0; i < 64; i++) {
    if (cur.kind === 'typedef' || cur.kind === 'const' || cur.kind === 'volatile' || cur.kind === 'restrict' || cur.kind === 'atomic') cur = cur.target;
    else return cur;
  }
  return cur;
}

/** Size in bytes of any type (through typedefs and qualifiers), or undefined. */
export function sizeOf(t: DwarfType): number | undefined {
  const s = strip(t);
  if (s.kind === 'typedef' || s.kind === 'const' || s.kind === 'volatile' || s.kind === 'restrict' || s.kind === 'atomic') return undefined;
  return s.size;
}

/** True for types whose values are signed integers. */
export function isSigned(t: DwarfType): boolean {
  const s = strip(t);
  if (s.kind === 'base') return s.signed;
  if (s.kind === 'enum') {
    const u = s.underlying;
    return u ? isSigned(u) : s.enumerators.some((e) => e.value < 0n);
  }
  return false;
}

/**
 * An enumerator's value. A DW_FORM_dataN narrower than the enum holds a
 * non-negative value (gcc writes negative ones as sdata or at full width), so
 * it is sign-extended only when it is as wide as the enum, as gdb reads it.
 */
export function enumeratorValue(v: AttrValue | undefined, signed: boolean, enumSize: number | undefined): bigint {
  const narrow = v?.kind === 'const' && !v.signed && enumSize !== undefined && v.size < enumSize;
  return bigAttr(v, signed && !narrow) ?? 0n;
}

/**
 * An array bound. gcc writes bounds in the narrowest DW_FORM_dataN (`short
 * a[256]` has upper bound 0xff in data1), so narrow forms are unsigned; a
 * full-width data8 of all ones (gcc's `a[0]`) and sdata are signed.
 */
function boundAttr(v: AttrValue | undefined): bigint | undefined {
  return bigAttr(v, v?.kind === 'const' && v.size === 8);
}
