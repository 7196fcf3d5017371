import { StackdbError } from '@stackdb/core';

/** The kernel lacks something the personality reads (a symbol, a type, a member), or its memory makes no sense. */
export class LinuxPersonalityError extends StackdbError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super('ERR_LINUX_PERSONALITY', `linux personality: ${message}`, opts);
  }
}
