import test from 'ava';
import { ProgramSymbols, standardWalker } from '@stackdb/core';
import { run, systemTest } from '@stackdb/test-support';
import { PtraceTarget } from './index.js';
import { fixture } from './test-support/harness.js';

const loop = fixture('loop');

/** Names the same function may carry (glibc exports __libc_start_main as an alias of its _impl). */
const ALIASES: Record<string, string> = { __libc_start_main_impl: '__libc_start_main' };

systemTest(test, "a stopped thread's backtrace, unwound by core from this driver's registers and memory, matches gdb's", [{ command: 'gdb', package: 'gdb' }], async (t) => {
  const gdb = run('gdb', ['-batch', '-nx', '-ex', 'set backtrace past-main on', '-ex', 'break tick', '-ex', 'run', '-ex', 'p/x $pc', '-ex', 'bt', '--args', loop, '3'], { timeoutMs: 60_000 });
  const pc0 = BigInt(/^\$1 = (0x[0-9a-f]+)$/m.exec(gdb)![1]!);
  const expected = [...gdb.matchAll(/^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) /gm)].map((m) => ({ pc: m[2] ? BigInt(m[2]) : pc0, name: ALIASES[m[3]!] ?? m[3]! }));
  t.true(expected.length >= 4, gdb);

  const target = PtraceTarget.launch([loop, '3'], { stdout: '/dev/null' });
  await target.open();
  try {
    const program = new ProgramSymbols(target);
    const [tick] = await program.lookupSymbol('tick');
    await target.swBreakpoints.insert(tick!.start);
    await target.resume();
    const { events } = await target.wait();
    const hit = events.find((e) => e.kind === 'breakpoint');
    if (hit?.kind !== 'breakpoint') return t.fail('no breakpoint hit');
    const stack = await standardWalker(target, program).walkStack(await target.thread(hit.tid));
    const got = await Promise.all(stack.frames.map(async (f) => ({ pc: f.pc, name: (await program.symbolAt(f.lookupPc))?.name })));
    t.is(stack.end, 'bottom');
    t.deepEqual(got.map((f) => f.name), expected.map((f) => f.name));
    // Load addresses differ (gdb turns ASLR off) but biases are page-aligned.
    t.deepEqual(got.map((f) => f.pc & 0xfffn), expected.map((f) => f.pc & 0xfffn));
  } finally {
    await target.kill();
    await target.close();
  }
});
