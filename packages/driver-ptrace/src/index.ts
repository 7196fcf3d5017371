export { PtraceTarget, PTRACE_CAPABILITIES, type PtraceTargetOptions } from './target.js';
export { driver } from './driver.js';
export { PtraceAttachError, PtraceError, PTRACE_ERROR_EXIT_CODES, type PtraceAttachCode } from './errors.js';
export { requestFromSpec, launchPlan, resolveProgram, type LaunchPlan, type LaunchOptions, type PtraceRequest } from './request.js';
export { decodeWaitStatus, type WaitStatus } from './wait-status.js';
