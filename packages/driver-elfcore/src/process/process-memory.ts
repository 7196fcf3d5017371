import type { CoreFile, LoadSegment } from '../core-file.js';
import type { UnreadableReason } from '../errors.js';
import { IntervalMap } from '../interval-map.js';
import type { MappedFiles } from './mapped-files.js';

/** A load segment placed at its virtual addresses. */
export interface VirtualSegment extends LoadSegment {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * The memory of a process core.
 *
 * A byte at address A comes from, in order:
 * 1. the PT_LOAD covering A, when A lies in the part of it the file holds
 *    (`filesz`, less whatever a truncated file lost);
 * 2. the file mapped at A (NT_FILE), when the dump left A out: either A lies in
 *    a segment's `[filesz, memsz)` tail (the kernel writes omitted mappings
 *    with `filesz` 0, or only their ELF header page) or in no segment at all
 *    (gcore drops omitted mappings from the program headers);
 * 3. nothing: the read stops there.
 * Memory a truncated core lost is not taken from files: a dumped file mapping
 * was dumped because the process wrote to it, so the file no longer matches.
 */
export class ProcessMemory {
  readonly segments: IntervalMap<VirtualSegment>;
  private files?: MappedFiles;

  constructor(private readonly core: CoreFile) {
    this.segments = new IntervalMap(core.segments.map((s) => ({ ...s, start: s.vaddr, end: s.vaddr + s.memsz })));
  }

  /** Enables fallback reads from mapped files. */
  useFiles(files: MappedFiles): void {
    this.files = files;
  }

  /** Reads from the core's own bytes only; returns the bytes read before the first gap. */
  async readCore(address: bigint, buf: Uint8Array): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const a = address + BigInt(done);
      const seg = this.segments.find(a);
      if (!seg) break;
      const off = a - seg.start;
      if (off >= BigInt(seg.available)) break;
      const n = Math.min(buf.length - done, seg.available - Number(off));
      const got = await this.core.read(seg.offset + Number(off), buf.subarray(done, done + n));
      done += got;
      if (got < n) break;
    }
    return done;
  }

  /** Reads with fallback to mapped files; returns the bytes read before the first unreadable one. */
  async read(address: bigint, buf: Uint8Array): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const a = address + BigInt(done);
      const seg = this.segments.find(a);
      let n: number;
      let got: number;
      if (seg && a - seg.start < BigInt(seg.available)) {
        n = Math.min(buf.length - done, seg.available - Number(a - seg.start));
        got = await this.core.read(seg.offset + Number(a - seg.start), buf.subarray(done, done + n));
      } else {
        if (seg && a - seg.start < BigInt(seg.filesz)) break; // lost to truncation
        if (!this.files) break;
        // Stay within this segment's omitted tail, or before the next segment.
        const limit = seg ? seg.end : this.segments.after(a)?.start;
        n = limit === undefined ? buf.length - done : Math.min(buf.length - done, Number(limit - a));
        got = await this.files.read(a, buf.subarray(done, done + n));
      }
      done += got;
      if (got < n) break;
    }
    return done;
  }

  /** Why `address` cannot be read, in words naming what is missing. */
  explain(address: bigint): { reason: UnreadableReason; detail: string } {
    const seg = this.segments.find(address);
    const mapped = this.files?.find(address);
    const segName = seg && `PT_LOAD segment ${seg.index} (0x${seg.start.toString(16)}-0x${seg.end.toString(16)})`;
    if (seg && address - seg.start < BigInt(seg.filesz)) {
      const fileOff = seg.offset + Number(address - seg.start);
      return { reason: 'truncated', detail: `${segName} needs file offset 0x${fileOff.toString(16)} but ${this.core.path} ends at 0x${this.core.size.toString(16)} (truncated core)` };
    }
    if (mapped) {
      const why = mapped.file.problem ? mapped.file.problem.message : `${mapped.file.localPath} ends before offset 0x${(mapped.entry.offset + (address - mapped.entry.start)).toString(16)}`;
      return { reason: 'omitted', detail: `the core left out this mapping of ${mapped.file.path} and it cannot be read from the file: ${why}` };
    }
    if (seg) return { reason: 'omitted', detail: `the core left out the contents of ${segName}, anonymous memory` };
    return { reason: 'unmapped', detail: 'not mapped in the process when the core was made' };
  }
}
