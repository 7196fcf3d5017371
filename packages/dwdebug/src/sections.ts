/**
 * The DWARF sections of one debug file, as the DWARF reader consumes them:
 * decompressed, relocated for ET_REL files, and merged from a binary and its
 * separate debug file. Offsets into each section are plain numbers.
 */
export interface DwarfSections {
  /** File name for error messages. */
  readonly path: string;
  readonly littleEndian: boolean;
  /** ELF class; DWARF units state their own address size. */
  readonly is64: boolean;
  /** A section by its standard name (`.debug_info`, `.debug_str`, `.eh_frame`...), or undefined. */
  section(name: string): Uint8Array | undefined;
  /** The dwz supplementary file (`.gnu_debugaltlink`, DWARF 5 `.debug_sup`), when there is one. */
  readonly supplementary?: DwarfSections;
}
