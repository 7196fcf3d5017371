import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { systemTest, type Need } from '@stackdb/test-support';
import { Running, plainOutput, probeFixture, stackdb, stackdbBin, tmpDir } from '../test-support/probes.js';
import { SpfConfigError, parseConfig, parseFilter } from './config.js';

const NEEDS: Need[] = [{ command: 'gcc', package: 'gcc' }];

test('config: ProbeFilter lines with continuations, comments, regexes holding commas and parentheses, actions in order', (t) => {
  const filters = parseConfig([
    '# a comment',
    '',
    'ProbeFilter sys_open id(o) when(post) vfilter(filename=/^\\/etc\\/(a,b)/,__RETURN__=/^3$/) \\',
    '    tfilter(name=/bash/) print() report(rt=i,tn=opens,rv=1,msg="an (open), with commas") disable(o) abort(-1) exit(0x2)',
    'ProbeFilter add disable()',
  ].join('\n'), 'spf.conf');
  t.is(filters.length, 2);
  const [open, add] = filters;
  t.like(open, { symbol: 'sys_open', id: 'o', when: 'post', disabled: false, where: 'spf.conf:3' });
  t.deepEqual(open!.vfilter.map((m) => [m.name, m.re.source]), [['filename', '^\\/etc\\/(a,b)'], ['__RETURN__', '^3$']]);
  t.deepEqual(open!.tfilter.map((m) => [m.name, m.re.source]), [['name', 'bash']]);
  t.deepEqual(open!.actions, [
    { kind: 'print' },
    { kind: 'report', fields: { rt: 'i', tn: 'opens', rv: '1', msg: 'an (open), with commas' } },
    { kind: 'disable', id: 'o' },
    { kind: 'abort', code: -1n },
    { kind: 'exit', code: 2 },
  ]);
  t.like(add, { symbol: 'add', disabled: true, actions: [{ kind: 'print' }] });
});

test('config errors name the line and what is wrong', (t) => {
  const bad = (text: string) => t.throws(() => parseConfig(text, 'f'), { instanceOf: SpfConfigError }).message;
  t.is(bad('Probe add'), 'f:1: unknown directive "Probe" (only ProbeFilter is)');
  t.is(bad('ProbeFilter add when(later)'), 'f:1: when() is pre or post, not "later"');
  t.is(bad('ProbeFilter add vfilter(a=/(/)'), 'f:1: vfilter: a=/(/: Invalid regular expression: /(/: Unterminated group');
  t.is(bad('ProbeFilter add tfilter(color=/x/)'), 'f:1: tfilter: unknown name color (one of tid, ptid, tidhier, name, namehier, uid, gid)');
  t.is(bad('ProbeFilter add print('), 'f:1: print( has no closing parenthesis');
  t.is(bad('ProbeFilter add enable(x)'), 'f:1: enable(x): no filter has that id');
  t.is(bad('ProbeFilter add id(x)\nProbeFilter sub id(x)'), 'f:2: id x is given twice');
  t.is(bad('ProbeFilter add exit(soon)'), 'f:1: exit() wants an integer, not "soon"');
  t.is(bad('ProbeFilter add print() print()'), 'f:1: print may be given once');
  t.like(parseFilter('add', 'argument 1'), { symbol: 'add', actions: [{ kind: 'print' }] });
});

