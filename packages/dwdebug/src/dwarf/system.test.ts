import fs from 'node:fs';
import test from 'ava';
import { DRGN_PYTHON, drgnNeed, run, systemTest } from '@stackdb/test-support';
import { typeName } from './model/format.js';
import { FunctionSymbol, VariableSymbol } from './model/symbols.js';
import { StructType } from './model/types.js';
import { gdb, openDebug, parsePtypeO } from './test-support/fixtures.js';
import { LineFlag, rowAddress } from './line.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

function vmlinux(): string | undefined {
  const dir = '/usr/lib/debug/boot';
  const f = fs.existsSync(dir) ? fs.readdirSync(dir).find((n) => /^vmlinux-6\.1\.0-.*-amd64$/.test(n)) : undefined;
  return f ? `${dir}/${f}` : undefined;
}

systemTest(test, "glibc's separate debuginfo (build-id, zlib-compressed DWARF 5) matches gdb", [
  { file: LIBC, package: 'libc6' },
  { check: () => (fs.existsSync('/usr/lib/debug/.build-id') ? undefined : 'no /usr/lib/debug/.build-id'), what: 'libc6-dbg' },
  { command: 'gdb', package: 'gdb' },
], async (t) => {
  const { df, bf } = await openDebug(LIBC);
  t.is(bf.debugHow, 'build-id');
  t.deepEqual(df.errors, []);
  const fns = ['__libc_malloc', '__libc_free', '_IO_puts', '__libc_calloc'];
  const malloc = df.lookupGlobals('__libc_malloc')[0] as FunctionSymbol;
  // Line rows inside __libc_malloc, asked of gdb too.
  const t0 = df.unitsAt(malloc.entryPc!)[0]!.lineTable()!;
  const rows: bigint[] = [];
  for (let i = 0; i < t0.length && rows.length < 40; i++) {
    if (malloc.contains(rowAddress(t0, i)) && !(t0.flags[i]! & LineFlag.endSequence)) rows.push(rowAddress(t0, i));
  }
  const out = gdb(LIBC, [...fns.map((f) => `info address ${f}`), 'ptype /o struct malloc_state', 'whatis main_arena', 'whatis _IO_2_1_stdout_', ...rows.map((a) => `info line *0x${a.toString(16)}`)]);
  fns.forEach((f, i) => {
    // gdb answers from the ELF symbol when there is one; the address is the same.
    const m = /(?:at address|is at) (0x[0-9a-f]+)/.exec(out[i]!);
    const s = df.lookupGlobals(f).find((x): x is FunctionSymbol => x instanceof FunctionSymbol && x.entryPc !== undefined);
    t.is(s?.entryPc, BigInt(m![1]!), f);
  });
  const ms = df.lookupTypes('struct malloc_state')[0] as StructType;
  const expected = parsePtypeO(out[fns.length]!);
  t.deepEqual(ms.members.map((m) => m.offset), expected.map((e) => e.offset));
  t.is(`type = ${typeName((df.lookupGlobals('main_arena')[0] as VariableSymbol).type)}`, out[fns.length + 1]);
  t.is(`type = ${typeName((df.lookupGlobals('_IO_2_1_stdout_')[0] as VariableSymbol).type)}`, out[fns.length + 2]);
  rows.forEach((a, i) => {
    const g = /^Line (\d+) of "([^"]+)"/.exec(out[fns.length + 3 + i]!);
    const ours = df.lineAt(a);
    if (g) t.is(`${ours?.line}`, g[1], `line at 0x${a.toString(16)}`);
  });
  // FILE is defined in every unit that includes stdio.h; the index keeps one definition.
  t.is(df.lookupTypes('struct _IO_FILE').length, 1);
  bf.close();
});

const kernel = vmlinux();
systemTest(test, "the kernel's debug vmlinux: lazy index, function and struct layout match drgn", [
  { check: () => (kernel ? undefined : 'not installed'), what: 'debug vmlinux (linux-image-amd64-dbg)' },
  drgnNeed,
  { command: 'gdb', package: 'gdb' },
], async (t) => {
  const { df } = await openDebug(kernel!);
  const script = [
    'import drgn, json',
    'p = drgn.Program()',
    `p.load_debug_info([${JSON.stringify(kernel)}])`,
    't = p.type("struct task_struct")',
    'o = p["do_sys_openat2"]',
    'print(json.dumps({"size": t.size, "members": [[m.name, m.bit_offset] for m in t.members], "addr": hex(o.address_)}))',
  ].join('\n');
  const ref = JSON.parse(run(DRGN_PYTHON, ['-c', script])) as { size: number; members: [string | null, number][]; addr: string };
  const f = df.lookupGlobals('do_sys_openat2').find((s): s is FunctionSymbol => s instanceof FunctionSymbol && s.entryPc !== undefined)!;
  t.is(f.entryPc, BigInt(ref.addr));
  t.is(typeName(f.type), 'long int (int, const char *, struct open_how *)');
  t.true(df.lineAt(f.entryPc!)!.file.endsWith('fs/open.c'));
  const ts = df.lookupTypes('struct task_struct')[0] as StructType;
  t.is(ts.size, ref.size);
  t.deepEqual(ts.members.map((m) => [m.name ?? null, m.bitOffset]), ref.members);
  // Line numbers of 100 spread-out text addresses agree with gdb's `info line`.
  const map = fs.readFileSync(kernel!.replace('vmlinux-', 'System.map-'), 'utf8');
  const sym = (n: string) => BigInt('0x' + new RegExp(`^([0-9a-f]+) \\S ${n}$`, 'm').exec(map)![1]);
  const [lo, hi] = [sym('_stext'), sym('_etext')];
  const addrs = Array.from({ length: 100 }, (_, i) => lo + ((hi - lo) * BigInt(i * 7919 % 100)) / 100n + BigInt(i));
  const out = gdb(kernel!, addrs.map((a) => `info line *0x${a.toString(16)}`));
  addrs.forEach((a, i) => {
    const g = /^Line (\d+) of "([^"]+)"/.exec(out[i]!);
    const ours = df.lineAt(a);
    t.is(ours ? `${ours.line} ${ours.file.endsWith(g?.[2] ?? '') ? 'same file' : ours.file}` : 'none', g ? `${g[1]} same file` : 'none', `line of 0x${a.toString(16)}`);
  });
  // Declared in C, defined by the linker script: the declaration gives its type.
  t.is(typeName((df.lookupGlobals('jiffies')[0] as VariableSymbol).type), 'volatile long unsigned int');
  t.true(df.units().length > 2000);
  // The lookups above scanned for their names; the index, built now, gives the same answers.
  const ids = (s: readonly { id?: number }[]) => s.map((x) => x.id);
  const before = [ids(df.lookupGlobals('do_sys_openat2')), ids(df.lookupTypes('struct task_struct')), ids(df.lookupGlobals('jiffies'))];
  await df.indexNames();
  t.deepEqual([ids(df.lookupGlobals('do_sys_openat2')), ids(df.lookupTypes('struct task_struct')), ids(df.lookupGlobals('jiffies'))], before);
  t.true(df.indexStats.names > 100_000);
  t.deepEqual(df.errors, []);
  df.close();
});
