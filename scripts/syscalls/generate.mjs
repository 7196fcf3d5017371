#!/usr/bin/env node
/*
 * Generates packages/core/src/syscalls/table.generated.ts: the x86-64 system
 * call table (numbers, names, argument names and C types) and the errno names.
 *
 * - Numbers and names: /usr/include/x86_64-linux-gnu/asm/unistd_64.h.
 * - Which kernel function serves each number: the entries of `sys_call_table`
 *   read from the debug vmlinux's .rodata (`__x64_sys_NAME`), so renamed entry
 *   points (stat → newstat, sendfile → sendfile64, umount2 → umount) are right.
 * - Arguments: the `__do_sys_NAME` subprogram of the kernel's DWARF (often only
 *   an abstract inline DIE, which is why gdb's `info functions` misses them),
 *   else `__se_sys_NAME` (every argument a `long`); SYSCALL_DEFINE0 entry points
 *   take nothing (their only parameter is the unused `struct pt_regs *`).
 * - errno names: asm-generic/errno-base.h and errno.h, plus the kernel-internal
 *   restart codes a tracer sees at syscall exit; messages as the C library's
 *   strerror() words them (as strace prints them), else the header's comment.
 *
 * Usage: node scripts/syscalls/generate.mjs [VMLINUX] (default: the installed
 * linux-image-amd64-dbg vmlinux). Needs packages/dwdebug built.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Binfile, DebugFile, binfileDwarfSections, strip, typeName } from '../../packages/dwdebug/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(root, 'packages/core/src/syscalls/table.generated.ts');
const unistd = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
const errnoHeaders = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];

function defaultVmlinux() {
  const dir = '/usr/lib/debug/boot';
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith('vmlinux-')).sort() : [];
  if (!names.length) throw new Error(`no debug vmlinux under ${dir} (Debian package linux-image-amd64-dbg)`);
  return path.join(dir, names[names.length - 1]);
}

const vmlinux = process.argv[2] ?? defaultVmlinux();

/** `#define __NR_name nr` lines. */
function syscallNumbers() {
  const byNr = new Map();
  for (const m of fs.readFileSync(unistd, 'utf8').matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) byNr.set(Number(m[2]), m[1]);
  return byNr;
}

function errnos() {
  const list = [];
  const seen = new Set();
  for (const h of errnoHeaders) {
    for (const m of fs.readFileSync(h, 'utf8').matchAll(/^#define\s+(E\w+)\s+(\d+)\s*(?:\/\*\s*(.*?)\s*\*\/)?\s*$/gm)) {
      const nr = Number(m[2]);
      if (seen.has(nr)) continue;
      seen.add(nr);
      list.push([nr, m[1], m[3] ?? m[1]]);
    }
  }
  // Messages as the C library words them (strace prints those), where it knows the value.
  const glibc = strerrors(list.map((e) => e[0]));
  for (const e of list) if (glibc.has(e[0])) e[2] = glibc.get(e[0]);
  // Kernel-internal codes (include/linux/errno.h) that a tracer sees at a syscall's exit.
  list.push([512, 'ERESTARTSYS', 'To be restarted if SA_RESTART is set'], [513, 'ERESTARTNOINTR', 'To be restarted'], [514, 'ERESTARTNOHAND', 'To be restarted if no handler'], [515, 'ENOIOCTLCMD', 'No ioctl command'], [516, 'ERESTART_RESTARTBLOCK', 'Interrupted by signal']);
  return list.sort((a, b) => a[0] - b[0]);
}

/** strerror() of each errno value, from the C library (through Python's os.strerror). */
function strerrors(values) {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import os,sys\nfor a in sys.argv[1:]: print(a, os.strerror(int(a)))', ...values.map(String)], { encoding: 'utf8' });
  const out = new Map();
  if (r.status !== 0) return out;
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d+) (.*)$/.exec(line);
    if (m && !m[2].startsWith('Unknown error')) out.set(Number(m[1]), m[2]);
  }
  return out;
}

/** How a tracer shows an argument of this type, from the type itself. */
function argClass(type) {
  const t = strip(type);
  if (t.kind === 'pointer') {
    const target = t.target;
    const tt = target ? strip(target) : undefined;
    if (tt && tt.kind === 'base' && /char/.test(tt.name ?? '') && /^const /.test(typeName(target))) return 'string';
    if (tt && tt.kind === 'pointer') {
      const inner = tt.target ? strip(tt.target) : undefined;
      if (inner && inner.kind === 'base' && /char/.test(inner.name ?? '')) return 'strings';
    }
    return 'pointer';
  }
  if (t.kind === 'base') return /unsigned/.test(t.name ?? '') || /bool/i.test(t.name ?? '') ? 'unsigned' : 'signed';
  if (t.kind === 'enum') return 'signed';
  return 'unsigned';
}

