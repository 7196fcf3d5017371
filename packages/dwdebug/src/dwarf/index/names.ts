/**
 * Name lookups of one file (or its dwz supplementary file), with or
 * without the name index.
 *
 * Building the index scans and keeps every global name of the file; a
 * first question asks for one name. So until the index is needed, a lookup
 * scans the units for that name only (match mode, see match.ts), which does
 * a fraction of the index's work and keeps nothing but the answer. Answers
 * are remembered; after a few different names the index is built (in the
 * calling thread), and from then on every lookup is a hash probe. Both ways
 * give the same entries.
 */
import type { DwarfError } from '../../errors.js';
import type { DwarfContext } from '../context.js';
import { buildIndexSync, matchScan, type BuiltIndex, type FunctionIndex } from './build.js';
import type { MatchWant } from './match.js';
import type { IndexEntry, NameIndex } from './name-index.js';

/** Different names looked up by scanning before the index is built instead. */
export const MATCH_SCANS = 2;

/** Units scanned at a time by {@link ContextNames.lookupFirst}. */
const FIRST_SLICE = 64;

/** What a lookup is for: both kinds when unsaid. */
const ALL: MatchWant = { types: true, globals: true };

/** The name lookups of one context. */
export class ContextNames {
  private built: BuiltIndex | undefined;
  private readonly answers = new Map<string, IndexEntry[]>();
  private scans = 0;

  constructor(
    private readonly ctx: DwarfContext,
    /** Receives decode errors: the index build's, or the first scan's. */
    private readonly onErrors: (errors: readonly DwarfError[]) => void,
    private readonly indexCache: string | undefined,
  ) {}

  /** The index, when built. */
  get index(): NameIndex | undefined {
    return this.built?.index;
  }

  /** Function code ranges the index scan recorded, when built. */
  get functions(): FunctionIndex | undefined {
    return this.built?.functions;
  }

  /** Installs an index built elsewhere (at load, by workers, or from the cache). */
  setIndex(built: BuiltIndex): void {
    this.built = built;
    this.answers.clear();
    this.onErrors(built.errors);
  }

  /** Builds the index now in the calling thread, unless it exists. */
  ensureIndex(): NameIndex {
    if (!this.built) this.setIndex(buildIndexSync(this.ctx, this.indexCache ? { indexCache: this.indexCache } : {}));
    return this.built!.index;
  }

  /**
   * The first entry of a name that `accept` takes, in file order. Without an
   * index the units are scanned a slice at a time and the scan stops at the
   * first slice that has one: a type defined in hundreds of units is found in
   * the first of them.
   */
  lookupFirst(name: string, want: MatchWant, accept: (e: IndexEntry) => boolean): IndexEntry | undefined {
    if (this.built) return this.built.index.lookup(name).find(accept);
    const units = this.ctx.units.length;
    for (let start = 0; start < units; start += FIRST_SLICE) {
      const order = Int32Array.from({ length: Math.min(FIRST_SLICE, units - start) }, (_, i) => start + i);
      const { entries, errors } = matchScan(this.ctx, name, want, order);
      if (errors.length) this.onErrors(errors);
      const hit = entries.find(accept);
      if (hit) return hit;
    }
    return undefined;
  }

  /** The entries of a name (of the kinds `want` asks for, at least). */
  lookup(name: string, want: MatchWant = ALL): IndexEntry[] {
    if (this.built) return this.built.index.lookup(name);
    const key = `${want.types ? 't' : '-'}${want.globals ? 'g' : '-'}${name}`;
    const known = this.answers.get(key);
    if (known) return known;
    if (this.scans >= MATCH_SCANS) return this.ensureIndex().lookup(name);
    this.scans++;
    const { entries, errors } = matchScan(this.ctx, name, want);
    // Every scan meets the same errors: report them once.
    if (this.scans === 1) this.onErrors(errors);
    this.answers.set(key, entries);
    return entries;
  }
}
