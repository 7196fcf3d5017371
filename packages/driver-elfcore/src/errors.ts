import { MemoryError, StackdbError } from '@stackdb/core';

/** Stable codes of {@link CoreFileError}. */
export type CoreErrorCode =
  /** Not an ELF core, not x86-64, or headers that make no sense. */
  | 'ERR_CORE_FORMAT'
  /** The file ends before data its headers promise (program headers, notes, memory). */
  | 'ERR_CORE_TRUNCATED'
  /** A note is malformed or shorter than its type requires. */
  | 'ERR_CORE_NOTE'
  /** The main binary or a mapped file cannot be used (missing, wrong build-id). */
  | 'ERR_CORE_FILE';

/**
 * A problem with a core file or a file it refers to. Opening a damaged core
 * records the problems it can live with (see `ElfCoreTarget.problems`) and
 * throws only when nothing useful is left; each names the file, what is
 * missing and where.
 */
export class CoreFileError extends StackdbError {
  declare readonly code: CoreErrorCode;
  /** The file the problem is in. */
  readonly file: string;
  /** Byte offset in `file` where the problem is, when there is one. */
  readonly offset?: number;

  constructor(code: CoreErrorCode, file: string, message: string, opts: { offset?: number; cause?: unknown } = {}) {
    const at = opts.offset === undefined ? '' : ` at offset 0x${opts.offset.toString(16)}`;
    super(code, `${file}${at}: ${message}`, opts.cause === undefined ? {} : { cause: opts.cause });
    this.file = file;
    if (opts.offset !== undefined) this.offset = opts.offset;
  }
}

/** Why an address of a core cannot be read. */
export type UnreadableReason =
  /** No segment of the dump covers it: it was not mapped. */
  | 'unmapped'
  /** Mapped, but the dump left its contents out and no file can stand in for them. */
  | 'omitted'
  /** Its segment lies past the end of a truncated core file. */
  | 'truncated'
  /** A virtual address whose page-table walk ends at a non-present entry. */
  | 'not-present';

/**
 * A memory read from a core failed. Same code as core's {@link MemoryError}
 * (`ERR_MEMORY`), with the reason the dump cannot give the byte at `address`.
 */
export class CoreMemoryError extends MemoryError {
  readonly reason: UnreadableReason;

  constructor(address: bigint, transferred: number, reason: UnreadableReason, detail: string) {
    super(address, transferred, `cannot access memory at 0x${address.toString(16)}: ${detail}`);
    this.reason = reason;
  }
}
