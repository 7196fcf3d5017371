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
