export * from './errors.js';
export * from './cpio.js';
export * from './kernel.js';
export * from './initramfs.js';
export * from './needs.js';
export * from './console.js';
export * from './vm.js';