function paramsOf(df, name) {
  for (const fn of [`__do_sys_${name}`, `__se_sys_${name}`]) {
    const hits = df.lookupGlobals(fn).filter((s) => s.kind === 'function');
    if (!hits.length) continue;
    const params = hits[0].params;
    // SYSCALL_DEFINE0: the only parameter is the unused register frame.
    if (params.length === 1 && /pt_regs/.test(typeName(params[0].type))) return { from: fn, args: [] };
    return {
      from: fn,
      args: params.map((p) => {
        const t = typeName(p.type).replace(/\blong unsigned int\b/g, 'unsigned long').replace(/\blong int\b/g, 'long');
        return { name: p.name ?? '?', type: t, kind: argClass(p.type) };
      }),
    };
  }
  return undefined;
}

const t0 = Date.now();
const bf = await Binfile.open(vmlinux, { noDebugSearch: true });
const sections = binfileDwarfSections(bf);
if (!sections) throw new Error(`${vmlinux} has no DWARF`);
const df = await DebugFile.load(sections);
const table = bf.symbolsNamed('sys_call_table')[0];
if (!table) throw new Error(`${vmlinux} has no sys_call_table symbol`);
const sec = bf.elf.sections.find((s) => s.addr <= table.value && table.value < s.addr + BigInt(s.size) && s.type !== 8);
const numbers = syscallNumbers();
const maxNr = Math.max(...numbers.keys());
const fd = fs.openSync(bf.elf.path, 'r');
const raw = Buffer.alloc(8 * (maxNr + 1));
fs.readSync(fd, raw, 0, raw.length, sec.offset + Number(table.value - sec.addr));
fs.closeSync(fd);

// Several symbols may share an entry point's address (__x64_sys_X, __ia32_sys_X, __do_sys_X).
const entryAt = new Map();
for (const s of bf.symbols()) if (s.name.startsWith('__x64_sys_')) entryAt.set(s.value, s.name.slice('__x64_sys_'.length));
const rows = [];
for (const [nr, name] of [...numbers].sort((a, b) => a[0] - b[0])) {
  const addr = raw.readBigUInt64LE(nr * 8);
  const entry = entryAt.get(addr);
  if (entry === undefined || entry === 'ni_syscall') {
    rows.push({ nr, name, entry: null, args: null });
    continue;
  }
  const p = paramsOf(df, entry);
  rows.push({ nr, name, entry, args: p ? p.args : null });
}

const lines = [];
lines.push('// Generated by scripts/syscalls/generate.mjs from unistd_64.h and the kernel\'s debuginfo');
lines.push(`// (${path.basename(vmlinux)}); do not edit. Regenerate with: node scripts/syscalls/generate.mjs`);
lines.push('');
lines.push("import type { SyscallInfo } from './types.js';");
lines.push('');
lines.push('/** The x86-64 system calls by number: name, kernel entry point, arguments (null when unknown or not implemented). */');
lines.push('export const SYSCALL_TABLE: readonly SyscallInfo[] = [');
for (const r of rows) {
  const args = r.args === null ? 'null' : `[${r.args.map((a) => `{ name: ${JSON.stringify(a.name)}, type: ${JSON.stringify(a.type)}, kind: '${a.kind}' }`).join(', ')}]`;
  lines.push(`  { nr: ${r.nr}, name: '${r.name}', entry: ${r.entry === null ? 'null' : `'${r.entry}'`}, args: ${args} },`);
}
lines.push('];');
lines.push('');
lines.push('/** errno values: name and message (asm-generic/errno*.h, plus the kernel\'s restart codes). */');
lines.push('export const ERRNO_TABLE: readonly (readonly [number, string, string])[] = [');
for (const [nr, name, msg] of errnos()) lines.push(`  [${nr}, '${name}', ${JSON.stringify(msg)}],`);
lines.push('];');
lines.push('');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, lines.join('\n'));
const known = rows.filter((r) => r.args !== null).length;
process.stderr.write(`wrote ${path.relative(root, out)}: ${rows.length} syscalls (${known} with arguments) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
