import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backtrace, LibraryState, openTargets, parseCommandLine, ProbeManager, ProgramSymbols, Registry, standardWalker, type LibraryChange } from '@stackdb/core';
import { buildFixture, matchGolden, systemTest, type Need } from '@stackdb/test-support';
import { gdbHasNoValue, gdbStacks, type GdbFrame, type GdbThread } from '../test-support/gdb-mi.js';
import { scenesPlugin, scenesProgram, stackdb, startDetached, procState, tracerOf, type Detached } from '../test-support/scenes.js';

/*
 * `stackdb backtrace` against gdb on the same parked process (test/bt-scenes.c,
 * built at -O0 and -O2): every thread, every frame's function, address,
 * file:line, argument values and locals must agree.
 *
 * Known, explained differences, normalised below:
 * - glibc's internal aliases: gdb names some functions by their ELF alias
 *   (`__GI___qsort_r`, `__GI_qsort`), we by their DWARF name.
 * - gdb's "<optimized out>", "<unavailable>" and "<error reading variable…>"
 *   are all "no value"; so are ours. Where one side has a value and the other
 *   none, that is allowed in one direction only where explained:
 *   * gdb treats registers the unwinder did not recover in a caller as
 *     unchanged (x86-64 CFI leaves caller-saved registers unspecified), so it
 *     computes entry values from caller-saved registers we call unknown
 *     (`interrupted (code=code@entry=30)` where our frame has no @entry);
 *   * gdb gives up on an entry value that is itself an entry value of the
 *     same parameter in the caller ("DWARF-2 expression error: Loop
 *     detected") where we follow the chain out to the call that passed a
 *     constant (`recurse (limit=limit@entry=1000)` at every level).
 * - an inlined call's arguments: gdb lists them in the order of the inlined
 *   DIE's children (gcc emits them reversed), we in declaration order; they
 *   are compared by name.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const golden = path.resolve(here, '../../test/golden');
const NEEDS: Need[] = [{ command: 'gdb', package: 'gdb' }, { command: 'gcc', package: 'gcc' }, { file: '/usr/lib/debug/.build-id', package: 'libc6-dbg', what: "glibc's debuginfo" }];

interface OurValue {
  name: string;
  status: string;
  text: string;
  entry?: { status: string; text: string };
}
interface OurFrame {
  index: number;
  pc: string;
  function: string | null;
  inlined: boolean;
  tailCall?: boolean;
  signalTrampoline?: boolean;
  file?: string;
  line?: number;
  args: OurValue[];
  locals?: OurValue[];
}
interface OurThread {
  tid: number;
  name?: string;
  end: string;
  frames: OurFrame[];
}

const normName = (n: string) => n.replace(/^__GI_/, '');

/** Compares one named value; returns a difference or undefined. */
function compareValue(where: string, name: string, gdb: string | undefined, ours: { status: string; text: string } | undefined, allowOursOnly: boolean): string | undefined {
  const gdbNone = gdb === undefined || gdbHasNoValue(gdb);
  const oursNone = !ours || ours.status !== 'ok';
  if (gdbNone && oursNone) return undefined;
  if (gdbNone) return allowOursOnly ? undefined : `${where}: ${name}: gdb has no value, we have ${ours!.text}`;
  if (oursNone) return `${where}: ${name}: gdb has ${gdb}, we have ${ours ? ours.text : 'nothing'}`;
  return gdb === ours!.text ? undefined : `${where}: ${name}: gdb ${gdb} != ours ${ours!.text}`;
}

