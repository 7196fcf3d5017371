/**
 * A decode failure in a binary or debug file: names the file, the section and
 * the offset where the data stopped making sense. `code` is stable.
 */
export class DwarfError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly section?: string;
  readonly offset?: number;

  constructor(code: string, message: string, where: { file?: string; section?: string; offset?: number; cause?: unknown } = {}) {
    const loc = [where.file, where.section, where.offset === undefined ? undefined : `offset 0x${where.offset.toString(16)}`].filter(Boolean).join(', ');
    super(loc ? `${message} (${loc})` : message, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'DwarfError';
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.section !== undefined) this.section = where.section;
    if (where.offset !== undefined) this.offset = where.offset;
  }
}

/** The file is not ELF, or its headers are corrupt or truncated. */
export class ElfError extends DwarfError {
  constructor(message: string, where: { file?: string; section?: string; offset?: number; cause?: unknown } = {}) {
    super('ERR_ELF', message, where);
    this.name = 'ElfError';
  }
}
