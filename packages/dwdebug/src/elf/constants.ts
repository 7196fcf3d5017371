/** ELF constants used by the reader (System V gABI, GNU extensions). */
export const ET = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;
export const SHT = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, HASH: 5, DYNAMIC: 6, NOTE: 7, NOBITS: 8, REL: 9, DYNSYM: 11,
  SYMTAB_SHNDX: 18, X86_64_UNWIND: 0x70000001,
} as const;
export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4, INFO_LINK: 0x40, TLS: 0x400, COMPRESSED: 0x800 } as const;
/** Special section indices. */
export const SHN = { UNDEF: 0, LORESERVE: 0xff00, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;
export const PT = { NULL: 0, LOAD: 1, DYNAMIC: 2, INTERP: 3, NOTE: 4, PHDR: 6, TLS: 7, GNU_EH_FRAME: 0x6474e550 } as const;
export const PF = { X: 1, W: 2, R: 4 } as const;
export const ELFCOMPRESS = { ZLIB: 1, ZSTD: 2 } as const;
export const EM = { X86_64: 62, I386: 3, AARCH64: 183 } as const;
/** Symbol types (low nibble of st_info). */
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4, COMMON: 5, TLS: 6, GNU_IFUNC: 10 } as const;
/** Symbol bindings (high nibble of st_info). */
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2, GNU_UNIQUE: 10 } as const;
/** Symbol visibility (low bits of st_other). */
export const STV = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;
/** Note types in the "GNU" namespace. */
export const NT_GNU = { ABI_TAG: 1, HWCAP: 2, BUILD_ID: 3, GOLD_VERSION: 4, PROPERTY_TYPE_0: 5 } as const;
/** x86-64 relocation types (psABI). */
export const R_X86_64 = {
  NONE: 0, R64: 1, PC32: 2, GOT32: 3, PLT32: 4, R32: 10, R32S: 11, R16: 12, PC16: 13, R8: 14, PC8: 15,
  DTPOFF64: 17, DTPOFF32: 21, PC64: 24, SIZE32: 32, SIZE64: 33,
} as const;
/** i386 relocation types (psABI). */
export const R_386 = { NONE: 0, R32: 1, PC32: 2, TLS_LDO_32: 32, R16: 20, PC16: 21, R8: 22, PC8: 23 } as const;
