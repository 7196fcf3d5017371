import { JSON_OPTION, type ToolDescriptor } from '../tool.js';
import { RUN_OPTIONS } from '../session.js';

/** Options of the demo and of launched programs, for tools that run their targets. */
const DEMO_OPTIONS = RUN_OPTIONS.filter((o) => o.long === 'demo' || o.long === 'demo-threads' || o.long === 'kill');

/** Options of dumptarget and probetargets. */
const PROBE_OPTIONS = [
  JSON_OPTION,
  { long: 'return', help: 'Also probe each function\'s return: print its return value with the arguments it got' },
  { long: 'inlined', help: 'Also probe every inlined copy of each function' },
  { long: 'entry', help: 'Probe functions at their first instruction instead of after their prologue' },
  { long: 'step', help: 'Fire at every instruction of each function (single-stepping)' },
  { long: 'rw', help: 'Watchpoints catch reads as well as writes' },
  { long: 'hardware', help: 'Use hardware breakpoints for code probes' },
  { long: 'count', arg: 'N', type: 'uint' as const, help: 'Stop after N hits' },
  { long: 'tid', arg: 'TID', repeatable: true, help: 'Only hits in this thread (repeatable)' },
  { long: 'thread-name', arg: 'NAME', repeatable: true, help: 'Only hits in threads with this name (repeatable)' },
  { long: 'follow-forks', help: 'Follow forked children; they inherit the probes' },
  { long: 're-resolve', help: 'After an exec, place the probes again in the new program' },
  { long: 'pending', help: 'A probe on a function not loaded yet waits for the library that defines it (dlopen), and waits again when it is unloaded' },
  ...DEMO_OPTIONS,
];

/** Options of rop_checkret and cfi_check. */
const RETURN_CHECK_OPTIONS = [
  JSON_OPTION,
  { long: 'all', help: 'Print every return checked, not only violations' },
  { long: 'stop', help: 'Stop at the first violation (and detach, or kill with --kill)' },
  { long: 'count', arg: 'N', type: 'uint' as const, help: 'Stop after N returns checked' },
  ...DEMO_OPTIONS,
];

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
  {
    name: 'dumptarget',
    summary: 'Probe functions, lines, addresses or variables and print every hit with typed values',
    usage: '[options] [target options] SYMBOL|FILE:LINE|0xADDR|VAR|a.b.c ... [-- PROGRAM ARGS...]',
    description: 'Places a probe on each argument (functions after their prologue; OBJECT:NAME or FILE.c:NAME\nto choose; variables and a.b.c chains become hardware watchpoints), lets the targets run,\nand prints one line per hit: `func (0xADDR) (thread TID) arg = value, ...`. SIGINT stops and detaches.',
    targets: true,
    options: PROBE_OPTIONS,
    load: () => import('./dumptarget.js'),
  },
  {
    name: 'probetargets',
    summary: 'dumptarget on several targets (--base, --overlay): probes as ID:SYMBOL',
    usage: '[options] --base \'OPTS\' [--overlay \'[ID:]THREAD:OPTS\'] [ID:]SYMBOL ...',
    description: 'Opens every --base and --overlay target, places each probe on the target whose id (-i)\nprefixes it (the first target otherwise), and monitors them all together.',
    targets: true,
    options: PROBE_OPTIONS,
    load: () => import('./probetargets.js'),
  },
  {
    name: 'syscall',
    summary: 'Trace system calls (all, or --trace NAMES) with decoded arguments and return values',
    usage: '[options] [target options] [-- PROGRAM ARGS...]',
    description: 'Prints each system call of the target as strace does: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3`,\nwith names and argument types from the kernel\'s own declarations.',
    targets: true,
    options: [
      JSON_OPTION,
      { long: 'trace', arg: 'NAMES', repeatable: true, help: 'Only these system calls (comma-separated names)' },
      { long: 'string-limit', arg: 'N', type: 'uint', help: 'Longest string shown (default 32)' },
      { long: 'summary', help: 'Print counts per system call at the end instead of each call' },
      { long: 'follow-forks', help: 'Also trace the children the process forks' },
      ...DEMO_OPTIONS,
    ],
    load: () => import('./syscall.js'),
  },
  {
    name: 'rop_checkret',
    summary: 'Check that every return of the given functions goes back to a call site (a ROP detector)',
    usage: '[options] [target options] FUNCTION ... [-- PROGRAM ARGS...]',
    description: 'Disassembles each FUNCTION, probes its return instructions, and at each return checks that the\naddress it returns to follows a call instruction. Prints each violation (every return with --all);\nexits 1 when there was any.',
    targets: true,
    options: RETURN_CHECK_OPTIONS,
    load: () => import('./rop-checkret.js'),
  },
  {
    name: 'cfi_check',
    summary: 'Check every return of the given functions against the address their call pushed (a shadow stack)',
    usage: '[options] [target options] FUNCTION ... [-- PROGRAM ARGS...]',
    description: 'Probes the entry and the return instructions of each FUNCTION: at entry the return address is\nremembered per thread, at each return it must be the one about to be used. Prints each violation\n(every return with --all); frames left by longjmp are dropped; exits 1 when there was a violation.',
    targets: true,
    options: RETURN_CHECK_OPTIONS,
    load: () => import('./cfi-check.js'),
  },
  {
    name: 'spf',
    summary: 'Symbol Probing Filter: probe symbols and run actions when a filter matches (config file or arguments)',
    usage: '[options] [target options] [-C CONFIG] [\'SYMBOL [id(..)] [when(pre|post)] [vfilter(..)] [print()] ...\' ...] [-- PROGRAM ARGS...]',
    description: 'Each filter (a ProbeFilter line of CONFIG, or an argument) probes SYMBOL; at each hit the enabled\nfilters whose stage, vfilter (NAME=/REGEX/ on arguments, __RETURN__) and tfilter (tid, ptid, name, ...)\nmatch run their actions: print(), bt(), report(...), enable/disable/remove(ID), abort(CODE), exit(CODE).\nSIGHUP or SIGUSR2 reads CONFIG again.',
    targets: true,
    options: [
      { long: 'config', short: 'C', arg: 'FILE', type: 'path', help: 'Read ProbeFilter lines from FILE' },
      ...DEMO_OPTIONS,
    ],
    load: () => import('./spf/spf.js'),
  },
];
