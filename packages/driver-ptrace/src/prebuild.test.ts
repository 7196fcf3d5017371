import { spawnSync } from 'node:child_process';
import test from 'ava';
import { packageRoot } from './binding.js';

test('the shipped prebuild loads alone (PREBUILDS_ONLY=1) and works', (t) => {
  const script = `const b = require('node-gyp-build')(${JSON.stringify(packageRoot)}); console.log(b.tracerTid() === process.pid, b.constants.userRegsSize, require('node-gyp-build').path(${JSON.stringify(packageRoot)}))`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: packageRoot, env: { ...process.env, PREBUILDS_ONLY: '1' }, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const [same, size, file] = r.stdout.trim().split(' ');
  t.is(same, 'true');
  t.is(size, '216');
  t.regex(file!, /\/prebuilds\/linux-x64\/[^/]+\.node$/);
});
