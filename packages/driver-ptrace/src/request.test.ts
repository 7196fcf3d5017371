import test from 'ava';
import type { CommonOptions } from '@stackdb/core';
import { PtraceAttachError } from './errors.js';
import { requestFromSpec, resolveProgram } from './request.js';

const common: CommonOptions = { activeProbing: [], debugfileLoadOpts: [], softBreakpoints: false };

test('-p attaches; it cannot be mixed with launch options', (t) => {
  t.deepEqual(requestFromSpec({ options: { pid: 42 }, common }), { kind: 'attach', pid: 42 });
  t.throws(() => requestFromSpec({ options: { pid: 42, program: '/bin/true' }, common }), { code: 'ERR_USAGE', message: /-b/ });
  t.throws(() => requestFromSpec({ options: { pid: 42 }, common: { ...common, outFile: 'x' } }), { code: 'ERR_USAGE', message: /-O/ });
});

test('-b with --args, or the vector after --, with -e added to the environment and stdio files', (t) => {
  const r = requestFromSpec({ options: { program: '/bin/echo', args: ['a', 'b'], envvars: ['FOO=1', 'BAR=x=y'] }, common: { ...common, outFile: '/tmp/o' } });
  if (r.kind !== 'launch') return t.fail();
  t.deepEqual(r.plan.argv, ['/bin/echo', 'a', 'b']);
  t.is(r.plan.file, '/bin/echo');
  t.true(r.plan.env.includes('FOO=1'));
  t.true(r.plan.env.includes('BAR=x=y'));
  t.true(r.plan.env.some((e) => e.startsWith('PATH=')), 'the environment is inherited');
  t.is(r.plan.stdout, '/tmp/o');
  const v = requestFromSpec({ options: {}, common, program: ['sh', '-c', 'true'] });
  if (v.kind !== 'launch') return t.fail();
  t.deepEqual(v.plan.argv, ['sh', '-c', 'true']);
  t.is(v.plan.file, resolveProgram('sh'));
});

test('usage errors name what is wrong', (t) => {
  t.throws(() => requestFromSpec({ options: {}, common }), { code: 'ERR_USAGE', message: /-p PID, -b PROGRAM/ });
  t.throws(() => requestFromSpec({ options: { args: ['x'] }, common }), { code: 'ERR_USAGE', message: /--args needs -b/ });
  t.throws(() => requestFromSpec({ options: { program: '/bin/true' }, common, program: ['/bin/true'] }), { code: 'ERR_USAGE' });
  t.throws(() => requestFromSpec({ options: { program: '/bin/true', envvars: ['NOEQUALS'] }, common }), { code: 'ERR_USAGE', message: /NAME=VALUE/ });
});

test('programs are searched in PATH like execvp', (t) => {
  t.is(resolveProgram('true', '/nonexistent:/bin'), '/bin/true');
  const err = t.throws(() => resolveProgram('no-such-program-here', '/bin'));
  t.true(err instanceof PtraceAttachError);
  t.is((err as PtraceAttachError).code, 'ERR_EXEC');
  t.is((err as PtraceAttachError).exitCode, 6);
});
