import type { OptionDecl } from './declarations.js';

/**
 * The standard options every target accepts (`seeds/000_*`, "Standard Stackdb
 * Program Arguments"), owned by core.
 */
export const COMMON_OPTIONS: readonly OptionDecl[] = [
  { long: 'active-probing', short: 'a', arg: 'FLAG,FLAG,...', type: 'list', help: 'Active probing flags to enable (thread_entry thread_exit memory other)' },
  { long: 'err-file', short: 'E', arg: 'FILE', type: 'path', help: "Log the target's stderr (if available) to FILE" },
  { long: 'in-file', short: 'I', arg: 'FILE', type: 'path', help: 'Deliver the contents of FILE to the target on stdin (if available)' },
  { long: 'out-file', short: 'O', arg: 'FILE', type: 'path', help: "Log the target's stdout (if available) to FILE" },
  { long: 'debugfile-root-prefix', short: 'R', arg: 'DIR', type: 'path', help: 'Alternate root prefix for debuginfo and binfile resolution' },
  { long: 'debug', short: 'd', arg: 'LEVEL', type: 'level', optionalArg: true, help: 'Set/increase the debugging level' },
  { long: 'debugfile-load-opts', short: 'F', arg: 'LOAD-OPTS', type: 'string', repeatable: true, help: 'Add a set of debugfile load options (PARTIALSYM, ...)' },
  { long: 'target-id', short: 'i', arg: 'ID', type: 'uint', help: 'Numeric ID for the target' },
  { long: 'log-flags', short: 'l', arg: 'FLAG,FLAG,...', type: 'list', help: 'Debugging flags (L_*, D_*, T_*, P_*, X_*, U_*)' },
  { long: 'personality', arg: 'PERSONALITY', type: 'string', help: 'Forcibly set the target personality (e.g. linux)' },
  { long: 'personality-lib', arg: 'FILE|PACKAGE', type: 'string', help: 'Load the personality from this file or package' },
  { long: 'soft-breakpoints', short: 's', help: 'Force software breakpoints' },
  { long: 'target-type', short: 't', arg: 'TYPENAME', type: 'string', help: 'Forcibly set the target type (the installed drivers)' },
  { long: 'warn', short: 'w', arg: 'LEVEL', type: 'level', optionalArg: true, help: 'Set/increase the warning level' },
];

/** Options that build target stacks; not allowed inside `--base`/`--overlay`. */
export const STACK_OPTIONS: readonly OptionDecl[] = [
  { long: 'base', arg: 'TARGET_OPTIONS', type: 'string', repeatable: true, help: 'An entire base target in a single argument' },
  { long: 'overlay', arg: '[BASEID:]THREAD:TARGET_OPTIONS', type: 'string', repeatable: true, help: 'An entire overlay target on a thread of a base target' },
];

/** Active probing flags accepted by `-a`. */
export const ACTIVE_PROBING_FLAGS = ['thread_entry', 'thread_exit', 'memory', 'other'] as const;
