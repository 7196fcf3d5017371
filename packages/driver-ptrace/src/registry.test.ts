import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Registry, formatHelp, openTargets, parseCommandLine } from '@stackdb/core';
import { packageRoot } from './binding.js';
import { PtraceTarget } from './index.js';
import { tmpDir } from './test-support/harness.js';

const registry = Registry.discover([packageRoot]);

test('the package declares the ptrace base driver and its options, found without importing it', (t) => {
  const d = registry.find('driver', 'ptrace');
  t.truthy(d);
  t.is(d!.kind, 'base-driver');
  t.deepEqual(d!.options!.map((o) => [o.short ?? '', o.long]), [['', 'args'], ['b', 'program'], ['e', 'envvars'], ['p', 'pid']]);
  t.truthy(d!.program);
  const help = formatHelp({ usage: 'x', drivers: registry.drivers });
  t.regex(help, /-p, --pid=PID\s+A target process to attach to\./);
  t.regex(help, /-- PROGRAM \[ARGS\.\.\.\]/);
});

test('options select the driver: -p, -b with --args and -e, or a program after --', (t) => {
  const p = parseCommandLine(['-p', '123'], { drivers: registry.drivers }).targets[0]!;
  t.is(p.driver, 'ptrace');
  t.is(p.options.pid, 123);
  const b = parseCommandLine(['-b', '/bin/echo', '--args=a,b', '-e', 'X=1,Y=2'], { drivers: registry.drivers }).targets[0]!;
  t.deepEqual(b.options.args, ['a', 'b']);
  t.deepEqual(b.options.envvars, ['X=1', 'Y=2']);
  const v = parseCommandLine(['--', 'sh', '-c', 'true'], { drivers: registry.drivers }).targets[0]!;
  t.is(v.driver, 'ptrace');
  t.deepEqual(v.program, ['sh', '-c', 'true']);
});

test('the registry loads the entry module and opens a launched target from a command line', async (t) => {
  const out = path.join(tmpDir(), 'out');
  const specs = parseCommandLine(['-O', out, '-e', 'GREETING=hello', '--', 'sh', '-c', 'echo "$GREETING $0"', 'world'], { drivers: registry.drivers }).targets;
  const [target] = await openTargets(specs, registry);
  t.is(target!.constructor.name, PtraceTarget.name);
  t.is(target!.status, 'paused');
  const r = await target!.monitor();
  await target!.close();
  t.deepEqual(r.status, { code: 0 });
  t.is(fs.readFileSync(out, 'utf8'), 'hello world\n');
});
