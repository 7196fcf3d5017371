/**
 * A failure of the test VM harness, with a stable `code`:
 * `ERR_VM_KERNEL` (no kernel with matching debuginfo), `ERR_VM_BOOT` (QEMU exited
 * or the guest never became ready), `ERR_VM_CONSOLE` (a console command failed or
 * timed out), `ERR_VM_QMP` (the harness's QMP monitor answered an error).
 */
export class VmError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmError';
    this.code = code;
  }
}
