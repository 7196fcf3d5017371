#!/usr/bin/env node
// The stackdb command. Imports the built entry; a missing build is one clear line.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('stackdb: this package is not built (run `npm run build` in the repository)\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
// Nothing is left to do (stdout and stderr are synchronous on Linux): leave without the event loop's wind-down.
process.exit();
