import { DwarfError } from '../errors.js';

/** The effect of load options (see {@link parseLoadOptions}). */
export interface LoadFlags {
  /** Expand every unit at load. */
  readonly eager: boolean;
  /** Read only unit headers at load; build the name index on demand (`CUHEADERS`). */
  readonly headersOnly: boolean;
  /** Ignore the DWARF entirely (`NODWARF`): callers fall back to ELF symbols. */
  readonly noDwarf: boolean;
  /** Build the address → unit map at load (`ALLRANGES`). */
  readonly allRanges: boolean;
  /** Return declarations beside definitions from lookups (`KEEPDECLS`). */
  readonly keepDecls: boolean;
  /** The flags as given, upper-cased. */
  readonly names: readonly string[];
}

const KNOWN = new Set(['NONE', '*', 'CUHEADERS', 'PUBNAMES', 'NODWARF', 'ALLRANGES', 'KEEPDECLS', 'PARTIALSYM', 'REDUCETYPES', 'REDUCETYPES_FULL_EQUIV', 'FULLSYM']);

/**
 * Parses the original Stackdb's debugfile load flags (`-F`). They may come as
 * a list or as one rfilter string (`FLAG,FLAG||filters...`, whose file filters
 * are ignored: the flags apply to every file).
 *
 * - `PARTIALSYM` (the default here): index names, expand units on use.
 * - `FULLSYM`, or `eager`: expand everything at load (the seed's default).
 * - `CUHEADERS`: read unit headers only; names are indexed on demand.
 * - `PUBNAMES`: accepted; the name index covers what pubnames did.
 * - `NODWARF`: ignore DWARF. `ALLRANGES`: build the address map at load.
 * - `KEEPDECLS`: lookups return declarations beside definitions.
 * - `REDUCETYPES`, `REDUCETYPES_FULL_EQUIV`: accepted; types are always
 *   shared across units by the index.
 * - `NONE` / `*`: clear the flags given before.
 */
export function parseLoadOptions(opts: readonly string[] | string | undefined, eager = false): LoadFlags {
  const list: string[] = [];
  const raw = typeof opts === 'string' ? [opts] : (opts ?? []);
  for (const o of raw) {
    const flagsPart = o.split('||')[0] ?? '';
    for (const f of flagsPart.split(',')) if (f.trim()) list.push(f.trim().toUpperCase());
  }
  let names: string[] = [];
  for (const f of list) {
    if (!KNOWN.has(f)) throw new DwarfError('ERR_DWARF_LOAD_OPTION', `unknown debuginfo load option '${f}' (known: ${[...KNOWN].join(', ')})`);
    if (f === 'NONE' || f === '*') names = [];
    else names.push(f);
  }
  const has = (f: string) => names.includes(f);
  return {
    eager: eager || (has('FULLSYM') && !has('PARTIALSYM')),
    headersOnly: has('CUHEADERS'),
    noDwarf: has('NODWARF'),
    allRanges: has('ALLRANGES'),
    keepDecls: has('KEEPDECLS'),
    names,
  };
}