function compareFrame(thread: string, g: GdbFrame, o: OurFrame, withLocals: boolean): string[] {
  const where = `${thread} #${g.level}`;
  const diffs: string[] = [];
  if (g.func === '<signal handler called>') {
    if (!o.signalTrampoline) diffs.push(`${where}: gdb has the signal frame, we have ${o.function}`);
    return diffs;
  }
  if (normName(g.func) !== o.function) diffs.push(`${where}: function ${g.func} != ${o.function}`);
  if (g.addr !== BigInt(o.pc)) diffs.push(`${where}: address 0x${g.addr.toString(16)} != ${o.pc}`);
  // Files as gdb names them (the line table's directory entry and name, not joined to the unit's directory).
  if (g.file !== undefined && (g.file !== o.file || g.line !== o.line)) diffs.push(`${where}: ${g.file}:${g.line} != ${o.file}:${o.line}`);
  const ours = new Map(o.args.map((a) => [a.name, a]));
  for (const a of g.args) {
    const entry = a.name.endsWith('@entry');
    const name = entry ? a.name.slice(0, -'@entry'.length) : a.name;
    const mine = ours.get(name);
    if (!mine) {
      diffs.push(`${where}: gdb shows argument ${a.name}, we do not`);
      continue;
    }
    // Entry values gdb finds and we do not: see the caller-saved register note above.
    const d = entry ? (mine.entry ? compareValue(where, a.name, a.value, mine.entry, true) : undefined) : compareValue(where, a.name, a.value, mine, true);
    if (d) diffs.push(d);
  }
  const gdbArgs = new Set(g.args.map((a) => a.name.replace(/@entry$/, '')));
  for (const a of o.args) if (!gdbArgs.has(a.name)) diffs.push(`${where}: we show argument ${a.name}, gdb does not`);
  if (withLocals && g.locals) {
    const mineLocals = new Map<string, OurValue>();
    for (const l of o.locals ?? []) if (!mineLocals.has(l.name)) mineLocals.set(l.name, l);
    for (const l of g.locals) {
      const d = compareValue(where, `local ${l.name}`, l.value, mineLocals.get(l.name), false);
      if (d) diffs.push(d);
    }
  }
  return diffs;
}

/** Compares every thread; the -O2 recursion may legitimately have values gdb lacks (see above). */
function compareStacks(t: ExecutionContext, gdb: readonly GdbThread[], ours: readonly OurThread[], withLocals: boolean): void {
  t.deepEqual(ours.map((th) => th.tid).sort((a, b) => a - b), gdb.map((th) => th.tid), 'the same threads');
  const diffs: string[] = [];
  for (const g of gdb) {
    const o = ours.find((x) => x.tid === g.tid)!;
    const label = `thread ${g.tid} (${g.name ?? '?'})`;
    if (o.name !== g.name) diffs.push(`${label}: name ${o.name}`);
    if (o.frames.length !== g.frames.length) {
      diffs.push(`${label}: ${o.frames.length} frames, gdb ${g.frames.length}: ours ${o.frames.map((f) => f.function).join(' < ')}; gdb ${g.frames.map((f) => f.func).join(' < ')}`);
      continue;
    }
    t.is(o.end, 'bottom', `${label} ends at the bottom of its stack`);
    g.frames.forEach((gf, i) => diffs.push(...compareFrame(label, gf, o.frames[i]!, withLocals)));
  }
  t.deepEqual(diffs, []);
}

async function withScenes(opt: '-O0' | '-O2', fn: (p: Detached) => Promise<void>): Promise<void> {
  const p = await startDetached([scenesProgram(opt), scenesPlugin()], /^ready \d+/m);
  try {
    await fn(p);
  } finally {
    p.kill();
  }
}

async function ourStacks(t: ExecutionContext, pid: number, ...extra: string[]): Promise<OurThread[]> {
  const r = await stackdb('backtrace', '-p', String(pid), '--json', ...extra);
  t.is(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { threads: OurThread[] }).threads;
}

