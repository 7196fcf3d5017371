/** ELF constants used by the reader (System V gABI). */
export const ET = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;
export const SHT = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, HASH: 5, DYNAMIC: 6, NOTE: 7, NOBITS: 8, REL: 9, DYNSYM: 11,
} as const;
export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4, COMPRESSED: 0x800 } as const;
export const PT = { NULL: 0, LOAD: 1, DYNAMIC: 2, INTERP: 3, NOTE: 4, PHDR: 6, TLS: 7, GNU_EH_FRAME: 0x6474e550 } as const;
export const PF = { X: 1, W: 2, R: 4 } as const;
export const ELFCOMPRESS = { ZLIB: 1, ZSTD: 2 } as const;
export const EM = { X86_64: 62, I386: 3, AARCH64: 183 } as const;
