#!/usr/bin/env node
// Runs every package's tests (ava, TAP) after a build, and ends with one summary line:
// "N passed, N failed" (+ ", N skipped"), alone on its line, whatever happened.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const totals = { passed: 0, failed: 0, skipped: 0 };
const only = process.argv.slice(2);

function summary() {
  const s = `${totals.passed} passed, ${totals.failed} failed` + (totals.skipped ? `, ${totals.skipped} skipped` : '');
  process.stdout.write(`\n${s}\n`);
}

function hasTests(dir) {
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? e.name !== 'node_modules' && walk(path.join(d, e.name)) : e.name.endsWith('.test.ts'));
  return fs.existsSync(path.join(dir, 'src')) && walk(path.join(dir, 'src'));
}

function runAva(dir) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules/ava/entrypoints/cli.mjs'), '--tap'], {
      cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], env: process.env,
    });
    const counts = { pass: 0, fail: 0, skip: 0, todo: 0, todoLines: 0, sawPlan: false };
    let buf = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        // ava's TAP counts a test.todo among the failures; it is a skip here.
        if (/^not ok \d+ - .* # TODO$/.test(line)) counts.todoLines++;
        const m = /^# (pass|fail|skip|todo) (\d+)$/.exec(line);
        if (m) { counts[m[1]] = Number(m[2]); counts.sawPlan = true; }
      }
    });
    child.on('close', (code) => {
      const todo = Math.min(counts.todoLines, counts.fail);
      counts.fail -= todo;
      counts.todo = Math.max(counts.todo, counts.todoLines);
      // A crashed runner that printed no tally counts as one failure.
      if (!counts.sawPlan && code !== 0) counts.fail = Math.max(counts.fail, 1);
      if (code !== 0 && counts.fail === 0 && todo === 0) counts.fail = 1;
      resolve(counts);
    });
  });
}

let exitCode = 0;
try {
  const deps = spawnSync(process.execPath, [path.join(root, 'scripts/system-deps.mjs'), 'ensure'], { stdio: 'inherit' });
  if (deps.status !== 0) { totals.failed++; exitCode = 1; }
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '--output-style=stream'], { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } });
  if (build.status !== 0) {
    process.stderr.write('build failed: tests not run\n');
    totals.failed++;
    exitCode = 1;
  } else {
    const dirs = fs.readdirSync(path.join(root, 'packages')).sort()
      .map((d) => path.join(root, 'packages', d))
      .filter((d) => hasTests(d) && (only.length === 0 || only.some((o) => d.endsWith(o))));
    // Lint and type-check (tests included) count as one test.
    process.stdout.write('\n## lint (eslint + tsc over all sources)\n');
    const lint = spawnSync('npm', ['run', '-s', 'lint'], { cwd: root, stdio: 'inherit' });
    if (lint.status === 0) totals.passed++;
    else { totals.failed++; exitCode = 1; }
    for (const dir of dirs) {
      process.stdout.write(`\n## ${path.relative(root, dir)}\n`);
      const c = await runAva(dir);
      totals.passed += c.pass;
      totals.failed += c.fail;
      totals.skipped += c.skip + c.todo;
      if (c.fail) exitCode = 1;
    }
  }
} catch (err) {
  process.stderr.write(`test runner: ${err?.message ?? err}\n`);
  totals.failed++;
  exitCode = 1;
}
summary();
process.exit(exitCode);
