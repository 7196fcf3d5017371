import type { OptionDecl, ParsedCommandLine, Registry } from '@stackdb/core';

/** What a tool's `run` receives. */
export interface ToolContext {
  readonly args: ParsedCommandLine;
  readonly registry: Registry;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * A `stackdb` tool. Its descriptor is light (options, help); the code that does
 * the work is imported only when the tool runs.
 */
export interface ToolDescriptor {
  readonly name: string;
  /** One line for `stackdb --help`. */
  readonly summary: string;
  /** Usage after `stackdb NAME`. */
  readonly usage: string;
  readonly options: readonly OptionDecl[];
  /** Accepts target options (-t, driver options, --base, --overlay). */
  readonly targets: boolean;
  /** Longer help text. */
  readonly description?: string;
  /** Imports the implementation. */
  load(): Promise<{ run(ctx: ToolContext): Promise<number> }>;
}

/** `--json`, shared by every tool that prints data. */
export const JSON_OPTION: OptionDecl = { long: 'json', help: 'Print JSON instead of text' };
