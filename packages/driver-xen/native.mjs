#!/usr/bin/env node
// Builds the native addon when the Xen development files are installed:
//   node native.mjs install   at npm install (node-gyp-build: a prebuild, else a local build)
//   node native.mjs build     in the repository's build (prebuildify)
// Without them nothing is built and the driver says what to install when it is used.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const headers = ['/usr/include/xenctrl.h', '/usr/include/xenforeignmemory.h', '/usr/include/xenstore.h'];
if (!headers.every((h) => fs.existsSync(h))) {
  console.log('@stackdb/driver-xen: the Xen development files are not installed (Debian: libxen-dev): its native addon is not built');
  process.exit(0);
}
const [cmd, ...args] = process.argv[2] === 'build' ? ['prebuildify', '--napi', '--strip'] : ['node-gyp-build'];
const r = spawnSync(cmd, args, { stdio: 'inherit', shell: true });
process.exit(r.status ?? 1);
