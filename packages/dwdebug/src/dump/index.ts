/** `dumpdebuginfo`: whole-file dumps and lookups, as text and JSON. */
export { dumpDebugInfo } from './dump.js';
export type { DumpOptions, DumpElf } from './dump.js';
export { lookupDebugInfo, formatLookups } from './lookup.js';
export type { LookupResult, FoundSymbol } from './lookup.js';
export { formatType, formatSymbol, formatLocation, formatRanges } from './format.js';
export type { Levels } from './format.js';
