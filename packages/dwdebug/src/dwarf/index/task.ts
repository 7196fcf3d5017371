import { FileReader, memorySection, sectionFromSpec, type SectionData, type SectionSpec } from '../source.js';
import { DieSection, type UnitHeader } from '../unit.js';
import { NameMatcher, type MatchWant } from './match.js';
import { UnitPrefilter } from './prefilter.js';
import { Scanner, type ScanOutput } from './scan.js';

/** The sections an index job reads. Names are the standard ones (or their `.dwo` variants). */
export interface IndexSections {
  readonly info?: SectionSpec;
  readonly types?: SectionSpec;
  readonly abbrev?: SectionSpec;
  readonly str?: SectionSpec;
  readonly lineStr?: SectionSpec;
  readonly strOffsets?: SectionSpec;
  readonly line?: SectionSpec;
  /** The supplementary file's `.debug_str`, for DW_FORM_GNU_strp_alt/strp_sup names. */
  readonly supStr?: SectionSpec;
}

/**
 * One indexing job: some units of one file. Worker threads claim units from
 * a shared counter over `order` (largest first, so the tail is short); the
 * in-thread path scans them all.
 */
export interface IndexJob {
  readonly file: string;
  readonly littleEndian: boolean;
  readonly sections: IndexSections;
  readonly units: readonly UnitHeader[];
  /** Unit indices in the order to claim them. */
  readonly order: Int32Array;
  /** Shared claim counter (`Atomics.add` on element 0); absent when one thread scans everything. */
  readonly next?: Int32Array;
  /** Match mode (see match.ts): keep only the entries of this name. */
  readonly match?: { readonly name: string; readonly want: MatchWant };
}

/** Match mode reads units in runs of about this many bytes. */
const RUN_BYTES = 4 * 1024 * 1024;

/** `.debug_abbrev` sections up to this size are read whole (a kernel's is 5.5 MB); larger ones a window per unit. */
const ABBREV_WHOLE_BYTES = 64 * 1024 * 1024;

/** Runs an index job and returns what the scanner found. */
export function runIndexJob(job: IndexJob): ScanOutput {
  const readers = new Map<string, FileReader>();
  const sec = (s: SectionSpec | undefined): SectionData | undefined => (s ? sectionFromSpec(s, readers) : undefined);
  try {
    const info = sec(job.sections.info);
    const types = sec(job.sections.types);
    let abbrev = sec(job.sections.abbrev);
    if (abbrev && !abbrev.inMemory && abbrev.size <= ABBREV_WHOLE_BYTES) abbrev = memorySection(abbrev.name, abbrev.all());
    const whole = (s: SectionSpec | undefined) => sec(s)?.all();
    const strings = { str: whole(job.sections.str), lineStr: whole(job.sections.lineStr), strOffsets: whole(job.sections.strOffsets), supStr: whole(job.sections.supStr) };
    const matcher = job.match ? new NameMatcher(job.match.name, job.match.want, strings) : undefined;
    const scanner = new Scanner(job.file, job.littleEndian, strings, sec(job.sections.line), abbrev, { ...(matcher ? { matcher } : {}) });
    // One buffer for every unit read from a file: a kernel's 174 MB would otherwise churn the heap.
    let buffer = new Uint8Array(1 << 20);
    const prefilter = matcher && abbrev ? UnitPrefilter.for(matcher, job.units, job.littleEndian, abbrev.all(), !!strings.strOffsets, !!job.sections.supStr) : undefined;
    if (prefilter && !job.next) {
      scanFiltered(prefilter);
      return scanner.output();
    }
    for (;;) {
      const k = job.next ? Atomics.add(job.next, 0, 1) : -1;
      if (job.next && k >= job.order.length) break;
      const ui = job.next ? job.order[k]! : -1;
      if (!job.next) break;
      scanOne(ui);
    }
    if (!job.next) for (const ui of job.order) scanOne(ui);
    return scanner.output();

    /**
     * Match mode with a prefilter: units are read in runs of a few MB (in
     * `order`, which is section order), searched, and only those that may
     * hold the name are scanned; once most units turn out to, the rest are
     * scanned without searching.
     */
    function scanFiltered(pf: UnitPrefilter): void {
      // A type is never named by reference: its lookup reads a unit only up to the last match.
      const typesOnly = !job.match!.want.globals;
      let searched = 0;
      let hits = 0;
      for (let k = 0; k < job.order.length;) {
        const h0 = job.units[job.order[k]!]!;
        const data = h0.section === DieSection.types ? types : info;
        // A run: consecutive units of one section, up to RUN_BYTES (at least one unit).
        let n = 1;
        while (k + n < job.order.length) {
          const h = job.units[job.order[k + n]!]!;
          if (h.section !== h0.section || h.offset !== job.units[job.order[k + n - 1]!]!.end || h.end - h0.offset > RUN_BYTES) break;
          n++;
        }
        const last = job.units[job.order[k + n - 1]!]!;
        if (data) {
          const len = last.end - h0.offset;
          const bytes = readBytes(data, h0.offset, len);
          const starts: number[] = [];
          for (let i = 0; i < n; i++) starts.push(job.units[job.order[k + i]!]!.offset - h0.offset);
          starts.push(len);
          const lastMatch = new Int32Array(n).fill(-1);
          // Once most units mention the name, searching costs more than it saves (unless it bounds the reading).
          const filtering = typesOnly || searched < 64 || hits * 2 < searched;
          if (filtering) {
            pf.mark(bytes, starts, lastMatch);
            searched += n;
            for (let i = 0; i < n; i++) if (lastMatch[i]! >= 0) hits++;
          }
          for (let i = 0; i < n; i++) {
            if (filtering && lastMatch[i]! < 0) continue;
            const ui = job.order[k + i]!;
            const h = job.units[ui]!;
            scanner.scanUnit(ui, h, bytes.subarray(starts[i]!, Math.min(starts[i + 1]!, bytes.length)), h.offset, data.name, filtering && typesOnly ? lastMatch[i]! : undefined);
          }
        }
        k += n;
      }
    }

    function scanOne(ui: number): void {
      const h = job.units[ui]!;
      const data = h.section === DieSection.types ? types : info;
      if (!data) return;
      scanner.scanUnit(ui, h, readBytes(data, h.offset, h.end - h.offset), h.offset, data.name);
    }

    /** Section bytes: a view of an in-memory section, else read into the shared buffer (valid until the next read). */
    function readBytes(data: SectionData, offset: number, len: number): Uint8Array {
      if (data.inMemory) return data.read(offset, len);
      if (buffer.length < len) buffer = new Uint8Array(Math.max(len, buffer.length * 2));
      return data.readInto(offset, len, buffer);
    }
  } finally {
    for (const r of readers.values()) r.close();
  }
}
