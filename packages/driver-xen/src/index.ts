export * from './errors.js';
export * from './binding.js';
export * from './driver.js';
export * from './xen-target.js';
