#!/usr/bin/env node
// Benchmark: an all-thread backtrace of one running program, by `stackdb
// backtrace -p` (with argument values), gdb, eu-stack and drgn, side by side
// in one run on the same process, pinned to one CPU (tracer and tracee) and
// unpinned; then the in-process time of one walkStack and one backtrace on an
// already-attached target.
//
// The program is the bundled demo (`dummy.threads`: two threads, 19 frames
// each, linked with glibc, whose debuginfo libc6-dbg provides). Every command
// runs in a fresh process; figures are wall-clock milliseconds (min / median
// of --runs, default 10). Build first (`npm run build`).
//
//   node scripts/bench/backtrace.bench.mjs [--runs N] [--no-gdb] [--walks N]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (f, d) => (args.includes(f) ? args[args.indexOf(f) + 1] : d);
const runs = Number(opt('--runs', '10'));
const walks = Number(opt('--walks', '200'));
const stackdb = path.join(root, 'packages/cli/bin/stackdb.js');

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

for (const p of ['packages/cli/dist/demo.js', 'packages/core/dist/index.js', 'packages/driver-ptrace/dist/index.js']) {
  if (!fs.existsSync(path.join(root, p))) {
    console.error(`backtrace bench: ${p} is missing (run npm run build)`);
    process.exit(2);
  }
}
const { demoProgram } = await import(path.join(root, 'packages/cli/dist/demo.js'));
const core = await import(path.join(root, 'packages/core/dist/index.js'));
const { PtraceTarget } = await import(path.join(root, 'packages/driver-ptrace/dist/index.js'));

/**
 * Starts the demo program detached from this process (a child_process of Node
 * could not be ptrace-attached from here: libuv would reap its stops) and
 * resolves with its pid once it is in its loop.
 */
async function startProgram() {
  const r = spawnSync('sh', ['-c', `${JSON.stringify(demoProgram({ threads: true }))} 1000 >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  if (!pid) throw new Error(`cannot start the demo program: ${r.stderr}`);
  await new Promise((res) => setTimeout(res, 300));
  return pid;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// NODE_EXTRA_CA_CERTS makes every Node process parse that CA bundle as it starts (≈28 ms on a
// machine that sets it); a debugger needs no TLS, so every tool runs without it.
const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...toolEnv } = process.env;

/** Runs a command `runs` times (after one warm-up); wall ms. */
function time(argv, check) {
  const once = () => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26, env: toolEnv });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.slice(-500)}`);
    if (check && !check(r.stdout)) throw new Error(`${argv.join(' ')} printed an unexpected stack:\n${r.stdout.slice(0, 2000)}`);
    return ms;
  };
  once();
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(once());
  return { min: Math.min(...xs), median: median(xs) };
}

