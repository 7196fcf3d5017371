import test from 'ava';
import { run, systemTest, type Need } from '@stackdb/test-support';
import { probeFixture, stackdb } from './test-support/probes.js';

const NEEDS: Need[] = [{ command: 'gcc', package: 'gcc' }, { command: 'objdump', package: 'binutils' }];

/** objdump's view of the fixture: each function's `ret` offsets, and the offset in main after each call to good. */
function objdumpFacts(exe: string) {
  const text = run('objdump', ['-d', '--no-show-raw-insn', exe]);
  const fns = new Map<string, { start: number; lines: { at: number; insn: string }[] }>();
  let current: { start: number; lines: { at: number; insn: string }[] } | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+) <([^>]+)>:$/.exec(line);
    if (head) fns.set(head[2]!, (current = { start: parseInt(head[1]!, 16), lines: [] }));
    const insn = /^\s+([0-9a-f]+):\s+(.*)$/.exec(line);
    if (insn && current) current.lines.push({ at: parseInt(insn[1]!, 16), insn: insn[2]!.trim() });
  }
  const rel = (fn: string, at: number) => `${fn}+0x${(at - fns.get(fn)!.start).toString(16)}`;
  const rets = (fn: string) => fns.get(fn)!.lines.filter((l) => /^ret/.test(l.insn)).map((l) => rel(fn, l.at));
  const main = fns.get('main')!.lines;
  const afterGood = main.flatMap((l, i) => (/^call.*<good>/.test(l.insn) ? [rel('main', main[i + 1]!.at)] : []));
  return { rets, afterGood };
}

systemTest(test, 'rop_checkret: good returns go back after their call; a return hijacked to a function entry is the one violation (objdump for every address)', NEEDS, (t) => {
  const exe = probeFixture('rop');
  const facts = objdumpFacts(exe);
  const r = stackdb(['rop_checkret', '--all', '--json', 'good', 'hijacked', '--', exe]);
  t.is(r.status, 1, r.stderr);
  const checks = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { function: string; retSymbol: string; toSymbol: string; valid: boolean });
  t.deepEqual(checks.map((c) => [c.function, c.retSymbol, c.toSymbol, c.valid]), [
    ...[0, 1, 2].map(() => ['good', facts.rets('good')[0], facts.afterGood[0], true]),
    ['hijacked', facts.rets('hijacked')[0], 'landing', false],
  ]);
  t.regex(r.stdout, /^landed$/m, 'the hijacked program ran on');
});

systemTest(test, 'rop_checkret text: only the violation is printed; unknown functions and no functions are one error line each', NEEDS, (t) => {
  const exe = probeFixture('rop');
  const r = stackdb(['rop_checkret', 'good', 'hijacked', '--', exe]);
  t.is(r.status, 1, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.includes('returned'));
  t.is(lines.length, 1);
  t.regex(r.stderr, /^4 returns checked, 1 violation\.$/m);
  t.regex(lines[0]!, /^ROP violation: hijacked returned from 0x[0-9a-f]+ \(hijacked\+0x[0-9a-f]+\) to 0x[0-9a-f]+ \(landing\), which follows no call \(thread \d+\)$/);
  const bad = stackdb(['rop_checkret', 'no_such_function', '--', exe]);
  t.is(bad.status, 2);
  t.deepEqual(bad.stderr.trim().split('\n'), ['stackdb: cannot check no_such_function: no function named no_such_function']);
  const none = stackdb(['rop_checkret', '--', exe]);
  t.is(none.status, 2);
  t.is(none.stderr.trim().split('\n').length, 1, none.stderr);
});
