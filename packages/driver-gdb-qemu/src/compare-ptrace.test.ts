import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Registry, openTargets, parseCommandLine, type Target } from '@stackdb/core';
import { repoRoot, systemTest } from '@stackdb/test-support';
import { GDBSERVER_NEEDS, VGDB_NEEDS, fixture, startGdbserver, startVgdb, symbols, type RunningStub } from './test-support/stubs.js';

/*
 * The same program seen through each stub and through the ptrace driver (loaded
 * through the registry, as a tool would; no package imports another driver):
 * stopped at the first call of checkpoint(), the pc, the argument, the return
 * address into main (the first step of a backtrace), globals and the thread
 * count must agree. Full backtraces and typed variable values are to be
 * compared the same way once the unwinder and value layers exist.
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
  });
}
