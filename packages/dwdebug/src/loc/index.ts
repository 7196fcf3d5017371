export * from './ops.js';
export * from './decode.js';
export * from './evaluate.js';
export * from './format.js';