for (const opt of ['-O0', '-O2'] as const) {
  systemTest(test, `every thread's frames, lines, argument values and locals agree with gdb on the same process (${opt}: threads, signal handler, 1,000-frame recursion, qsort callback, dlopen, inlined calls)`, NEEDS, async (t) => {
    await withScenes(opt, async (p) => {
      const gdb = gdbStacks(p.pid, { locals: true });
      t.is(gdb.length, 7, 'gdb sees the main thread and six scenes');
      const ours = await ourStacks(t, p.pid, '--locals');
      compareStacks(t, gdb, ours, true);
      const byName = (n: string) => ours.find((th) => th.name === n)!.frames.map((f) => f.function);
      t.is(byName('recurse').filter((f) => f === 'recurse').length, 1000);
      t.true(byName('plugin').includes('plugin_inner'), 'frames in the dlopened library resolve');
      t.deepEqual(byName('inline').slice(2, 5), ['inner_inline', 'middle_inline', 'outer']);
      if (opt === '-O2') {
        // Cut by --depth, the last frame shown still gets its entry values from the caller's call site.
        const cut = (await ourStacks(t, p.pid, '--depth', '4')).find((th) => th.name === 'recurse')!;
        t.is(cut.end, 'depth-limit');
        t.is(cut.frames[3]!.args.find((a) => a.name === 'depth')!.entry?.text, '999');
      }
      // Both leave the program running, untraced.
      t.is(tracerOf(p.pid), 0);
      t.not(procState(p.pid), 't');
    });
  }, { serial: true });
}

/** Addresses, ids, paths and system-library frames made stable for a golden file. */
function sanitize(text: string, program: string): string {
  const repo = path.resolve(here, '../../../..');
  return text
    .split('\n')
    .map((l) => {
      // Frames in system libraries depend on the glibc build: keep their function only.
      const m = /^(#\d+\s+)(0x[0-9a-f]+ in )?(\S+) \(.*\) (?:at (?!\/work|\/)|from \/(?:usr\/)?lib)/.exec(l);
      if (m && !l.includes(repo)) return `${m[1]}${m[2] ?? ''}${m[3]} (...) [system library]`;
      return l;
    })
    .join('\n')
    .replaceAll(program, '<program>')
    .replaceAll(repo, '<repo>')
    .replace(/0x[0-9a-f]{6,}/g, '0xADDR')
    .replace(/^thread \d+/gm, 'thread TID');
}

systemTest(test, 'the text form matches its golden file (the seed\'s shape: #N 0xADDR in func (args) at file:line, one block per thread; --depth cuts it)', NEEDS, async (t) => {
  await withScenes('-O0', async (p) => {
    const r = await stackdb('backtrace', '-p', String(p.pid), '--depth', '8');
    t.is(r.code, 0, r.stderr);
    // Thread blocks in creation order (ids may wrap around pid_max).
    const order = ['bt-scenes-O0', 'recurse', 'qsort', 'signal', 'plugin', 'inline', 'values'];
    const rank = (b: string) => order.indexOf(/^thread \d+ \((.*)\):/.exec(b)?.[1] ?? '');
    const blocks = r.stdout.trimEnd().split('\n\n').sort((a, b) => rank(a) - rank(b));
    const text = blocks.join('\n\n') + '\n';
    t.is(text.length, r.stdout.length);
    const { ok, expected } = matchGolden(path.join(golden, 'backtrace-scenes-O0.txt'), sanitize(text, scenesProgram('-O0')));
    t.true(ok, `differs from the golden file (see the .actual file next to it):\n${expected}`);
  });
}, { serial: true });

systemTest(test, '--thread TID prints only that thread, with its locals when asked', NEEDS, async (t) => {
  await withScenes('-O0', async (p) => {
    const threads = await ourStacks(t, p.pid);
    const values = threads.find((th) => th.name === 'values')!;
    const r = await stackdb('backtrace', '-p', String(p.pid), '--thread', String(values.tid), '--locals');
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`^thread ${values.tid} \\(values\\):\\n`));
    t.is(r.stdout.match(/^thread /gm)?.length, 1);
    t.regex(r.stdout, /in show_values \(c=65 'A', uc=200 '\\310', s=-300, us=60000, i=-70000, u=4000000000, l=-5000000000, ul=18000000000000000000, ll=-9000000000000000000, f=1.5, d=-2.25, b=true, e=GREEN, str=0x[0-9a-f]+ "hello", pp=0x[0-9a-f]+ <origin>, fn=0x[0-9a-f]+ <from_plugin>\)/);
    t.regex(r.stdout, /^ {8}fl = \{ready = 1, level = -2, mode = 9\}$/m);
    t.regex(r.stdout, /^ {8}p = \{x = 3, y = -4\}$/m);
    const bad = await stackdb('backtrace', '-p', String(p.pid), '--thread', '1');
    t.not(bad.code, 0);
    t.regex(bad.stderr, /^stackdb: .*\b1\b.*\n$/);
  });
}, { serial: true });

