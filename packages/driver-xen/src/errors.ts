import { StackdbError } from '@stackdb/core';

/** Xen cannot be reached (not a Domain 0, addon not built), or a domain cannot be debugged. */
export class XenError extends StackdbError {
  constructor(code: string, message: string, opts?: { cause?: unknown }) {
    super(code, `xen: ${message}`, opts);
  }
}