const pid = await startProgram();
const rows = [];
const pin = (argv) => ['taskset', '-c', '0', ...argv];
const framesOf = (name) => (out) => out.includes(name) && out.includes('f10');
const tools = [
  { name: 'stackdb backtrace -p (names, lines, inlines, args)', argv: [process.execPath, stackdb, 'backtrace', '-p', String(pid)], check: (o) => /f10 \(i=1000, arg=9\)/.test(o) },
  ...(args.includes('--no-gdb') || !has('gdb') ? [] : [{ name: "gdb -batch -ex 'thread apply all bt'", argv: ['gdb', '-batch', '-nx', '-p', String(pid), '-ex', 'thread apply all bt'], check: framesOf('looper') }]),
  ...(has('eu-stack') ? [
    { name: 'eu-stack -p (names only)', argv: ['eu-stack', '-p', String(pid)], check: framesOf('looper') },
    { name: 'eu-stack -s -i -p (lines, inlines)', argv: ['eu-stack', '-s', '-i', '-p', String(pid)], check: framesOf('looper') },
  ] : []),
];
try {
  for (const pinned of [true, false]) {
    spawnSync('taskset', ['-a', '-pc', pinned ? '0' : `0-${Math.max(0, (await import('node:os')).cpus().length - 1)}`, String(pid)], { stdio: 'ignore' });
    for (const t of tools) {
      const r = time(pinned ? pin(t.argv) : t.argv, t.check);
      rows.push({ tool: t.name, pinned, ...r });
    }
  }

  // drgn: live processes cannot be unwound (as of drgn 0.0.2x); say so when that is still the case.
  let drgnNote = 'drgn: not installed (python3-drgn)';
  if (fs.existsSync('/usr/bin/python3')) {
    const r = spawnSync('/usr/bin/python3', ['-c', `import drgn\np=drgn.Program()\np.set_pid(${pid})\ntry:\n  p.load_default_debug_info()\nexcept drgn.MissingDebugInfoError: pass\n[t.stack_trace() for t in p.threads()]`], { encoding: 'utf8' });
    drgnNote = r.status === 0 ? 'drgn: stack traces of live processes work now; add it to this table' : `drgn: ${(r.stderr.trim().split('\n').pop() ?? '').replace(/^\w+Error: /, '')}`;
  }

  // In-process: one walkStack / one backtrace of the main thread on an attached, paused target.
  const target = PtraceTarget.attach(pid);
  await target.open();
  let inproc;
  try {
    const program = new core.ProgramSymbols(target);
    const walker = core.standardWalker(target, program);
    const [main] = await target.threads();
    const first = await walker.walkStack(main);
    const bt0 = performance.now();
    await core.backtrace(walker, program, main);
    const firstBt = performance.now() - bt0;
    const measure = async (fn) => {
      const xs = [];
      for (let i = 0; i < walks; i++) {
        // Registers and memory are re-read each time, as after a new stop.
        target.invalidate();
        const t0 = performance.now();
        await fn();
        xs.push(performance.now() - t0);
      }
      return { min: Math.min(...xs), median: median(xs) };
    };
    inproc = {
      frames: first.frames.length,
      firstBacktrace: firstBt,
      walk: await measure(() => walker.walkStack(main)),
      backtrace: await measure(() => core.backtrace(walker, program, main)),
    };
  } finally {
    await target.close();
  }

  const gdb = rows.find((r) => r.tool.startsWith('gdb') && r.pinned);
  const eu = rows.find((r) => r.tool.startsWith('eu-stack -s') && r.pinned);
  const ours = rows.find((r) => r.tool.startsWith('stackdb') && r.pinned);
  const w = Math.max(...rows.map((r) => r.tool.length));
  console.log(`all-thread backtrace of ${path.basename(demoProgram({ threads: true }))} (2 threads, ${inproc.frames} frames in the main thread), ${runs} runs each, wall ms`);
  console.log(`${'tool'.padEnd(w)}  pinned  ${'min'.padStart(7)}  ${'median'.padStart(7)}`);
  for (const r of rows) console.log(`${r.tool.padEnd(w)}  ${(r.pinned ? 'yes' : 'no').padEnd(6)}  ${r.min.toFixed(1).padStart(7)}  ${r.median.toFixed(1).padStart(7)}`);
  console.log(drgnNote);
  if (extraCaCerts) console.log('NODE_EXTRA_CA_CERTS is set here and was removed from every tool\'s environment (with it, each Node start parses the CA bundle)');
  if (ours && gdb) console.log(`gdb time / stackdb time (pinned, median): ${(gdb.median / ours.median).toFixed(2)} (goal: >= 5)`);
  if (ours && eu) console.log(`stackdb time / eu-stack -s -i time (pinned, median): ${(ours.median / eu.median).toFixed(2)} (goal: <= 1)`);
  console.log(`in-process, attached target, main thread (${inproc.frames} frames), ${walks} runs, registers and memory re-read each time:`);
  console.log(`  walkStack      min ${inproc.walk.min.toFixed(3)} ms  median ${inproc.walk.median.toFixed(3)} ms (goal: < 1 ms for 20 frames)`);
  console.log(`  backtrace      min ${inproc.backtrace.min.toFixed(3)} ms  median ${inproc.backtrace.median.toFixed(3)} ms (with argument values)`);
  console.log(`  first backtrace (cold symbols) ${inproc.firstBacktrace.toFixed(1)} ms`);
} finally {
  process.kill(pid, 'SIGKILL');
}
