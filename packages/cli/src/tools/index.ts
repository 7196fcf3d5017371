import type { ToolDescriptor } from '../tool.js';

/** The tools, in the order `stackdb --help` lists them. Each arrives with its implementation. */
export const TOOLS: readonly ToolDescriptor[] = [];
