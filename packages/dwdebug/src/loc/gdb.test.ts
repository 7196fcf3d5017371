/**
 * Real expressions against gdb: stop a -O0 fixture in each function under
 * gdb, take its registers and a dump of the stack, then evaluate every
 * local's and parameter's DW_AT_location (through DW_AT_frame_base, which
 * is DW_OP_call_frame_cfa, which comes from our CFI table) and every
 * global's, and compare with the addresses gdb prints for `&var`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { run, systemTest } from '@stackdb/test-support';
import { CfiTable } from '../cfi/table.js';
import { Binfile } from '../elf/binfile.js';
import { helloO0 } from '../elf/test-support/fixtures.js';
import { evaluate } from './evaluate.js';
import type { LocationEnv, UnitEnv } from './types.js';

interface Var {
  readonly name: string;
  readonly location: Uint8Array;
}

interface Func {
  readonly name: string;
  readonly frameBase?: Uint8Array;
  readonly vars: Var[];
}

/** Functions with their exprloc frame base and variables, and the globals, from `readelf -wi` (DIE nesting by depth). */
function scopes(dump: string): { funcs: Map<string, Func>; globals: Var[] } {
  const funcs = new Map<string, Func>();
  const globals: Var[] = [];
  let tag = '';
  let depth = 0;
  let name = '';
  let current: Func | undefined;
  const block = (line: string) => {
    const m = /: (?:\(exprloc\) )?\d+ byte block: ([0-9a-f ]*?)\s*\t/.exec(line);
    return m ? new Uint8Array(m[1]!.trim().split(/\s+/).map((h) => parseInt(h, 16))) : undefined;
  };
  for (const line of dump.split('\n')) {
    const die = /^ <(\d+)><[0-9a-f]+>: Abbrev Number: \d+ \((DW_TAG_\w+)\)/.exec(line);
    if (die) {
      depth = Number(die[1]);
      tag = die[2]!;
      name = '';
      if (depth <= 1) current = undefined;
      continue;
    }
    const n = /DW_AT_name\s*:.*?(\S+)\s*$/.exec(line);
    if (n) {
      name = n[1]!;
      if (tag === 'DW_TAG_subprogram' && depth === 1) {
        current = { name, vars: [] };
        funcs.set(name, current);
      }
      continue;
    }
    if (/DW_AT_frame_base/.test(line) && current && tag === 'DW_TAG_subprogram') {
      const b = block(line);
      if (b) funcs.set(current.name, (current = { ...current, frameBase: b }));
    } else if (/DW_AT_location/.test(line) && (tag === 'DW_TAG_variable' || tag === 'DW_TAG_formal_parameter')) {
      const b = block(line);
      if (!b || !name) continue;
      if (depth === 1) globals.push({ name, location: b });
      // Variables of nested blocks are not in scope at the function's breakpoint.
      else if (current && depth === 2) current.vars.push({ name, location: b });
    }
  }
  return { funcs, globals };
}

const GDB_REGS = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];

async function checkFunction(t: ExecutionContext, file: string, bin: Binfile, cfi: CfiTable, func: Func, globals: readonly Var[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdebug-gdb-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dumpFile = path.join(dir, 'stack.bin');
  const vars = [...func.vars, ...globals];
  const out = run('gdb', ['-batch', '-nx', '-ex', `break ${func.name}`, '-ex', 'run', '-ex', 'info registers',
    '-ex', 'p/x $rsp - 4096', '-ex', `dump binary memory ${dumpFile} $rsp-4096 $rsp+2048`, '-ex', `p &${func.name}`,
    ...vars.flatMap((v) => ['-ex', `p &${v.name}`]), '--args', file, 'x'], { timeoutMs: 60_000 });
  const regs = new Map<number, bigint>();
  for (const line of out.split('\n')) {
    const m = /^(\w+)\s+0x([0-9a-f]+)/.exec(line);
    if (!m) continue;
    const i = GDB_REGS.indexOf(m[1]!);
    if (i >= 0) regs.set(i, BigInt('0x' + m[2]!));
  }
  const values = [...out.matchAll(/^\$(\d+) = (?:\([^)\n]*(?:\)[^)\n]*)*\) )?(0x[0-9a-f]+)/gm)].map((m) => BigInt(m[2]!));
  t.is(values.length, vars.length + 2, 'gdb printed every address');
  const [stackBase, funcAddr, ...addrs] = values;
  const stack = fs.readFileSync(dumpFile);
  const link = bin.symbolsNamed(func.name)[0]!.value;
  const bias = funcAddr! - link;
  const pc = regs.get(16)!;
  const row = cfi.rowFor(pc - bias)!;
  t.truthy(row, `CFI row at ${func.name}`);
  t.is(row.cfa.kind, 'reg-offset');
  const cfa = row.cfa.kind === 'reg-offset' ? regs.get(row.cfa.reg)! + BigInt(row.cfa.offset) : 0n;
  const unit: UnitEnv = { version: 4, addressSize: 8, offsetSize: 4, littleEndian: true, bias, addrx: () => 0n, baseType: () => undefined };
  const env: LocationEnv = {
    register: async (n) => regs.get(n),
    memory: async (addr, size) => {
      const off = Number(addr - stackBase!);
      if (off < 0 || off + size > stack.length) throw new Error('outside the dump');
      return new Uint8Array(stack.subarray(off, off + size));
    },
    cfa: async () => cfa,
    frameBase: async () => {
      const fb = await evaluate(func.frameBase!, unit, env);
      return fb.kind === 'memory' ? fb.address : undefined;
    },
  };
  let n = 0;
  for (const [i, v] of vars.entries()) {
    const r = await evaluate(v.location, unit, env);
    t.deepEqual(r, { kind: 'memory', address: addrs[i]! }, `${func.name}: &${v.name}`);
    n++;
  }
  return n;
}

systemTest(test, 'locals, parameters (fbreg through call_frame_cfa and CFI), a VLA (deref) and globals evaluate to the addresses gdb prints', [{ command: 'gdb', package: 'gdb' }], async (t) => {
  const file = helloO0();
  const bin = await Binfile.open(file, { noDebugSearch: true });
  t.teardown(() => bin.close());
  const cfi = CfiTable.fromBinfileSections(bin.unwindSections());
  const { funcs, globals } = scopes(run('readelf', ['--debug-dump=info,no-follow-links', '-W', file]));
  const simpleGlobals = globals.filter((g) => g.location[0] === 0x03);
  t.true(simpleGlobals.length >= 3);
  let n = 0;
  for (const name of ['main', 'sum_points', 'with_vla', 'recurse']) {
    const f = funcs.get(name)!;
    t.truthy(f?.frameBase, name);
    t.true(f.vars.length >= 2, `${name} has variables`);
    n += await checkFunction(t, file, bin, cfi, f, name === 'main' ? simpleGlobals : []);
  }
  t.true(n >= 15, `${n} variables compared`);
});
