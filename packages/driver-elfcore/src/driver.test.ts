import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Registry, parseCommandLine, openTargets } from '@stackdb/core';
import { repoRoot, systemTest } from '@stackdb/test-support';
import { ProcessCoreTarget } from './process/process-core-target.js';
import { makeGcore, threadsFixture } from './test-support/cores.js';

/*
 * The driver as tools reach it: discovered from its package.json declaration,
 * selected by --core, -M resolved to --core-exe once it is selected, and
 * loaded through its entry module (the built dist/driver.js).
 */

const registry = Registry.discover([path.join(repoRoot, 'node_modules')]);

test('--core selects the elfcore driver, and -M after it is --core-exe', (t) => {
  const parsed = parseCommandLine(['--core', '/tmp/core.1', '-M', '/tmp/prog', '-R', '/srv/root'], { drivers: registry.drivers });
  const [spec] = parsed.targets;
  t.is(spec?.driver, 'elfcore');
  t.is(spec?.selectedBy, '--core');
  t.deepEqual(spec?.options, { core: '/tmp/core.1', coreExe: '/tmp/prog' });
  t.is(spec?.common.debugfileRootPrefix, '/srv/root');
});

test('-M before any unique option is ambiguous among the drivers that have it', (t) => {
  t.throws(() => parseCommandLine(['-M', '/tmp/prog', '--core', '/tmp/core.1'], { drivers: registry.drivers }), { code: 'ERR_USAGE', message: /-M is an option of drivers .*elfcore.*: pass -t or a unique option first/ });
});

systemTest(test, 'openTargets opens a process core through the registry', [{ command: 'gcore', package: 'gdb' }, { command: 'gcc', package: 'gcc' }], async (t) => {
  const c = await makeGcore(threadsFixture());
  try {
    const parsed = parseCommandLine(['--core', c.core, '-M', c.exe], { drivers: registry.drivers });
    const [target] = await openTargets(parsed.targets, registry);
    try {
      // The registry loads the built dist/, so the class is not the one from src/.
      t.is(target!.constructor.name, ProcessCoreTarget.name, 'the entry module exports the driver');
      t.is(target!.status, 'paused');
      t.is(target!.name, `elfcore(core.${c.pid})`);
      t.is((await target!.threads()).length, 4);
    } finally {
      await target!.close();
    }
  } finally {
    fs.rmSync(c.dir, { recursive: true, force: true });
  }
});
