/**
 * The DWARF engine: DWARF 2-5 reading, a lazy name index built in worker
 * threads, and a model of units, scopes, symbols and types.
 */
export { DebugFile, typeOfSymbol } from './debug-file.js';
export type { DebugFileOptions, SourceLine, LineAddress, FunctionAt, ChainStep, SymbolChain, ScopedVariable } from './debug-file.js';
export { parseLoadOptions } from './load-options.js';
export type { LoadFlags } from './load-options.js';
export { elfDwarfSections, binfileDwarfSections } from './source.js';
export type { DwarfFileSections, DwarfSectionFileRange } from './source.js';
export { CompileUnit } from './model/unit.js';
export {
  VoidType, BaseType, UnspecifiedType, PointerType, ReferenceType, QualifiedType, TypedefType, StructType, EnumType,
  ArrayType, FunctionType, PtrToMemberType, strip, sizeOf, isSigned,
} from './model/types.js';
export type { DwarfType, Member, Enumerator, ArrayDimension } from './model/types.js';
export { StructLayout, LayoutError } from './model/struct-layout.js';
export { FunctionSymbol, VariableSymbol, ParameterSymbol, LabelSymbol, InlinedInstance, CallSite, EnumeratorSymbol, Scope } from './model/symbols.js';
export type { DwarfSymbol } from './model/symbols.js';
export type { Location } from './model/dies.js';
export { typeName, declare } from './model/format.js';
export type { AddressRange, LocationListEntry } from './lists.js';
export type { LineTable, LineHeader, LineFile } from './line.js';
export { LineFlag, fileAt, rowAddress, rowFor } from './line.js';
export { dieId, dieIdOffset, dieIdSection, DieSection } from './unit.js';
export type { DieId, UnitHeader } from './unit.js';
export * from './constants.js';
export * from '../dump/index.js';
