export * from './driver.js';
export * from './os-process-target.js';