systemTest(test, 'spf on a launched program: print() at entry and return, vfilter on an argument and on __RETURN__, report(), disable(ID), remove(ID), exit(CODE)', NEEDS, (t) => {
  const probed = probeFixture('probed');
  const dir = tmpDir();
  const conf = path.join(dir, 'spf.conf');
  fs.writeFileSync(conf, [
    'ProbeFilter add print()',
    'ProbeFilter describe id(desc) when(post) vfilter(n=/^[02]$/) print()',
    'ProbeFilter add when(post) vfilter(__RETURN__=/^6$/) report(rt=i,tn=add_six,rv=6,msg="six") disable(desc)',
  ].join('\n'));
  const r = stackdb(['spf', '-C', conf, '--', probed, 'calls', '4']);
  t.is(r.status, 0, r.stderr);
  const ours = r.stdout.split('\n').filter((l) => /^(add|describe) \(|^RESULT::/.test(l));
  t.deepEqual(ours, [
    'add (a = 0,b = 0)',
    'describe (what = item,n = 0) = item#0',
    'add (a = 1,b = 2)',
    'add (a = 2,b = 4)',
    'RESULT:: (i:1) add_six (0) 6 "six" (a=2,b=4,__RETURN__=6) ::RESULT',
    'add (a = 3,b = 6)',
  ], 'describe(item, 2) is not printed: the report disabled its filter first');
  const exit = stackdb(['spf', 'add vfilter(a=/^2$/) exit(7)', '--', probed, 'calls', '4']);
  t.is(exit.status, 7, exit.stderr);
  const once = stackdb(['spf', 'add id(a) print() remove(a)', 'describe print()', '--', probed, 'calls', '3']);
  t.is(once.status, 0, once.stderr);
  t.deepEqual(once.stdout.split('\n').filter((l) => /^(add|describe) \(/.test(l)), ['add (a = 0,b = 0)', 'describe (what = item,n = 0)', 'describe (what = item,n = 1)', 'describe (what = item,n = 2)'], 'remove(a) removed add\'s only filter, and its probe');
});

systemTest(test, 'spf abort(CODE) returns from the function at once with CODE; its when(post) filter sees that value', NEEDS, (t) => {
  const probed = probeFixture('probed');
  const r = stackdb(['spf', 'check_password abort(1)', 'check_password when(post) print()', '--', probed, 'guard']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^check_password \(pw = guess\) = 1$/m);
  t.regex(r.stdout, /^access granted$/m);
  t.notRegex(r.stdout, /check_password\("guess"\)/, 'the function body never ran');
});

systemTest(test, 'spf syscall:NAME filters: decoded arguments at entry, __RETURN__ at exit; each write the program makes, as it wrote it', NEEDS, (t) => {
  const probed = probeFixture('probed');
  const r = stackdb(['spf', 'syscall:openat when(post) vfilter(filename=/libc\\.so/) print()', 'syscall:write vfilter(fd=/^1$/) print()', '--', probed, 'calls', '2']);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.regex(lines.find((l) => l.startsWith('syscall:openat'))!, /^syscall:openat \(dfd = AT_FDCWD,filename = \S+\/libc\.so\.6,flags = O_RDONLY\|O_CLOEXEC\) = \d+$/);
  const writes = lines.filter((l) => l.startsWith('syscall:write')).map((l) => /,buf = (.*),count = (\d+)\)$/.exec(l)!);
  const program = plainOutput([probed, 'calls', '2']).split('\n').filter(Boolean);
  t.deepEqual(writes.map((m) => m[1]), program.map((l) => `${l.replaceAll('"', '\\"')}\\n`), 'each line the program wrote, escaped as strace shows it');
  t.deepEqual(writes.map((m) => Number(m[2])), program.map((l) => Buffer.byteLength(l) + 1));
  const bad = stackdb(['spf', 'syscall:no_such_call', '--', probed]);
  t.is(bad.status, 2);
  t.deepEqual(bad.stderr.trim().split('\n'), ['stackdb: syscall:no_such_call: no system call named no_such_call']);
});

systemTest(test, 'spf: SIGHUP reads the config again and places the new filters; a broken config keeps the old ones; SIGINT detaches', NEEDS, async (t) => {
  const probed = probeFixture('probed');
  const dir = tmpDir();
  const conf = path.join(dir, 'spf.conf');
  fs.writeFileSync(conf, 'ProbeFilter add print()\n');
  const target = new Running([probed, 'wait']);
  const pid = Number((await target.waitFor(/^ready (\d+)$/m))[1]);
  const spf = new Running([process.execPath, stackdbBin, 'spf', '-p', String(pid), '-C', conf], { stdin: 'ignore' });
  await spf.waitFor(/Registered probe add/, 'stderr');
  target.write('one\n');
  await spf.waitFor(/^add \(a = 0,b = 0\)$/m);
  fs.writeFileSync(conf, 'ProbeFilter add when(post) print()\n');
  spf.child.kill('SIGHUP');
  await spf.waitFor(/^Reloaded /m, 'stderr');
  target.write('two\n');
  await spf.waitFor(/^add \(a = 1,b = 1\) = 2$/m);
  fs.writeFileSync(conf, 'ProbeFilter add when(never)\n');
  spf.child.kill('SIGUSR2');
  await spf.waitFor(/reload: .*when\(\) is pre or post/, 'stderr');
  target.write('three\n');
  await spf.waitFor(/^add \(a = 2,b = 2\) = 4$/m);
  t.false(spf.stdout.includes('add (a = 1,b = 1)\n'), 'the first filter is gone');
  spf.child.kill('SIGINT');
  t.deepEqual(await spf.exited, { code: 0, signal: null });
  t.regex(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^TracerPid:\s+0$/m);
  target.end();
  t.deepEqual(await target.exited, { code: 0, signal: null });
});

systemTest(test, 'spf errors: no filter, a missing config, a bad line, an unknown symbol: one line each, exit 2', NEEDS, (t) => {
  const probed = probeFixture('probed');
  const dir = tmpDir();
  const bad = path.join(dir, 'bad.conf');
  fs.writeFileSync(bad, 'ProbeFilter add\nProbeFilter add when(soon)\n');
  for (const [args, message] of [
    [['--', probed], 'stackdb: nothing to probe: give -C FILE or SYMBOL arguments'],
    [['-C', path.join(dir, 'none.conf'), '--', probed], `stackdb: cannot read ${path.join(dir, 'none.conf')}: no such file`],
    [['-C', bad, '--', probed], `stackdb: ${bad}:2: when() is pre or post, not "soon"`],
    [['no_such_symbol', '--', probed], 'stackdb: cannot probe no_such_symbol: no function or variable named no_such_symbol'],
  ] as const) {
    const r = stackdb(['spf', ...args]);
    t.is(r.status, 2, r.stderr);
    t.deepEqual(r.stderr.trim().split('\n'), [message]);
  }
});
