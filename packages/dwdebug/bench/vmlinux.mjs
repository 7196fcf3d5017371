#!/usr/bin/env node
// Benchmark: the DWARF engine on the kernel's debug vmlinux, beside drgn and gdb
// on the same file in the same run. Each measurement runs in a fresh process
// (cold: nothing of a previous run is reused, the file itself is in the page
// cache); wall time, CPU time (user + system) and peak RSS come from GNU time.
// The load average is printed before and after: the machine may be shared.
//
//   node packages/dwdebug/bench/vmlinux.mjs [--vmlinux PATH] [--no-gdb] [--no-gdb-ptype] [--eager] [--runs N]
//
// Build first (npx tsc -p packages/dwdebug). Prints a table.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const opt = (f, d) => (args.includes(f) ? args[args.indexOf(f) + 1] : d);
const vmlinux = opt('--vmlinux', fs.readdirSync('/usr/lib/debug/boot').filter((n) => n.startsWith('vmlinux-')).map((n) => `/usr/lib/debug/boot/${n}`)[0]);
const runs = Number(opt('--runs', '1'));
const python = '/usr/bin/python3';
if (!vmlinux || !fs.existsSync(vmlinux)) {
  console.error('no debug vmlinux (install linux-image-amd64-dbg or pass --vmlinux)');
  process.exit(2);
}

/** Runs a command under GNU time; returns wall and CPU seconds, peak RSS in MB and stdout. */
function timed(cmd, argv, input, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %U %S %M', cmd, ...argv], { encoding: 'utf8', input, maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  const m = /@@TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`);
  return { s: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), mb: Math.round(Number(m[4]) / 1024), out: r.stdout.trim() };
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();

/** 1,000 pseudo-random addresses in the kernel's text, from System.map. */
function kernelAddresses() {
  const map = vmlinux.replace(/vmlinux-/, 'System.map-');
  const lines = fs.readFileSync(map, 'utf8').split('\n');
  const get = (name) => BigInt('0x' + lines.find((l) => l.endsWith(` ${name}`)).split(' ')[0]);
  const start = get('_stext');
  const end = get('_etext');
  let x = 12345;
  const out = [];
  for (let i = 0; i < 1000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(start + ((BigInt(x) * (end - start)) >> 32n));
  }
  return out;
}

const addrs = kernelAddresses();
const addrFile = path.join(os.tmpdir(), `stackdb-bench-addrs-${process.pid}.txt`);
fs.writeFileSync(addrFile, addrs.map((a) => `0x${a.toString(16)}`).join('\n'));

const rows = [];
function measure(tool, work, fn) {
  let best;
  for (let i = 0; i < runs; i++) {
    try {
      const r = fn();
      if (!best || r.s < best.s) best = r;
    } catch (err) {
      best = { s: NaN, cpu: NaN, mb: NaN, out: `failed: ${err.message.split('\n')[0]}` };
    }
  }
  rows.push({ tool, work, ...best });
  process.stderr.write(`${tool.padEnd(8)} ${work.padEnd(40)} ${best.s}s ${best.cpu.toFixed(2)}s cpu ${best.mb}MB ${best.out.slice(0, 100)}\n`);
}

const ours = (scenario, env = {}) => () => {
  const r = timed(process.execPath, [path.join(here, 'ours.mjs'), scenario, vmlinux, addrFile], undefined, env);
  return { ...r, out: JSON.parse(r.out).detail };
};
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-bench-cache-'));
const drgn = (code) => () => timed(python, ['-c', `import drgn\np = drgn.Program()\np.load_debug_info([${JSON.stringify(vmlinux)}])\n${code}`]);
const gdb = (cmds) => () => timed('gdb', ['-batch', '-nx', ...cmds.flatMap((c) => ['-ex', c]), vmlinux]);

