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
];
