/** Value types an option can take; the parser checks and converts them. */
/** `count` is a flag that counts its occurrences (`-DD` is 2). */
export type OptionType = 'flag' | 'count' | 'string' | 'path' | 'int' | 'uint' | 'list' | 'level';

/**
 * One command-line option as a package declares it in its `package.json`
 * `"stackdb"` key (or as core and tools declare theirs).
 */
export interface OptionDecl {
  /** Long name without dashes: `pid`. */
  readonly long: string;
  /** Single-letter short name: `p`. */
  readonly short?: string;
  /** Argument placeholder for help (`PID`); absent for flags. */
  readonly arg?: string;
  /** Value type; `flag` when there is no `arg`, `string` otherwise. */
  readonly type?: OptionType;
  readonly help: string;
  /** Property name in the parsed options; camelCase of `long` by default. */
  readonly key?: string;
  /** May be given several times; values are collected in an array. */
  readonly repeatable?: boolean;
  /** Argument is optional and must be attached (`-d5`, `--debug=5`); alone it increments. */
  readonly optionalArg?: boolean;
}

/** A helper that extends a driver with more options (the gdb driver's `qemu` helper). */
export interface HelperDecl {
  readonly name: string;
  readonly description?: string;
  readonly options: readonly OptionDecl[];
}

export type PluginKind = 'base-driver' | 'overlay-driver' | 'personality';

/** What a package declares under its `"stackdb"` key (an object or an array of them). */
export interface PluginDecl {
  readonly kind: PluginKind;
  /** `ptrace`, `gdb`, `xen`, `os-process`, `php`, `linux`. */
  readonly name: string;
  /** Module to import when the plugin is used, relative to the package root. */
  readonly entry: string;
  readonly description?: string;
  readonly options?: readonly OptionDecl[];
  readonly helpers?: readonly HelperDecl[];
  /** The driver takes a program vector after `--` (ptrace). */
  readonly program?: { readonly key: string; readonly help: string };
}

/** A declaration found on disk, with where it came from. */
export interface DiscoveredPlugin extends PluginDecl {
  readonly packageName: string;
  readonly packageVersion: string;
  readonly packageDir: string;
}

/** The property name of an option in parsed results. */
export function optionKey(o: OptionDecl): string {
  return o.key ?? o.long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The effective type of an option. */
export function optionType(o: OptionDecl): OptionType {
  return o.type ?? (o.arg ? 'string' : 'flag');
}

/** Checks a declaration read from a package.json; returns a list of problems. */
export function validatePluginDecl(d: unknown): string[] {
  const problems: string[] = [];
  if (!d || typeof d !== 'object') return ['"stackdb" must be an object or an array of objects'];
  const o = d as Record<string, unknown>;
  if (!['base-driver', 'overlay-driver', 'personality'].includes(o.kind as string)) problems.push(`kind must be base-driver, overlay-driver or personality (got ${JSON.stringify(o.kind)})`);
  if (typeof o.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(o.name)) problems.push(`name must be a lower-case word (got ${JSON.stringify(o.name)})`);
  if (typeof o.entry !== 'string') problems.push('entry must name a module');
  const checkOpts = (opts: unknown, where: string) => {
    if (opts === undefined) return;
    if (!Array.isArray(opts)) return problems.push(`${where} must be an array`);
    for (const op of opts as Record<string, unknown>[]) {
      if (typeof op?.long !== 'string' || !/^[a-z][a-z0-9-]+$/.test(op.long)) problems.push(`${where}: bad long name ${JSON.stringify(op?.long)}`);
      if (op?.short !== undefined && (typeof op.short !== 'string' || !/^[A-Za-z0-9]$/.test(op.short))) problems.push(`${where}: bad short name ${JSON.stringify(op.short)}`);
      if (typeof op?.help !== 'string') problems.push(`${where}: option ${String(op?.long)} needs help`);
    }
    return undefined;
  };
  checkOpts(o.options, 'options');
  if (o.helpers !== undefined) {
    if (!Array.isArray(o.helpers)) problems.push('helpers must be an array');
    else for (const h of o.helpers as Record<string, unknown>[]) checkOpts(h.options, `helper ${String(h.name)} options`);
  }
  return problems;
}
