/** A parsed option value. */
export type OptionValue = string | number | boolean | string[];

/** The common options of one target, typed. */
export interface CommonOptions {
  activeProbing: string[];
  errFile?: string;
  inFile?: string;
  outFile?: string;
  debugfileRootPrefix?: string;
  debug?: number;
  debugfileLoadOpts: string[];
  logFlags?: string[];
  personality?: string;
  personalityLib?: string;
  softBreakpoints: boolean;
  warn?: number;
}

/**
 * Everything needed to create one target: its driver, the driver's options, the
 * common options, and the overlays stacked on it.
 */
export interface TargetSpec {
  /** Numeric id: `-i`, or assigned in order of appearance. */
  readonly id: number;
  /** Driver name. */
  readonly driver: string;
  readonly kind: 'base' | 'overlay';
  /** The driver's (and its helpers') options, by key. */
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly common: Readonly<CommonOptions>;
  /** Program and arguments after `--`, for drivers that launch programs. */
  readonly program?: readonly string[];
  /** Where the driver was chosen: `-t` or the first option unique to it. */
  readonly selectedBy: string;
  /** For overlays: the base target id and the thread (name or id) they sit on. */
  readonly on?: { readonly baseId: number; readonly thread: string };
  /** Overlays stacked on this target. */
  readonly overlays: TargetSpec[];
}
