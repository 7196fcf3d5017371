import { ProtocolError, StackdbError } from '@stackdb/core';

/** Stable codes of the QEMU helper's errors. */
export const QEMU_ERROR = {
  /** The QMP socket could not be reached. */
  CONNECT: 'ERR_QMP_CONNECT',
  /** A QMP command got no answer in time. */
  TIMEOUT: 'ERR_QMP_TIMEOUT',
  /** The QMP connection ended. */
  CLOSED: 'ERR_QMP_CLOSED',
  /** QMP sent something that is not QMP (bad JSON, a reply to nothing). */
  PROTOCOL: 'ERR_QMP_PROTOCOL',
  /** QMP answered a command with an error (its class is in `errorClass`). */
  COMMAND: 'ERR_QMP_COMMAND',
  /** `virsh qemu-monitor-command` failed. */
  VIRSH: 'ERR_QEMU_VIRSH',
  /** The guest RAM file cannot be used (missing, too small, not this VM's RAM). */
  RAM_FILE: 'ERR_QEMU_RAM_FILE',
  /** The machine's memory layout could not be learned. */
  LAYOUT: 'ERR_QEMU_RAM_LAYOUT',
  /** The monitor's `info registers` output could not be understood. */
  REGISTERS: 'ERR_QEMU_REGISTERS',
} as const;

/** A QMP failure: connection, timeout, framing, or an error reply. */
export class QmpError extends ProtocolError {
  /** For `ERR_QMP_COMMAND`: QMP's error class (`GenericError`, `CommandNotFound`…). */
  readonly errorClass?: string;

  constructor(code: string, message: string, options: { cause?: unknown; errorClass?: string } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    if (options.errorClass !== undefined) this.errorClass = options.errorClass;
  }
}

/** A failure of the QEMU helper outside the monitor protocol (RAM file, layout, registers). */
export class QemuHelperError extends StackdbError {}
