#!/usr/bin/env node
// `npm run demo`: build, then launch the bundled demo program under ptrace and print its backtrace.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '--output-style=static'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NX_DAEMON: 'false' } });
if (build.status !== 0) {
  console.error('demo: the build failed');
  process.exit(1);
}
const r = spawnSync(process.execPath, [path.join(root, 'packages/cli/bin/stackdb.js'), 'backtrace', '--demo', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
