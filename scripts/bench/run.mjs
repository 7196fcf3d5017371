#!/usr/bin/env node
// `npm run bench`: runs every benchmark module of the repository, one process
// each, in name order: scripts/bench/*.bench.mjs, then packages/*/bench/*.bench.mjs.
// Each prints its own table. Arguments after `--` are passed to every module;
// `npm run bench -- --only backtrace` runs the modules whose name contains a word.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
const passed = onlyAt >= 0 ? [...argv.slice(0, onlyAt), ...argv.slice(onlyAt + 2)] : argv;

function benchFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.bench.mjs')).sort().map((f) => path.join(dir, f));
}

const files = [
  ...benchFiles(path.join(root, 'scripts/bench')),
  ...fs.readdirSync(path.join(root, 'packages')).sort().flatMap((p) => benchFiles(path.join(root, 'packages', p, 'bench'))),
].filter((f) => only === undefined || path.basename(f).includes(only));

if (!files.length) {
  console.error(`bench: no benchmark modules${only ? ` matching '${only}'` : ''}`);
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n== ${path.relative(root, f)}\n`);
  const r = spawnSync(process.execPath, [f, ...passed], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    failed++;
    console.log(`(${path.relative(root, f)} failed: ${r.status ?? r.signal})`);
  }
}
process.exit(failed ? 1 : 0);
