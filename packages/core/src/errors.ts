/**
 * Every error Stackdb raises is a {@link StackdbError} with a stable string `code`
 * (match on the code, never on the message), a one-line message meant for users,
 * and an optional `cause`.
 */
export class StackdbError extends Error {
  /** Stable identifier, listed in the package README. */
  readonly code: string;
  /** Process exit code a command-line tool uses for this error. */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A command-line option or target spec is wrong; tools exit with status 2. */
export class UsageError extends StackdbError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_USAGE', message, { ...options, exitCode: 2 });
  }
}

/** The operation is not supported by this target's driver (see `target.supports`). */
export class NotSupportedError extends StackdbError {
  constructor(what: string, driver: string) {
    super('ERR_NOT_SUPPORTED', `${what} is not supported by the ${driver} driver`);
  }
}

/** The target is in a state that does not allow the operation. */
export class TargetStateError extends StackdbError {
  constructor(message: string) {
    super('ERR_TARGET_STATE', message);
  }
}

/** A memory access failed. `address` is the first byte that could not be accessed. */
export class MemoryError extends StackdbError {
  readonly address: bigint;
  /** Bytes successfully transferred before `address`. */
  readonly transferred: number;

  constructor(address: bigint, transferred: number, message?: string, options: { cause?: unknown } = {}) {
    super('ERR_MEMORY', message ?? `cannot access memory at 0x${address.toString(16)}`, options);
    this.address = address;
    this.transferred = transferred;
  }
}

/** A thread id that the target does not have (or no longer has). */
export class NoSuchThreadError extends StackdbError {
  constructor(tid: number | string) {
    super('ERR_NO_THREAD', `no such thread: ${tid}`);
  }
}

/** A register name or DWARF number that the architecture or target does not know. */
export class RegisterError extends StackdbError {
  constructor(message: string) {
    super('ERR_REGISTER', message);
  }
}

/** Attaching to or launching a target failed (no such process, permission, exec failure...). */
export class AttachError extends StackdbError {
  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(code, message, options);
  }
}

/** A symbol, type, file:line or address could not be resolved. */
export class LookupError extends StackdbError {
  constructor(message: string) {
    super('ERR_LOOKUP', message);
  }
}

/** Registry and plugin loading failures (missing entry module, bad declaration...). */
export class RegistryError extends StackdbError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_REGISTRY', message, options);
  }
}

/** An operation was aborted through its AbortSignal. */
export class AbortError extends StackdbError {
  constructor(message = 'the operation was aborted') {
    super('ERR_ABORTED', message);
  }
}

/** A remote peer (a GDB stub, QMP, a multiplexer) broke its protocol or timed out. */
export class ProtocolError extends StackdbError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** Hardware debug slots are exhausted, or a probe cannot be placed. */
export class ProbeError extends StackdbError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Renders any thrown value as one line for a user. */
export function errorLine(err: unknown): string {
  if (err instanceof StackdbError) return err.message;
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
