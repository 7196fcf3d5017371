#!/usr/bin/env node
// Joins a package's compiled modules into one file per entry point, in place.
//
//   node ../../scripts/bundle.mjs index.js driver.js …   (run in a package, after tsc)
//
// Node's ESM loader spends about half a millisecond resolving and loading each
// module; core and dwdebug alone are over a hundred, which made a cold
// `stackdb backtrace` pay ~40 ms before doing anything. Each entry named here
// (a path under dist/) is rewritten with everything it imports from its own
// package; code shared by several entries goes to dist/chunk-*.js, so a class
// exists once however it is reached. Other packages (`@stackdb/*` included)
// and Node's modules stay imports. Chunks sit in dist/ itself, beside the
// entries, so `import.meta.url` keeps the depth the compiled modules had.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const entries = process.argv.slice(2);
if (!entries.length) {
  console.error('usage: bundle.mjs ENTRY.js… (paths under dist/)');
  process.exit(2);
}
for (const f of fs.readdirSync('dist')) if (/^chunk-.*\.js(\.map)?$/.test(f)) fs.rmSync(path.join('dist', f));

try {
  await build({
    entryPoints: entries.map((e) => path.join('dist', e)),
    outdir: 'dist',
    outbase: 'dist',
    allowOverwrite: true,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunk-[hash]',
    sourcemap: true,
    // Class names stay what the sources say (errors take theirs from new.target.name).
    keepNames: true,
    logLevel: 'warning',
  });
} catch {
  // esbuild has printed the errors.
  process.exit(1);
}
