#!/usr/bin/env node
// Benchmark: probe-hit throughput on a function called in a tight loop
// (packages/cli/test/probes/bench-loop.c, f(i, 2i), gcc -g -O0), side by side
// in one run:
//   - raw C ptrace loop (raw-ptrace.c: int3, step over it, continue; nothing
//     else): the ceiling of any ptrace debugger;
//   - gdb: `break f` + `commands; silent; continue; end`;
//   - gdb + gdbserver (the same, through the remote protocol);
//   - stackdb (core's probes on the ptrace driver): an entry probe with an
//     empty handler, and one whose handler reads the two typed arguments.
// Each figure is the slope between a short and a long run of the same
// command (startup costs cancel out): hits per second and microseconds per
// hit, median of --runs (default 3), pinned (`taskset -c 0` on debugger and
// program) and unpinned. Build first (`npm run build`).
//
//   node scripts/bench/probes.bench.mjs [--runs N] [--no-gdb] [--quick]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const opt = (f, d) => (args.includes(f) ? args[args.indexOf(f) + 1] : d);

// ------------------------------------------------------------ child mode
// `--child VARIANT N PROGRAM`: one stackdb run, printing the monitor's milliseconds.
if (args[0] === '--child') {
  const [, variant, n, program] = args;
  const core = await import(path.join(root, 'packages/core/dist/index.js'));
  const registry = core.Registry.discover();
  const spec = core.parseCommandLine(['-O', '/dev/null', '--', program, n], { drivers: registry.drivers });
  const [target] = await core.openTargets(spec.targets, registry);
  const program_ = new core.ProgramSymbols(target);
  const probes = core.SymbolProbes.for(target, { program: program_, walker: core.standardWalker(target, program_) });
  let sum = 0n;
  const le = (b) => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return v;
  };
  const handlers =
    variant === 'args'
      ? { pre: async (hit) => {
          const [a, b] = await hit.values.args();
          sum += le(a.value.bytes) + le(b.value.bytes);
        } }
      : { pre: () => undefined };
  const p = await probes.probe('f', handlers);
  const t0 = performance.now();
  await target.monitor();
  const ms = performance.now() - t0;
  await target.close();
  if (p.hits !== Number(n)) throw new Error(`expected ${n} hits, saw ${p.hits}`);
  if (variant === 'args' && sum !== 3n * BigInt(n) * BigInt(Number(n) - 1) / 2n) throw new Error('wrong argument values');
  process.stdout.write(`${ms}\n`);
  process.exit(0);
}

