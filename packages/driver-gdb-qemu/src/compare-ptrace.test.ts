import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ProgramSymbols, Registry, formatValue, loadGlobal, openTargets, parseCommandLine, standardWalker, type Target, type Thread } from '@stackdb/core';
import { repoRoot, systemTest } from '@stackdb/test-support';
import { ourBacktrace } from './test-support/gdb-backtrace.js';
import { GDBSERVER_NEEDS, VGDB_NEEDS, fixture, startGdbserver, startVgdb, symbols, type RunningStub } from './test-support/stubs.js';

/*
 * The same program seen through each stub and through the ptrace driver (loaded
 * through the registry, as a tool would; no package imports another driver):
 * stopped at the first call of checkpoint(), the pc, the argument, the return
 * address into main, globals, the thread count and core's backtrace (module,
 * function and offset of every frame, through libc to _start) must agree, and
 * so must the backtrace as a user reads it: every frame's function, file:line
 * and argument values, and the fixture's globals as typed values (addresses
 * are masked: Valgrind places stacks and libraries elsewhere).
 */

const registry = Registry.discover([path.join(repoRoot, 'node_modules')]);
const PTRACE: { check: () => string | undefined; what: string } = {
  what: 'the ptrace driver',
  check: () => (registry.find('base-driver', 'ptrace') ? undefined : 'not installed'),
};

interface Snapshot {
  readonly pc: bigint;
  readonly arg: bigint;
  /** The return address at the function's entry: where in main it was called from. */
  readonly returnAddress: bigint;
  readonly watched: bigint;
  readonly known: string;
  readonly threads: number;
  /** `module:function+offset` of every frame, innermost first. */
  readonly backtrace: readonly string[];
  /** `function (args) at file:line` of every frame, addresses masked. */
  readonly frames: readonly string[];
  /** The fixture's globals, formatted as gdb prints them. */
  readonly globals: Readonly<Record<string, string>>;
}

const mask = (text: string) => text.replace(/0x[0-9a-f]+/g, '0x…');

/** Frames as a user reads them: function, arguments, file:line (the file's base name). */
async function frames(target: Target, thread: Thread): Promise<string[]> {
  const program = new ProgramSymbols(target);
  const bt = await ourBacktrace(standardWalker(target, program), program, thread);
  // At a function's first instruction an -O0 build has not stored its arguments in their stack slots yet.
  return bt.map((f, i) => `${f.name} (${i === 0 ? '…' : mask(f.args.join(', '))})${f.file !== undefined ? ` at ${path.basename(f.file)}:${f.line}` : ''}`);
}

/** Globals by name through core's symbols and values. */
async function globals(target: Target, thread: Thread): Promise<Record<string, string>> {
  const program = new ProgramSymbols(target);
  const out: Record<string, string> = {};
  // (Not `counter`: the workers keep adding to it.)
  for (const name of ['known_bytes', 'watched', 'exit_code']) {
    const global = await loadGlobal(program, name, { thread });
    if (!global) throw new Error(`no global ${name}`);
    out[name] = await formatValue(global.value, { target, program });
  }
  return out;
}

/** Core's stack walk of a thread, as module-relative names (ASLR and Valgrind move libraries). */
async function backtrace(target: Target, thread: Thread): Promise<string[]> {
  const program = new ProgramSymbols(target);
  const stack = await standardWalker(target, program).walkStack(thread);
  const out: string[] = [];
  for (const f of stack.frames) {
    const sym = await program.symbolAt(f.lookupPc);
    out.push(sym ? `${sym.module.name}:${sym.name}+0x${(f.pc - sym.start).toString(16)}` : `?:0x${f.pc.toString(16)}`);
  }
  return out;
}

async function snapshot(target: Target, syms: Map<string, bigint>): Promise<Snapshot> {
  const at = syms.get('checkpoint')!;
  await target.swBreakpoints.insert(at);
  await target.resume();
  const bp = (await target.wait()).events.find((e) => e.kind === 'breakpoint');
  if (bp?.kind !== 'breakpoint') throw new Error('no breakpoint stop');
  await target.swBreakpoints.remove(at);
  const th = await target.thread(bp.tid);
  const regs = await th.registers();
  return {
    pc: regs.require('rip'),
    arg: regs.require('rdi'),
    returnAddress: await target.readPointer(regs.require('rsp')),
    watched: await target.readUnsigned(syms.get('watched')!, 8),
    known: await target.readString(syms.get('known_bytes')!),
    threads: (await target.threads()).length,
    backtrace: await backtrace(target, th),
    frames: await frames(target, th),
    globals: await globals(target, th),
  };
}

async function viaStub(start: (exe: string, args: string[]) => Promise<RunningStub>, exe: string, syms: Map<string, bigint>): Promise<Snapshot> {
  const stub = await start(exe, ['2']);
  try {
    const parsed = parseCommandLine(['--gdb-host', '127.0.0.1', '--gdb-port', String(stub.port)], { drivers: registry.drivers });
    const [target] = await openTargets(parsed.targets, registry);
    try {
      return await snapshot(target!, syms);
    } finally {
      await target!.close();
    }
  } finally {
    await stub.dispose();
  }
}

async function viaPtrace(exe: string, syms: Map<string, bigint>): Promise<Snapshot> {
  const parsed = parseCommandLine(['-b', exe, '--args', '2', '-O', path.join(os.devNull)], { drivers: registry.drivers });
  const [target] = await openTargets(parsed.targets, registry);
  try {
    return await snapshot(target!, syms);
  } finally {
    await target!.kill().catch(() => undefined);
    await target!.close();
  }
}

for (const [name, needs, start] of [['gdbserver', GDBSERVER_NEEDS, startGdbserver], ['vgdb', VGDB_NEEDS, startVgdb]] as const) {
  systemTest(test, `${name} and the ptrace driver see the same stop of the same program`, [...needs, PTRACE], async (t) => {
    const exe = fixture();
    const syms = symbols(exe);
    const a = await viaStub(start, exe, syms);
    const b = await viaPtrace(exe, syms);
    t.deepEqual(a, b);
    t.is(a.pc, syms.get('checkpoint')!);
    t.is(a.arg, 1n);
    const main = syms.get('main')!;
    t.true(a.returnAddress > main && a.returnAddress < main + 0x200n, 'called from main');
    t.is(a.threads, 3);
    t.deepEqual(a.backtrace.map((f) => f.replace(/\+0x[0-9a-f]+$/, '')).slice(0, 2), ['gdb-fixture:checkpoint', 'gdb-fixture:main']);
    t.regex(a.backtrace.at(-1)!, /^gdb-fixture:_start\+/);
    t.regex(a.frames[0]!, /^checkpoint \(…\) at fixture\.c:\d+$/);
    t.regex(a.frames[1]!, /^main \(argc=2, argv=0x…\) at fixture\.c:\d+$/);
    t.deepEqual(a.globals, { known_bytes: '"stackdb-gdb-known-bytes-0123456"', watched: '0', exit_code: '-1' });
  });
}
