import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'ava';
import { repoRoot, systemTest, type Need } from '@stackdb/test-support';
import { binding, packageRoot } from './binding.js';

/*
 * This machine is no Xen host: what can be checked here is that the addon is
 * built against the real Xen libraries and loads, and that without a
 * hypervisor the libraries' own failure becomes one clear error line. Reading
 * a live domain's vCPUs and memory needs a Domain 0 and is not tested here.
 */

const NEEDS: Need[] = [{ file: '/usr/include/xenctrl.h', package: 'libxen-dev', what: "Xen's development files" }];
const BIN = path.join(repoRoot, 'packages/cli/bin/stackdb.js');
const onXen = fs.existsSync('/dev/xen/privcmd') || fs.existsSync('/proc/xen/privcmd');

function stackdb(args: readonly string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

systemTest(test, 'the addon is built against libxenctrl, libxenforeignmemory and libxenstore, and loads with every entry point', NEEDS, (t) => {
  const lib = binding();
  for (const f of ['open', 'domains', 'domainInfo', 'pause', 'unpause', 'vcpuRegisters', 'readFrame', 'writeFrame', 'setDebugging'] as const) t.is(typeof lib[f], 'function', f);
  t.is(lib.pageSize, 4096);
  const addon = (createRequire(import.meta.url)('node-gyp-build') as { path(dir: string): string }).path(packageRoot);
  const ldd = spawnSync('ldd', [addon], { encoding: 'utf8' }).stdout;
  for (const so of ['libxenctrl', 'libxenforeignmemory', 'libxenstore']) t.regex(ldd, new RegExp(`${so}\\.so`), so);
});

systemTest(test, 'without a hypervisor: the libraries refuse to open, as one error line and exit 1; no -m is a usage error', NEEDS, (t) => {
  if (onXen) {
    t.pass('this machine is a Xen host: the refusal cannot be seen');
    return;
  }
  t.throws(() => binding().open(), { message: /^xc_interface_open: / });
  const r = stackdb(['backtrace', '-t', 'xen', '-m', 'vm1']);
  t.is(r.status, 1);
  t.deepEqual(r.stderr.trim().split('\n'), [`stackdb: xen: cannot open the Xen control interface (xc_interface_open: ${/No such file or directory|Permission denied/.exec(r.stderr)?.[0] ?? '?'}): run stackdb in Domain 0 of a Xen host, as root`]);
  const usage = stackdb(['dumpthreads', '-t', 'xen']);
  t.is(usage.status, 2);
  t.deepEqual(usage.stderr.trim().split('\n'), ['stackdb: xen: give the domain to attach to with -m ID|NAME']);
});

test('stackdb --help lists the xen driver and its options', (t) => {
  const r = stackdb(['backtrace', '--help']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /xen/);
  t.regex(r.stdout, /-m, --domain=DOMAIN/);
});