systemTest(test, 'library tracking: the loader\'s list is followed while the program runs under monitor(), so frames in a library loaded by dlopen resolve, and unloads are seen', NEEDS, async (t) => {
  const prog = buildFixture({ name: 'dlopen-rounds', sources: ['packages/cli/test/dlopen-rounds.c'], flags: ['-g', '-O0'] });
  const plugin = scenesPlugin();
  const registry = Registry.discover();
  const [target] = await openTargets(parseCommandLine(['--', prog, plugin], { drivers: registry.drivers }).targets, registry);
  if (!target) return t.fail('no target');
  try {
    const program = new ProgramSymbols(target);
    const walker = standardWalker(target, program);
    const libs = LibraryState.for(target, program);
    t.is(LibraryState.for(target, program), libs, 'one per target');
    // Before the loader ran there is no list yet, but there is a place to be told.
    t.deepEqual(await libs.libraries(), []);
    t.truthy(await libs.trapAddress());
    const changes: LibraryChange[] = [];
    libs.on('change', (c) => changes.push(c));
    await libs.track();
    t.true(libs.tracking);
    const [back] = await program.lookupSymbol('called_back');
    await ProbeManager.for(target).breakpoint(back!.start, { pre: () => 'stop' });
    const names = (c: readonly { path: string }[]) => c.map((l) => path.basename(l.path));
    for (let round = 0; round < 2; round++) {
      t.is((await target.monitor()).reason, 'stopped');
      const added = changes.flatMap((c) => c.added);
      t.true(names(added).includes(path.basename(plugin)), `round ${round}: the plugin was reported loaded: ${names(added).join(' ')}`);
      t.true(names(changes[0]!.added).includes('libc.so.6'), 'the loader\'s first consistent list had libc');
      const main = (await libs.aOut())!;
      t.is(main.path, prog);
      t.regex((await libs.libc())!.path, /libc\.so/);
      const [thread] = await target.threads();
      const bt = await backtrace(walker, program, thread!);
      t.deepEqual(bt.frames.slice(0, 4).map((f) => f.frame.name), ['called_back', 'plugin_inner', 'plugin_entry', 'main']);
      const lib = await libs.libraryAt(bt.frames[1]!.pc);
      t.is(lib?.path, plugin);
      t.is(bt.frames[1]!.frame.module?.bias, lib?.base);
      if (round === 1) t.true(names(changes.flatMap((c) => c.removed)).includes(path.basename(plugin)), 'the first dlclose was reported');
    }
    t.is((await target.monitor()).reason, 'exited');
  } finally {
    if (target.status !== 'exited') await target.kill();
    await target.close();
  }
}, { serial: true });

systemTest(test, 'a launched program is shown after --delay, or where a probe stopped it with --at, and left running', NEEDS, async (t) => {
  const prog = scenesProgram('-O0');
  const launch = async (...opts: string[]) => {
    const r = await stackdb('backtrace', '--json', ...opts, '-O', '/dev/null', '--', prog, scenesPlugin());
    t.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { name: string; threads: OurThread[] };
    return { pid: Number(/\((\d+)\)/.exec(out.name)![1]), threads: out.threads };
  };
  const check = (pid: number) => {
    t.is(tracerOf(pid), 0);
    t.not(procState(pid), 't');
    process.kill(pid, 'SIGKILL');
  };
  // The first park() is the recursion scene's, 1,000 frames down.
  const at = await launch('--at', 'park');
  const hit = at.threads.find((th) => th.frames[0]?.function === 'park');
  t.is(hit?.name, 'recurse');
  t.is(hit?.frames.filter((f) => f.function === 'recurse').length, 1000);
  check(at.pid);
  const delayed = await launch('--delay', '600');
  t.deepEqual(delayed.threads.map((th) => th.name).sort(), [path.basename(prog), 'recurse', 'qsort', 'signal', 'plugin', 'inline', 'values'].sort());
  check(delayed.pid);
}, { serial: true });
