import { format } from 'node:util';
import { parseLogFlags, type LogFlag } from './flags.js';

/** Global logging settings, set once from `-d`, `-w` and `-l`. */
export interface LogSettings {
  /** Debug verbosity; messages at or below this level are printed. 0 prints none. */
  debugLevel: number;
  /** Optional-warning verbosity. */
  warnLevel: number;
  /** Enabled flags; debug and optional-warning messages need their flag enabled. */
  flags: Set<string>;
  /** Where lines go; stderr unless replaced (tests capture it). */
  sink: (line: string) => void;
}

const settings: LogSettings = {
  debugLevel: 0,
  warnLevel: 0,
  flags: new Set(),
  sink: (line) => process.stderr.write(line + '\n'),
};

/** Applies `-d`, `-w`, `-l` values. */
export function configureLogging(opts: { debug?: number; warn?: number; flags?: string | Iterable<string>; sink?: (line: string) => void }): void {
  if (opts.debug !== undefined) settings.debugLevel = opts.debug;
  if (opts.warn !== undefined) settings.warnLevel = opts.warn;
  if (opts.flags !== undefined) settings.flags = typeof opts.flags === 'string' ? parseLogFlags(opts.flags) : new Set(opts.flags);
  if (opts.sink) settings.sink = opts.sink;
}

/** A logger bound to one flag, e.g. `getLogger('T_LUP')`. */
export class Logger {
  constructor(readonly flag: LogFlag) {}

  /** True when a debug message of this level would be printed; use it to skip costly formatting. */
  enabled(level: number): boolean {
    return level <= settings.debugLevel && settings.flags.has(this.flag);
  }

  /** A debug message, printed when `-d` ≥ level and the flag is enabled with `-l`. */
  debug(level: number, fmt: string, ...args: unknown[]): void {
    if (this.enabled(level)) settings.sink(`DEBUG ${this.flag}: ${format(fmt, ...args)}`);
  }

  /** An optional warning, printed when `-w` ≥ level and the flag is enabled. */
  warnopt(level: number, fmt: string, ...args: unknown[]): void {
    if (level <= settings.warnLevel && settings.flags.has(this.flag)) settings.sink(`WARNING ${this.flag}: ${format(fmt, ...args)}`);
  }

  /** A warning that is always printed. */
  warn(fmt: string, ...args: unknown[]): void {
    settings.sink(`warning: ${format(fmt, ...args)}`);
  }
}

const loggers = new Map<LogFlag, Logger>();

/** The shared logger for a flag. */
export function getLogger(flag: LogFlag): Logger {
  let l = loggers.get(flag);
  if (!l) loggers.set(flag, (l = new Logger(flag)));
  return l;
}