measure('stackdb', 'load + lookup do_sys_openat2', ours('function'));
// The whole name index built at load (what later lookups use), in the calling thread, then with a worker.
measure('stackdb', 'same, full index at load, 1 thread', ours('function', { STACKDB_BENCH_INDEX: '1', STACKDB_BENCH_WORKERS: '0' }));
measure('stackdb', 'same, full index at load, + 1 worker', ours('function', { STACKDB_BENCH_INDEX: '1', STACKDB_BENCH_WORKERS: '1' }));
// The on-disk index cache: filled by one untimed load, then measured.
ours('function', { STACKDB_BENCH_CACHE: cacheDir })();
measure('stackdb', 'same, index cache warm', ours('function', { STACKDB_BENCH_CACHE: cacheDir }));
measure('drgn', 'load + lookup do_sys_openat2', drgn('o = p["do_sys_openat2"]\nprint(hex(o.address_))'));
if (!flag('--no-gdb')) measure('gdb', 'load + info address do_sys_openat2', gdb(['info address do_sys_openat2']));

measure('stackdb', 'load + struct task_struct layout', ours('struct'));
measure('drgn', 'load + struct task_struct layout', drgn(`
def layout(t, base, out, depth):
    t = t.unqualified()
    while t.kind == drgn.TypeKind.TYPEDEF: t = t.type.unqualified()
    if t.kind not in (drgn.TypeKind.STRUCT, drgn.TypeKind.UNION) or depth > 16 or not t.is_complete(): return
    for m in t.members:
        off = base + (m.bit_offset or 0)
        out.append((off, m.name, str(m.type.type_name())))
        layout(m.type, off, out, depth + 1)
out = []
layout(p.type("struct task_struct"), 0, out, 0)
print(len(out), "members")`));
if (!flag('--no-gdb') && !flag('--no-gdb-ptype')) measure('gdb', 'load + ptype /o struct task_struct', () => {
  const r = gdb(['ptype /o struct task_struct'])();
  return { ...r, out: `${r.out.split('\n').length} lines` };
});

measure('stackdb', 'load + 1000 addrs -> function+line', ours('addresses'));
measure('drgn', 'load + 1000 addrs -> symbol (no lines)', drgn(`
addrs = [int(l, 16) for l in open(${JSON.stringify(addrFile)})]
n = 0
for a in addrs:
    try:
        p.symbol(a); n += 1
    except LookupError: pass
print(n, "symbols")`));
if (!flag('--no-gdb')) measure('gdb', 'load + 1000 addrs -> info line', () => {
  const script = `${addrFile}.gdb`;
  fs.writeFileSync(script, addrs.map((a) => `info line *0x${a.toString(16)}`).join('\n') + '\n');
  const r = timed('gdb', ['-batch', '-nx', '-x', script, vmlinux]);
  fs.rmSync(script, { force: true });
  return { ...r, out: `${(r.out.match(/^Line \d+/gm) ?? []).length} lines` };
});
if (flag('--eager')) measure('stackdb', 'eager full load (every unit)', ours('eager'));

fs.rmSync(addrFile, { force: true });
fs.rmSync(cacheDir, { recursive: true, force: true });
const w = [10, 42, 9, 8, 13];
const line = (c) => `| ${c.map((x, i) => String(x).padEnd(w[i])).join(' | ')} |`;
console.log(`vmlinux: ${vmlinux} (${Math.round(fs.statSync(vmlinux).size / 1e6)} MB), ${os.cpus().length} CPUs, node ${process.version}, ${runs === 1 ? 'one run' : `best of ${runs}`} per row`);
console.log(`load average before: ${loadBefore}; after: ${load()}`);
console.log(line(['tool', 'work', 'time (s)', 'CPU (s)', 'peak RSS (MB)']));
console.log(line(w.map((n) => '-'.repeat(n))));
for (const r of rows) console.log(line([r.tool, r.work, Number.isNaN(r.s) ? 'failed' : r.s.toFixed(2), Number.isNaN(r.cpu) ? '-' : r.cpu.toFixed(2), Number.isNaN(r.mb) ? '-' : r.mb]));
