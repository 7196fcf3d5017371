export * from './errors.js';
export * from './elf/constants.js';
export * from './elf/elf-file.js';
