export * from './constants.js';
export * from './types.js';
export * from './encoding.js';
export * from './entries.js';
export * from './execute.js';
export * from './table.js';
export * from './orc.js';
