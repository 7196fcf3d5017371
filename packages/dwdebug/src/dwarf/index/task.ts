import { FileReader, memorySection, sectionFromSpec, type SectionData, type SectionSpec } from '../source.js';
import { DieSection, type UnitHeader } from '../unit.js';
import { NameMatcher, type MatchWant } from './match.js';
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
    for (;;) {
      const k = job.next ? Atomics.add(job.next, 0, 1) : -1;
      if (job.next && k >= job.order.length) break;
      const ui = job.next ? job.order[k]! : -1;
      if (!job.next) break;
      scanOne(ui);
    }
    if (!job.next) for (const ui of job.order) scanOne(ui);
    return scanner.output();

    function scanOne(ui: number): void {
      const h = job.units[ui]!;
      const data = h.section === DieSection.types ? types : info;
      if (!data) return;
      const len = h.end - h.offset;
      let bytes: Uint8Array;
      if (data.inMemory) bytes = data.read(h.offset, len);
      else {
        if (buffer.length < len) buffer = new Uint8Array(Math.max(len, buffer.length * 2));
        bytes = data.readInto(h.offset, len, buffer);
      }
      scanner.scanUnit(ui, h, bytes, h.offset, data.name);
    }
  } finally {
    for (const r of readers.values()) r.close();
  }
}