// ----------------------------------------------------------- parent mode
const runs = Number(opt('--runs', args.includes('--quick') ? '1' : '3'));
const quick = args.includes('--quick');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
for (const p of ['packages/core/dist/index.js', 'packages/driver-ptrace/dist/index.js']) {
  if (!fs.existsSync(path.join(root, p))) {
    console.error(`probes bench: ${p} is missing (run npm run build)`);
    process.exit(2);
  }
}
for (const c of ['gcc', 'taskset', 'nm']) {
  if (!has(c)) {
    console.error(`probes bench: ${c} is needed`);
    process.exit(2);
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-bench-probes-'));
const src = (f) => path.join(root, 'packages/cli/test/probes', f);
const loop = path.join(work, 'bench-loop');
const raw = path.join(work, 'raw-ptrace');
const cc = (args_) => {
  const r = spawnSync('gcc', args_, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${args_.join(' ')}: ${r.stderr}`);
};
cc(['-g', '-O0', '-o', loop, src('bench-loop.c')]);
cc(['-O2', '-o', raw, src('raw-ptrace.c')]);
const fAddr = '0x' + /^([0-9a-f]+) T f$/m.exec(spawnSync('nm', [loop], { encoding: 'utf8' }).stdout)[1];
const gdbCmds = path.join(work, 'gdb.cmds');
fs.writeFileSync(gdbCmds, 'set pagination off\nset confirm off\nbreak f\ncommands\nsilent\ncontinue\nend\nrun\n');

/** Wall-clock ms of a command (or the ms it prints itself, with `inner`). */
function time(argv, { pinned, inner = false, env } = {}) {
  const full = pinned ? ['taskset', '-c', '0', ...argv] : argv;
  const t0 = performance.now();
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 << 20, timeout: 600_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${full.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.slice(-400)}`);
  return inner ? Number(r.stdout.trim().split('\n').pop()) : ms;
}

/** gdb driving gdbserver over a pipe (`target remote | gdbserver - PROGRAM N`). */
function gdbserverRun(n, pinned) {
  const cmds = path.join(work, `gdbserver-${n}.cmds`);
  fs.writeFileSync(cmds, `set pagination off\nset confirm off\nset sysroot /\ntarget remote | gdbserver - ${loop} ${n}\nbreak f\ncommands\nsilent\ncontinue\nend\ncontinue\n`);
  return time(['gdb', '-batch', '-nx', '-x', cmds, loop], { pinned });
}

const tools = [
  { name: 'raw C ptrace loop (ceiling)', n: quick ? 20000 : 50000, run: (n, pinned) => time([raw, fAddr, loop, String(n)], { pinned }) },
  { name: 'stackdb, empty handler', n: quick ? 10000 : 30000, run: (n, pinned) => time([process.execPath, self, '--child', 'empty', String(n), loop], { pinned, inner: true }) },
  { name: 'stackdb, reads 2 typed args', n: quick ? 5000 : 15000, run: (n, pinned) => time([process.execPath, self, '--child', 'args', String(n), loop], { pinned, inner: true }) },
];
if (!args.includes('--no-gdb') && has('gdb')) {
  tools.push({ name: 'gdb (break f; commands silent, continue)', n: quick ? 2000 : 8000, run: (n, pinned) => time(['gdb', '-batch', '-nx', '-x', gdbCmds, '--args', loop, String(n)], { pinned }) });
  if (has('gdbserver')) tools.push({ name: 'gdb + gdbserver', n: quick ? 1000 : 4000, run: (n, pinned) => gdbserverRun(n, pinned) });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Hits per second from the slope between a run of n/10 hits and one of n. */
function rate(tool, pinned) {
  const small = Math.max(100, Math.floor(tool.n / 10));
  const rates = [];
  for (let i = 0; i < runs; i++) {
    const a = tool.run(small, pinned);
    const b = tool.run(tool.n, pinned);
    rates.push(((tool.n - small) / Math.max(1e-3, b - a)) * 1000);
  }
  return median(rates);
}

const results = [];
for (const tool of tools) {
  const pinned = rate(tool, true);
  const unpinned = rate(tool, false);
  results.push({ name: tool.name, pinned, unpinned });
}
fs.rmSync(work, { recursive: true, force: true });

const rawR = results[0];
const gdbR = results.find((r) => r.name.startsWith('gdb ('));
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const us = (x) => (1e6 / x).toFixed(1);
const header = ['tool', 'pinned hits/s', 'µs/hit', 'unpinned hits/s', 'µs/hit', '× raw (pinned)', '× gdb (pinned)'];
const rows = results.map((r) => [r.name, fmt(r.pinned), us(r.pinned), fmt(r.unpinned), us(r.unpinned), (r.pinned / rawR.pinned).toFixed(2), gdbR ? (r.pinned / gdbR.pinned).toFixed(1) : '-']);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`probe hits on f(i, 2i) in a tight loop; ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? ''}; median of ${runs} run(s), slope between n/10 and n hits`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
const empty = results[1];
console.log(`\nstackdb overhead per hit over the raw loop (pinned): ${(1e6 / empty.pinned - 1e6 / rawR.pinned).toFixed(1)} µs (empty handler), ${(1e6 / results[2].pinned - 1e6 / rawR.pinned).toFixed(1)} µs (two typed arguments)`);
