export * from './errors.js';
export * from './driver.js';
export * from './php-target.js';
export * from './zend-types.js';
export * from './zend-values.js';
export * from './zend-stack.js';
export * from './zend-lookup.js';
export * from './function-probe.js';
