export * from './system.js';
export * from './fixtures.js';
export * from './golden.js';
export * from './gdb-backtrace.js';
