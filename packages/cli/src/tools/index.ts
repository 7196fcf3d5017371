import { JSON_OPTION, type ToolDescriptor } from '../tool.js';
import { RUN_OPTIONS } from '../session.js';

/** The tools, in the order `stackdb --help` lists them. */
export const TOOLS: readonly ToolDescriptor[] = [
  {
    name: 'backtrace',
    summary: 'Print every thread\'s stack with typed arguments, then detach',
    usage: '[options] [target options] [-- PROGRAM ARGS...]',
    description: 'Prints, for each thread, its frames as `#N 0xADDR in func (arg=val, ...) at file:line`,\ninlined calls as frames of their own, then detaches leaving the program running.',
    targets: true,
    options: [
      JSON_OPTION,
      { long: 'thread', arg: 'TID', type: 'uint', help: 'Only this thread' },
      { long: 'depth', arg: 'N', type: 'uint', help: 'At most N frames per thread' },
      { long: 'locals', help: 'Also print each frame\'s local variables' },
      ...RUN_OPTIONS,
    ],
    load: () => import('./backtrace.js'),
  },
  {
    name: 'dumpthreads',
    summary: 'Print each thread\'s state and registers, once or at an interval',
    usage: '[options] [target options] [-- PROGRAM ARGS...]',
    targets: true,
    options: [
      JSON_OPTION,
      { long: 'interval', arg: 'MS', type: 'uint', help: 'Dump again every MS milliseconds (the target runs in between)' },
      { long: 'count', arg: 'N', type: 'uint', help: 'Number of dumps with --interval (default: until interrupted)' },
      { long: 'all-registers', help: 'Include FP and vector registers' },
      ...RUN_OPTIONS,
    ],
    load: () => import('./dumpthreads.js'),
  },
  {
    name: 'dumpdebuginfo',
    summary: 'Dump a file\'s debuginfo (types, globals, scopes, symbol tables, ranges) or look symbols and addresses up',
    usage: '[options] FILE [SYMBOL | ADDR | FILE:LINE | a.b.c ...]',
    description: 'Reads, indexes and displays a binary\'s debuginfo in the hierarchy of the source program;\nwith names or addresses after FILE, prints only what they resolve to.',
    targets: false,
    options: [
      JSON_OPTION,
      { long: 'detail', short: 'D', type: 'count', help: 'Increase the level of detail shown' },
      { long: 'metadata', short: 'M', type: 'count', help: 'Increase the level of metadata shown (location info)' },
      { long: 'debugfile-load-opts', short: 'F', arg: 'LOAD-OPTS', repeatable: true, help: 'Debuginfo load options (PARTIALSYM, FULLSYM, ...; an rfilter)' },
      { long: 'no-types', short: 'T', help: 'Disable display of global types' },
      { long: 'no-globals', short: 'G', help: 'Disable display of global variables/functions' },
      { long: 'no-symtabs', short: 'S', help: 'Disable display of symbol tables' },
      { long: 'no-ranges', short: 'R', help: 'Disable display of ranges' },
      { long: 'no-elf-symtabs', short: 'E', help: 'Disable display of ELF symbol tables' },
      { long: 'no-free', short: 'N', help: "Don't waste time freeing data structures on exit (accepted; nothing to free)" },
      { long: 'section-load', short: 'I', arg: 'N:ADDR,...', type: 'list', repeatable: true, help: 'Section N (index or name) was loaded at ADDR (relocatable files)' },
      { long: 'base-address', short: 'i', arg: 'ADDR', help: 'The file is loaded at ADDR: addresses given for lookup are runtime addresses' },
    ],
    load: () => import('./dumpdebuginfo.js'),
  },
];
