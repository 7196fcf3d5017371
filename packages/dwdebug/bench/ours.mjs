// One scenario of the vmlinux benchmark, run in a fresh process by vmlinux.mjs.
// Usage: node bench/ours.mjs <scenario> <vmlinux> [addresses-file] [workers]
// STACKDB_BENCH_CACHE=DIR uses (and fills) an on-disk index cache there;
// STACKDB_BENCH_INDEX=1 builds the whole name index at load (indexAtLoad);
// STACKDB_BENCH_WORKERS=N forces the number of worker threads of index builds.
// Prints one JSON line: { ms, detail }.
import fs from 'node:fs';
import { ElfFile, DebugFile, elfDwarfSections, typeName, strip } from '../dist/index.js';

const [scenario, file, addrFile, workersArg] = process.argv.slice(2);
const workers = workersArg ?? process.env.STACKDB_BENCH_WORKERS;
const t0 = performance.now();
const elf = ElfFile.open(file);
const opts = {
  ...(workers !== undefined && workers !== '-' ? { workers: Number(workers) } : {}),
  ...(scenario === 'eager' ? { eager: true } : {}),
  ...(process.env.STACKDB_BENCH_CACHE ? { indexCache: process.env.STACKDB_BENCH_CACHE } : {}),
  ...(process.env.STACKDB_BENCH_INDEX ? { indexAtLoad: true } : {}),
};
const df = await DebugFile.load(elfDwarfSections(elf), opts);
const loaded = performance.now();
let detail;

/** Every member of a struct, nested structs and unions expanded (what `ptype /o` prints). */
function layout(t, base, out, depth) {
  const s = strip(t);
  if ((s.kind !== 'struct' && s.kind !== 'union') || depth > 16) return;
  for (const m of s.complete().members) {
    const off = base + (m.bitOffset ?? 0);
    out.push(`${off}:${m.name ?? ''}:${typeName(m.type)}`);
    layout(m.type, off, out, depth + 1);
  }
}

switch (scenario) {
  case 'function': {
    const f = df.lookupGlobals('do_sys_openat2').find((s) => s.entryPc !== undefined);
    detail = `${f.name} at 0x${f.entryPc.toString(16)}: ${typeName(f.type)}`;
    break;
  }
  case 'struct': {
    const out = [];
    layout(df.lookupType('struct task_struct'), 0, out, 0);
    detail = `${out.length} members`;
    break;
  }
  case 'addresses': {
    const addrs = fs.readFileSync(addrFile, 'utf8').trim().split('\n').map((a) => BigInt(a));
    const t1 = performance.now();
    let withFn = 0, withLine = 0;
    for (const a of addrs) {
      const at = df.functionAt(a);
      const line = df.lineAt(a);
      if (at) withFn++;
      if (line) withLine++;
    }
    detail = `${withFn} functions, ${withLine} lines; ${Math.round(performance.now() - t1)} ms after load`;
    break;
  }
  case 'eager':
    detail = `${df.units().length} units expanded`;
    break;
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), loadMs: Math.round(loaded - t0), detail }));
