import test from 'ava';
import { run, systemTest, type Need } from '@stackdb/test-support';
import { probeFixture, stackdb } from './test-support/probes.js';

/*
 * rop_checkret and cfi_check on fixtures that hijack their own returns; every
 * address they print is checked against objdump's disassembly of the fixture.
 */

const NEEDS: Need[] = [{ command: 'gcc', package: 'gcc' }, { command: 'objdump', package: 'binutils' }];

/** objdump's view of a fixture: each function's `ret` offsets, and the offsets in a caller right after its calls to a callee. */
function disassembly(exe: string) {
  const fns = new Map<string, { start: number; lines: { at: number; insn: string }[] }>();
  let current: { start: number; lines: { at: number; insn: string }[] } | undefined;
  for (const line of run('objdump', ['-d', '--no-show-raw-insn', exe]).split('\n')) {
    const head = /^([0-9a-f]+) <([^>]+)>:$/.exec(line);
    if (head) fns.set(head[2]!, (current = { start: parseInt(head[1]!, 16), lines: [] }));
    const insn = /^\s+([0-9a-f]+):\s+(.*)$/.exec(line);
    if (insn && current) current.lines.push({ at: parseInt(insn[1]!, 16), insn: insn[2]!.trim() });
  }
  const rel = (fn: string, at: number) => `${fn}+0x${(at - fns.get(fn)!.start).toString(16)}`;
  return {
    rets: (fn: string) => fns.get(fn)!.lines.filter((l) => /^ret/.test(l.insn)).map((l) => rel(fn, l.at)),
    after: (caller: string, callee: string) => {
      const lines = fns.get(caller)!.lines;
      return lines.flatMap((l, i) => (new RegExp(`^call.*<${callee}>`).test(l.insn) ? [rel(caller, lines[i + 1]!.at)] : []));
    },
  };
}

function jsonLines<T>(stdout: string): T[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T);
}

systemTest(test, 'rop_checkret: good returns go back after their call; a return hijacked to a function entry is the one violation', NEEDS, (t) => {
  const exe = probeFixture('rop');
  const d = disassembly(exe);
  const r = stackdb(['rop_checkret', '--all', '--json', 'good', 'hijacked', '--', exe]);
  t.is(r.status, 1, r.stderr);
  const checks = jsonLines<{ function: string; retSymbol: string; toSymbol: string; valid: boolean }>(r.stdout);
  t.deepEqual(checks.map((c) => [c.function, c.retSymbol, c.toSymbol, c.valid]), [
    ...[0, 1, 2].map(() => ['good', d.rets('good')[0], d.after('main', 'good')[0], true]),
    ['hijacked', d.rets('hijacked')[0], 'landing', false],
  ]);
  t.regex(r.stdout, /^landed$/m, 'the hijacked program ran on');
});

systemTest(test, 'rop_checkret text: only the violation is printed, then the count; unknown functions and no functions are one error line each', NEEDS, (t) => {
  const exe = probeFixture('rop');
  const r = stackdb(['rop_checkret', 'good', 'hijacked', '--', exe]);
  t.is(r.status, 1, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.includes('returned'));
  t.is(lines.length, 1);
  t.regex(lines[0]!, /^ROP violation: hijacked returned from 0x[0-9a-f]+ \(hijacked\+0x[0-9a-f]+\) to 0x[0-9a-f]+ \(landing\), which follows no call \(thread \d+\)$/);
  t.regex(r.stderr, /^4 returns checked, 1 violation\.$/m);
  const bad = stackdb(['rop_checkret', 'no_such_function', '--', exe]);
  t.is(bad.status, 2);
  t.deepEqual(bad.stderr.trim().split('\n'), ['stackdb: cannot check no_such_function: no function named no_such_function']);
  const none = stackdb(['cfi_check', '--', exe]);
  t.is(none.status, 2);
  t.is(none.stderr.trim().split('\n').length, 1, none.stderr);
});

systemTest(test, 'cfi_check: calls, a recursion and a longjmp return as called; a return redirected to another real call site is the one violation', NEEDS, (t) => {
  const exe = probeFixture('cfi');
  const d = disassembly(exe);
  const r = stackdb(['cfi_check', '--all', '--json', 'good', 'fact', 'deep', 'swap', '--', exe]);
  t.is(r.status, 1, r.stderr);
  const checks = jsonLines<{ function: string; toSymbol: string; expectedSymbol: string; valid: boolean }>(r.stdout);
  const [loop, late] = d.after('main', 'good');
  const inFact = d.after('fact', 'fact')[0];
  t.deepEqual(checks.map((c) => [c.function, c.toSymbol, c.expectedSymbol, c.valid]), [
    ...[0, 1, 2].map(() => ['good', loop, loop, true]),
    ...[0, 1, 2].map(() => ['fact', inFact, inFact, true]),
    ['fact', d.after('main', 'fact')[0], d.after('main', 'fact')[0], true],
    ['good', late, late, true],
    ['swap', d.after('main', 'middle')[0], d.after('middle', 'swap')[0], false],
  ]);
  const text = stackdb(['cfi_check', 'good', 'fact', 'deep', 'swap', '--', exe]);
  t.is(text.status, 1);
  t.deepEqual(text.stdout.split('\n').filter((l) => l.includes('returned')).map((l) => l.replace(/0x[0-9a-f]+ /g, 'ADDR ').replace(/thread \d+/, 'thread N')),
    [`CFI violation: swap returned to ADDR (${d.after('main', 'middle')[0]}), but its call was to return to ADDR (${d.after('middle', 'swap')[0]}) (thread N)`]);
  t.regex(text.stderr, /^9 returns checked, 1 violation\.$/m);
});
