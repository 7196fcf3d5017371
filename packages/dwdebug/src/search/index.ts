export * from './debuginfo-search.js';
