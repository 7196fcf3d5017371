import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { buildFixture, keepTailCallsGdbShows, parseGdbBacktrace, run, systemTest, type Need } from '@stackdb/test-support';
import { sharedVm, vmNeeds, type Vm } from '@stackdb/test-vm';

/*
 * `stackdb` as a user runs it (packages/cli/bin/stackdb.js, a child process)
 * on machines and on files, each result compared with gdb looking at the same
 * state:
 * - the booted test VM through the gdb driver and the QEMU helper (`-t gdb
 *   --qemu --kvm …`; the VM runs under TCG: KVM cannot run a stock guest on
 *   our machines, and `--kvm` is accepted with a warning saying so). gdb looks
 *   first and leaves with `disconnect`, which keeps the VM stopped where it was;
 * - a dump-guest-memory vmcore of the VM (`--core DUMP -M VMLINUX`), gdb reading
 *   QEMU's paging dump of the same frozen state;
 * - a parked multi-threaded program (test/machine/parked.c) behind gdbserver
 *   and behind Valgrind's vgdb, and its cores made by gcore and by the kernel.
 * dumptarget prints the file names `cat` opens in the guest (a probe on
 * do_sys_openat2 through the stub's Z0 or Z1), and each call of a user
 * function through gdbserver and vgdb (test/machine/ticker.c).
 * Compared: threads, every frame's function, pc, file:line (named as gdb names
 * files) and each argument gdb prints a value for.
 * Frames of functions that left by a tail call, which gdb shows only when it
 * can prove them, are skipped where gdb has none.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../bin/stackdb.js');
const GDB: Need = { command: 'gdb', package: 'gdb' };
const GCC: Need = { command: 'gcc', package: 'gcc' };
const VM_NEEDS: Need[] = [...vmNeeds, GDB];
const getVm = sharedVm(test);
const serial = { serial: true };

// ---------------------------------------------------------------- running things

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `stackdb ARGS` through its bin script; `onStdout`/`onStderr` see the output as it comes. */
function stackdb(args: readonly string[], opts: { onStdout?: (all: string, child: ChildProcess) => void; onStderr?: (all: string) => void; timeoutMs?: number } = {}): Promise<Ran> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    opts.onStdout?.(stdout, child);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    opts.onStderr?.(stderr);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

/** A started process whose output is collected. */
interface Started {
  readonly child: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  /** stdout alone (stderr lines may fall inside stdout lines in the mix). */
  stdout(): string;
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Kills the process unless it exits by itself within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

function start(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): Started {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  let text = '';
  let stdout = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout!.on('data', (d: Buffer) => {
    text += d.toString();
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return {
    child,
    output: () => text,
    stdout: () => stdout,
    async waitFor(re, ms = 30_000) {
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
        const m = re.exec(text);
        if (m) return m;
        if (child.exitCode !== null || child.signalCode !== null) break;
      }
      throw new Error(`${cmd}: no ${re} in:\n${text.slice(-2000)}`);
    },
    async stop(graceMs = 0) {
      if (graceMs) await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Runs gdb in batch mode; with `whileRunning`, that is called once its first breakpoint is set. */
async function gdb(args: readonly string[], whileRunning?: () => void): Promise<string> {
  const p = start('gdb', ['-batch', '-nx', '-iex', 'set debuginfod enabled off', '-ex', 'set pagination off', ...args]);
  if (whileRunning) {
    await p.waitFor(/^Breakpoint 1 at /m, 120_000);
    whileRunning();
  }
  await new Promise<void>((resolve) => (p.child.exitCode !== null ? resolve() : p.child.once('exit', () => resolve())));
  if (p.child.exitCode !== 0) throw new Error(`gdb ${args.join(' ')} failed:\n${p.output()}`);
  return p.stdout();
}

// ------------------------------------------------------------ backtraces as data

/** A frame as gdb prints it: arguments by name with their value and entry value. */
interface GdbFrame {
  readonly pc?: bigint;
  readonly name: string;
  readonly args: Map<string, { value?: string; entry?: string }>;
  readonly file?: string;
  readonly line?: number;
}

/** gdb's `a=1`, `a=a@entry=1`, `a@entry=1` (and `a=2, a@entry=1` as two items) by name. */
function gdbArgs(items: readonly string[]): Map<string, { value?: string; entry?: string }> {
  const out = new Map<string, { value?: string; entry?: string }>();
  for (const item of items) {
    const eq = item.indexOf('=');
    const lhs = item.slice(0, eq);
    const rhs = item.slice(eq + 1);
    const name = lhs.replace(/@entry$/, '');
    const cur = out.get(name) ?? {};
    if (lhs.endsWith('@entry')) cur.entry = rhs;
    else if (rhs.startsWith(`${name}@entry=`)) cur.value = cur.entry = rhs.slice(name.length + 7);
    else cur.value = rhs;
    out.set(name, cur);
  }
  return out;
}

function gdbFrames(block: string): GdbFrame[] {
  return parseGdbBacktrace(block).map((f) => ({ ...f, args: gdbArgs(f.args) }));
}

/**
 * `thread apply all bt` by thread id: the LWP (live processes and cores),
 * the thread of `pPID.TID` (gdbserver), or the stub's thread number.
 */
function gdbThreads(out: string): Map<number, GdbFrame[]> {
  const heads = [...out.matchAll(/^Thread \d+ \((.*)\):$/gm)];
  const threads = new Map<number, GdbFrame[]>();
  heads.forEach((h, i) => {
    const id = /LWP (\d+)/.exec(h[1]!) ?? /^Thread \d+\.(\d+)/.exec(h[1]!) ?? /^Thread (\d+)/.exec(h[1]!);
    if (!id) throw new Error(`cannot read the thread of gdb's ${h[0]}`);
    threads.set(Number(id[1]), gdbFrames(out.slice(h.index + h[0].length, heads[i + 1]?.index ?? out.length)));
  });
  return threads;
}

/** `stackdb backtrace --json`: the parts compared. */
interface OurValue {
  readonly name: string;
  readonly status: string;
  readonly text: string;
  readonly entry?: { readonly status: string; readonly text: string };
}
interface OurFrame {
  readonly pc: string;
  readonly function: string | null;
  readonly tailCall?: boolean;
  readonly file?: string;
  readonly line?: number;
  readonly args: readonly OurValue[];
}
interface OurThread {
  readonly tid: number;
  readonly name?: string;
  readonly end: string;
  readonly frames: readonly OurFrame[];
}

function ourThreads(json: string): OurThread[] {
  return (JSON.parse(json) as { threads: OurThread[] }).threads;
}

const gdbNoValue = (v: string | undefined) => v === undefined || v.includes('<optimized out>') || v.includes('<unavailable>') || v.includes('<error');
/** gdb names some glibc functions by an internal ELF alias. */
const normName = (n: string) => n.replace(/^__GI_/, '');

/**
 * Differences between our frames and gdb's for one thread, over `count`
 * frames of gdb's (all of them by default).
 */
function frameDiffs(label: string, all: readonly OurFrame[], theirs: readonly GdbFrame[], count = theirs.length): string[] {
  const diffs: string[] = [];
  const ours = keepTailCallsGdbShows(all, theirs, (o) => o.tailCall === true, (o) => o.function);
  if (ours.length < count || theirs.length < count) return [`${label}: ${ours.length} frames (${ours.map((f) => f.function).join(' < ')}), gdb ${theirs.length} (${theirs.map((f) => f.name).join(' < ')})`];
  for (let i = 0; i < count; i++) {
    const o = ours[i]!;
    const g = theirs[i]!;
    const where = `${label} #${i} ${g.name}`;
    if (o.function !== normName(g.name)) diffs.push(`${where}: function ${o.function}`);
    if (g.pc !== undefined && BigInt(o.pc) !== g.pc) diffs.push(`${where}: pc ${o.pc}, gdb 0x${g.pc.toString(16)}`);
    if (g.file !== undefined && o.file !== undefined && (o.file !== g.file || o.line !== g.line)) diffs.push(`${where}: ${o.file}:${o.line}, gdb ${g.file}:${g.line}`);
    const mine = new Map(o.args.map((a) => [a.name, a]));
    for (const [name, v] of g.args) {
      const a = mine.get(name);
      if (!gdbNoValue(v.value) && (a?.status !== 'ok' || a.text !== v.value)) diffs.push(`${where}: ${name}=${a ? a.text : '(none)'}, gdb ${v.value}`);
      if (!gdbNoValue(v.entry) && (a?.entry?.status !== 'ok' || a.entry.text !== v.entry)) diffs.push(`${where}: ${name}@entry=${a?.entry?.text ?? '(none)'}, gdb ${v.entry}`);
    }
  }
  return diffs;
}

// --------------------------------------------------------------- the user program

function parkedProgram(): string {
  return buildFixture({ name: 'cli-parked', sources: ['packages/cli/test/machine/parked.c'], flags: ['-g', '-O0', '-pthread'] });
}

/** Our user-program stacks against gdb's: every thread, every frame gdb shows (it stops at main; we go on to _start). */
function compareProgram(t: ExecutionContext, ours: readonly OurThread[], theirs: Map<number, GdbFrame[]>): void {
  t.deepEqual(ours.map((th) => th.tid).sort(), [...theirs.keys()].sort(), 'the same threads');
  const diffs: string[] = [];
  for (const th of ours) diffs.push(...frameDiffs(`thread ${th.tid}`, th.frames, theirs.get(th.tid) ?? []));
  t.deepEqual(diffs, []);
  // The program's own frames with their arguments, as parked.c arranges them.
  const names = ours.map((th) => th.frames.map((f) => f.function).filter((f) => f === 'park' || f === 'descend' || f === 'main_wait' || f === 'worker'));
  t.deepEqual(names.map((n) => n.join(' ')).sort(), ['park descend descend descend descend worker', 'park descend descend descend worker', 'park main_wait']);
}

const STUB_NEEDS: Need[] = [GDB, GCC, { command: 'gdbserver', package: 'gdbserver' }];
const VGDB_NEEDS: Need[] = [GDB, GCC, { command: 'valgrind', package: 'valgrind' }, { command: 'vgdb', package: 'valgrind' }];

systemTest(test, 'backtrace through gdbserver: every thread agrees with gdb on the same stopped program', STUB_NEEDS, async (t) => {
  const exe = parkedProgram();
  const program = start(exe, []);
  const pid = Number((await program.waitFor(/^ready (\d+)$/m))[1]);
  const port = await freePort();
  // Without --once gdbserver keeps the program stopped for the next client when gdb disconnects.
  const server = start('gdbserver', ['--attach', `127.0.0.1:${port}`, String(pid)]);
  try {
    await server.waitFor(/Listening on port/);
    const theirs = gdbThreads(await gdb([exe, '-ex', `target remote 127.0.0.1:${port}`, '-ex', 'thread apply all bt', '-ex', 'disconnect']));
    await server.waitFor(/Listening on port[^]*Listening on port/);
    const r = await stackdb(['backtrace', '--gdb-host', '127.0.0.1', '--gdb-port', String(port), '--json']);
    t.is(r.code, 0, r.stderr);
    compareProgram(t, ourThreads(r.stdout), theirs);
    // stackdb detached: the program runs on, untraced, and gdbserver is done.
    await new Promise((r) => setTimeout(r, 200));
    t.regex(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^TracerPid:\s+0$/m);
  } finally {
    await server.stop();
    await program.stop();
  }
});

systemTest(test, "backtrace through Valgrind's vgdb: every thread agrees with gdb through vgdb on the same parked program", VGDB_NEEDS, async (t) => {
  const exe = parkedProgram();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-vgdb-'));
  const valgrind = start('valgrind', ['--vgdb=yes', `--vgdb-prefix=${dir}/vgdb`, '-q', exe]);
  try {
    const pid = valgrind.child.pid!;
    await valgrind.waitFor(/^ready \d+$/m, 60_000);
    /** vgdb relays one client on a TCP port; the program stays parked between clients. */
    const relay = async <T>(fn: (port: number) => Promise<T>): Promise<T> => {
      const port = await freePort();
      const vgdb = start('vgdb', [`--vgdb-prefix=${dir}/vgdb`, `--pid=${pid}`, `--port=${port}`]);
      try {
        await vgdb.waitFor(/listening on port/i);
        return await fn(port);
      } finally {
        // vgdb ends when its client leaves; killing it while it finishes would leave Valgrind's side in the middle of a conversation.
        await vgdb.stop(5000);
      }
    };
    const theirs = gdbThreads(await relay((port) => gdb([exe, '-ex', `target remote 127.0.0.1:${port}`, '-ex', 'thread apply all bt', '-ex', 'disconnect'])));
    const r = await relay((port) => stackdb(['backtrace', '--gdb-host', '127.0.0.1', '--gdb-port', String(port), '--json']));
    t.is(r.code, 0, r.stderr);
    compareProgram(t, ourThreads(r.stdout), theirs);
  } finally {
    await valgrind.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------- probes through the stubs

function tickerProgram(): string {
  return buildFixture({ name: 'cli-ticker', sources: ['packages/cli/test/machine/ticker.c'], flags: ['-g', '-O0'] });
}

/** `tick (0xADDR) (thread T) n = N, label = "L"`: the n of each line, after checking the rest. */
function tickHits(t: ExecutionContext, stdout: string, label: string): number[] {
  const lines = stdout.trim().split('\n');
  const ns: number[] = [];
  for (const l of lines) {
    const m = /^tick \(0x[0-9a-f]+\) \(thread (\d+)\) n = (\d+), label = "(.*)"$/.exec(l);
    t.truthy(m, l);
    if (!m) continue;
    t.is(m[3], label);
    ns.push(Number(m[2]));
  }
  return ns;
}

systemTest(test, 'dumptarget through gdbserver prints each call of a user function with its arguments; the program runs on', STUB_NEEDS, async (t) => {
  const port = await freePort();
  const server = start('gdbserver', ['--once', `127.0.0.1:${port}`, tickerProgram(), 'through-gdbserver']);
  let pid: number | undefined;
  try {
    pid = Number((await server.waitFor(/created; pid = (\d+)/))[1]);
    await server.waitFor(/Listening on port/);
    const r = await stackdb(['dumptarget', '--gdb-host', '127.0.0.1', '--gdb-port', String(port), '--count', '3', 'tick']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /^Registered probe tick at 0x[0-9a-f]+ on gdb\(/m);
    const ns = tickHits(t, r.stdout, 'through-gdbserver');
    t.deepEqual(ns, [ns[0]!, ns[0]! + 1, ns[0]! + 2], 'three calls in a row');
    // Detached after the third hit: the program goes on with the next calls.
    await server.waitFor(new RegExp(`^tick ${ns[0]! + 4}$`, 'm'));
  } finally {
    // The program outlives a detached gdbserver: end it too.
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await server.stop();
  }
});

systemTest(test, "dumptarget through Valgrind's vgdb prints each call of a user function with its arguments; the program runs on", VGDB_NEEDS, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-vgdb-'));
  // --vgdb-error=0: the program waits for a debugger before its first instruction.
  const valgrind = start('valgrind', ['--vgdb=yes', '--vgdb-error=0', `--vgdb-prefix=${dir}/vgdb`, '-q', tickerProgram(), 'through-vgdb']);
  const port = await freePort();
  let vgdb: Started | undefined;
  try {
    await valgrind.waitFor(/TO DEBUG THIS PROCESS USING GDB/, 60_000);
    vgdb = start('vgdb', [`--vgdb-prefix=${dir}/vgdb`, `--pid=${valgrind.child.pid}`, `--port=${port}`]);
    await vgdb.waitFor(/listening on port/i);
    const r = await stackdb(['dumptarget', '--gdb-host', '127.0.0.1', '--gdb-port', String(port), '--count', '3', 'tick'], { timeoutMs: 120_000 });
    t.is(r.code, 0, r.stderr);
    const ns = tickHits(t, r.stdout, 'through-vgdb');
    t.deepEqual(ns, [1, 2, 3], 'from the first call on');
    await valgrind.waitFor(/^tick 5$/m, 60_000);
  } finally {
    await vgdb?.stop(5000);
    await valgrind.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ process cores

interface Core {
  readonly file: string;
  readonly exe: string;
  readonly dir: string;
}

async function makeCore(kind: 'gcore' | 'kernel'): Promise<Core> {
  const exe = parkedProgram();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `stackdb-cli-${kind}-`));
  const p = kind === 'gcore' ? start(exe, [], { cwd: dir }) : start('sh', ['-c', 'ulimit -c unlimited && exec "$0"', exe], { cwd: dir });
  try {
    const pid = Number((await p.waitFor(/^ready (\d+)$/m))[1]);
    if (kind === 'gcore') run('gcore', ['-o', path.join(dir, 'core'), String(pid)]);
    else p.child.kill('SIGSEGV');
  } finally {
    if (kind === 'gcore') await p.stop();
    else await new Promise((r) => (p.child.exitCode !== null || p.child.signalCode !== null ? r(undefined) : p.child.once('exit', r)));
  }
  const name = fs.readdirSync(dir).find((f) => f.startsWith('core'));
  if (!name) throw new Error(`no core in ${dir}`);
  return { file: path.join(dir, name), exe, dir };
}

/** Why the kernel would not write a core into the crashing process's directory (the system's setting is left alone). */
function kernelCoresMissing(): string | undefined {
  const pattern = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
  if (pattern.startsWith('|')) return `core_pattern pipes cores to ${pattern.slice(1).split(' ')[0]}`;
  if (pattern.includes('/')) return `core_pattern ${pattern} writes cores elsewhere`;
  return undefined;
}

const CORE_NEEDS: Record<'gcore' | 'kernel', Need[]> = {
  gcore: [GDB, GCC, { command: 'gcore', package: 'gdb' }],
  kernel: [GDB, GCC, { check: kernelCoresMissing, what: 'kernel core dumps into the working directory' }],
};

for (const kind of ['gcore', 'kernel'] as const) {
  systemTest(test, `backtrace --core and dumpthreads --core on a ${kind} core: every thread agrees with gdb -c CORE EXE`, CORE_NEEDS[kind], async (t) => {
    const core = await makeCore(kind);
    try {
      const theirs = gdbThreads(await gdb(['-c', core.file, core.exe, '-ex', 'thread apply all bt']));
      const r = await stackdb(['backtrace', '--core', core.file, '--json']);
      t.is(r.code, 0, r.stderr);
      compareProgram(t, ourThreads(r.stdout), theirs);
      // The text form: one block per thread, the seed's frame lines.
      const text = await stackdb(['backtrace', '--core', core.file]);
      t.is(text.code, 0, text.stderr);
      t.deepEqual(text.stdout.match(/^thread \d+.*:$/gm)?.map((h) => /\((.*)\)/.exec(h)?.[1]), ['cli-parked', undefined, undefined], text.stdout);
      t.regex(text.stdout, /^#2 +0x[0-9a-f]+ in descend \(job=0x[0-9a-f]+ <jobs\+16>, depth=4, why=0x[0-9a-f]+ "worker"\) at \S*parked\.c:47$/m);
      // dumpthreads: the same threads, with the registers gdb reads from the core.
      const regs = gdbThreadRegisters(await gdb(['-c', core.file, core.exe, '-ex', 'thread apply all info registers rip rsp rbp']));
      const d = await stackdb(['dumpthreads', '--core', core.file, '--json']);
      t.is(d.code, 0, d.stderr);
      const threads = (JSON.parse(d.stdout) as { threads: { tid: number; registers: Record<string, string> }[] }).threads;
      t.deepEqual(threads.map((th) => th.tid).sort(), [...regs.keys()].sort());
      for (const th of threads) {
        for (const [name, value] of regs.get(th.tid)!) t.is(BigInt(th.registers[name] ?? -1), value, `thread ${th.tid} ${name}`);
      }
    } finally {
      fs.rmSync(core.dir, { recursive: true, force: true });
    }
  });
}

/** `thread apply all info registers …` by thread. */
function gdbThreadRegisters(out: string): Map<number, Map<string, bigint>> {
  const heads = [...out.matchAll(/^Thread \d+ \((.*)\):$/gm)];
  const res = new Map<number, Map<string, bigint>>();
  heads.forEach((h, i) => {
    const tid = Number((/LWP (\d+)/.exec(h[1]!) ?? /^Thread \d+\.(\d+)/.exec(h[1]!) ?? /^Thread (\d+)/.exec(h[1]!))![1]);
    const regs = new Map<string, bigint>();
    for (const m of out.slice(h.index, heads[i + 1]?.index ?? out.length).matchAll(/^(\w+)\s+(0x[0-9a-f]+)/gm)) regs.set(m[1]!, BigInt(m[2]!));
    res.set(tid, regs);
  });
  return res;
}

// ------------------------------------------------------------------------ the VM

function vmArgs(vm: Vm): string[] {
  return ['-t', 'gdb', '--qemu', '--kvm', '--gdb-port', String(vm.gdbPort), '--qemu-qmp-port', String(vm.qmpPort), '--qemu-mem-path', vm.ramFile, '-M', vm.vmlinux];
}

async function vmStatus(vm: Vm): Promise<string> {
  return ((await vm.qmp('query-status')) as { status: string }).status;
}

async function vmRuns(vm: Vm): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    if ((await vmStatus(vm)) === 'running') return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** gdb on the live VM's stub; `disconnect` leaves the machine stopped where gdb saw it. */
function gdbOnVm(vm: Vm, commands: readonly string[], whileRunning?: () => void): Promise<string> {
  return gdb([vm.vmlinux, '-ex', `target remote 127.0.0.1:${vm.gdbPort}`, ...commands.flatMap((c) => ['-ex', c]), '-ex', 'disconnect'], whileRunning);
}

/** The vCPU's kernel stack against gdb's: every frame we have (gdb walks on past the kernel's first frame into garbage). */
function compareKernel(t: ExecutionContext, ours: OurThread, theirs: GdbFrame[], minFrames: number): void {
  const own = keepTailCallsGdbShows(ours.frames, theirs, (f) => f.tailCall === true, (f) => f.function);
  t.true(own.length >= minFrames, `${own.length} kernel frames: ${own.map((f) => f.function).join(' < ')}`);
  t.deepEqual(frameDiffs(`CPU thread ${ours.tid}`, ours.frames, theirs, Math.min(own.length, theirs.length)), []);
}

systemTest(test, 'a vCPU stopped in do_sys_openat2: backtrace -t gdb --qemu --kvm … -M VMLINUX live, and backtrace/dumpthreads --core on its dump-guest-memory vmcore, agree with gdb (names, pcs, lines, argument values)', VM_NEEDS, async (t) => {
  const vm = await getVm();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-cli-vmcore-'));
  try {
    // gdb stops the guest where `cat` opens its file and leaves it there.
    let command: Promise<string> | undefined;
    const out = await gdbOnVm(vm, ['break *do_sys_openat2', 'continue', 'bt', 'delete'], () => {
      command = vm.console.run('cat /etc/hostname', { timeoutMs: 120_000 });
    });
    try {
      await lookAtSyscallStop(t, vm, out, dir);
    } finally {
      // The guest finishes its command before the next test watches it.
      await command?.catch(() => undefined);
    }
    t.is((await command)!.trim(), 'stackdb-vm');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, serial);

/** The checks of the test above, on the stop gdb left (`out` is gdb's output). */
async function lookAtSyscallStop(t: ExecutionContext, vm: Vm, out: string, dir: string): Promise<void> {
  const live = gdbFrames(out.slice(out.indexOf('Breakpoint 1,')));
  t.is(live[0]?.name, 'do_sys_openat2', out);
  // The same frozen state, dumped twice through the harness's own monitor: physical (ours), paging (gdb's).
  const physical = path.join(dir, 'physical.vmcore');
  const paged = path.join(dir, 'paged.vmcore');
  const hmp = await vm.hmp('info registers', 0);
  await vm.dumpGuestMemory(physical);
  await vm.qmp('dump-guest-memory', { paging: true, protocol: `file:${paged}` });

  const r = await stackdb(['backtrace', ...vmArgs(vm), '--json']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^warning: --kvm: QEMU at \S+ runs without KVM \(query-kvm: not enabled\); going on under its emulator \(TCG\)$/m);
  const [cpu] = ourThreads(r.stdout);
  compareKernel(t, cpu!, live, 4);
  t.is(cpu!.frames[0]!.function, 'do_sys_openat2');
  t.regex(cpu!.frames[0]!.args.find((a) => a.name === 'filename')?.text ?? '', /^0x[0-9a-f]+ "\/etc\/hostname"$/, 'read from user memory');
  t.true(await vmRuns(vm), 'stackdb detached: the VM runs on');

  // The vmcore: gdb reads QEMU's paging dump (no user memory in it: the file name is an error there).
  const dumped = await gdb([vm.vmlinux, '-c', paged, '-ex', 'echo @@bt\\n', '-ex', 'bt']);
  const theirs = gdbFrames(dumped.slice(dumped.indexOf('@@bt')));
  const c = await stackdb(['backtrace', '--core', physical, '-M', vm.vmlinux, '--json']);
  t.is(c.code, 0, c.stderr);
  const [dumpCpu] = ourThreads(c.stdout);
  t.is(dumpCpu!.name, 'CPU#0');
  compareKernel(t, dumpCpu!, theirs, 4);
  t.deepEqual(dumpCpu!.frames.map((f) => f.function), cpu!.frames.map((f) => f.function), 'the dump shows the stack the stub showed');
  const d = await stackdb(['dumpthreads', '--core', physical, '-M', vm.vmlinux, '--json']);
  t.is(d.code, 0, d.stderr);
  const [thread] = (JSON.parse(d.stdout) as { threads: { tid: number; name: string; registers: Record<string, string> }[] }).threads;
  t.like(thread, { tid: 1, name: 'CPU#0' });
  // QEMU's own view of the vCPU when it was dumped.
  for (const [name, hmpName] of [['rip', 'RIP'], ['rsp', 'RSP'], ['rdi', 'RDI'], ['cr3', 'CR3']] as const) {
    t.is(BigInt(thread!.registers[name] ?? -1), BigInt('0x' + new RegExp(`\\b${hmpName}=([0-9a-f]+)`).exec(hmp)![1]), name);
  }
}

systemTest(test, 'backtrace and dumpthreads -t gdb --qemu on the idle VM: the text form and the registers agree with gdb on the same stopped VM', VM_NEEDS, async (t) => {
  const vm = await getVm();
  const out = await gdbOnVm(vm, ['info registers rip rsp cr3', 'echo @@bt\\n', 'bt']);
  const theirs = gdbFrames(out.slice(out.indexOf('@@bt')));
  t.not(await vmStatus(vm), 'running', 'gdb left the VM stopped');
  // dumpthreads first: its detach lets the VM run, so gdb's stop is looked at once.
  const d = await stackdb(['dumpthreads', ...vmArgs(vm), '--json', '--all-registers']);
  t.is(d.code, 0, d.stderr);
  const [cpu] = (JSON.parse(d.stdout) as { threads: { tid: number; registers: Record<string, string> }[] }).threads;
  t.is(cpu!.tid, 1);
  for (const m of out.matchAll(/^(rip|rsp|cr3)\s+(0x[0-9a-f]+)/gm)) t.is(BigInt(cpu!.registers[m[1]!] ?? -1), BigInt(m[2]!), m[1]!);
  t.true(await vmRuns(vm));
  // The text form, on a fresh stop (gdb again first).
  const again = await gdbOnVm(vm, ['echo @@bt\\n', 'bt']);
  const theirs2 = gdbFrames(again.slice(again.indexOf('@@bt')));
  const r = await stackdb(['backtrace', ...vmArgs(vm)]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^thread 1:\n#0 +(0x[0-9a-f]+ in )?\w+ \(/);
  const ours = gdbFrames(r.stdout);
  t.true(ours.length >= 3);
  for (const [i, o] of ours.entries()) {
    if (i >= theirs2.length) break;
    t.is(o.name, theirs2[i]!.name, `#${i}`);
    if (theirs2[i]!.pc !== undefined && o.pc !== undefined) t.is(o.pc, theirs2[i]!.pc, `#${i} pc`);
    // gdb has no unwind data for the kernel's entry code: past an interrupt or exception entry it stops or walks into garbage.
    if (o.name.startsWith('asm_')) break;
  }
  t.true(theirs.length > 0);
  t.true(await vmRuns(vm));
}, serial);

systemTest(test, 'backtrace and dumpthreads --personality linux on the live VM list every task; a sleeping process’s kernel stack runs from the scheduler to its syscall', VM_NEEDS, async (t) => {
  const vm = await getVm();
  const pid = vm.pids.looper!;
  const d = await stackdb(['dumpthreads', ...vmArgs(vm), '--personality', 'linux', '--json']);
  t.is(d.code, 0, d.stderr);
  const threads = (JSON.parse(d.stdout) as { threads: { tid: number; name: string; pid: number; state: string }[] }).threads;
  t.like(threads.find((th) => th.tid === pid), { name: 'looper', pid, state: 'sleeping' });
  t.like(threads.find((th) => th.tid === 2), { name: 'kthreadd', pid: 2 });
  t.true(await vmRuns(vm), 'detached: the VM runs on');
  const r = await stackdb(['backtrace', ...vmArgs(vm), '--personality', 'linux', '--thread', String(pid)]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^thread ${pid} \\(looper\\):\n#0 +0x[0-9a-f]+ in context_switch \\(`));
  t.regex(r.stdout, /in do_nanosleep \(/);
  t.regex(r.stdout, /in entry_SYSCALL_64 \(\)\n*$/);
  const bad = await stackdb(['backtrace', ...vmArgs(vm), '--personality', 'linux', '--thread', '99999']);
  t.is(bad.code, 2);
  t.is(bad.stderr.trim().split('\n').at(-1), `stackdb: --thread 99999: gdb(tcp localhost:${vm.gdbPort}) has no task with that pid`);
  t.true(await vmRuns(vm));
}, serial);

for (const [label, extra] of [['Z0', []], ['--hardware (Z1)', ['--hardware']]] as const) {
  systemTest(test, `dumptarget -t gdb --qemu --kvm … -M VMLINUX do_sys_openat2 (${label}) prints the file names a guest command opens; the VM runs on after SIGINT`, vmNeeds, async (t) => {
    const vm = await getVm();
    let command: Promise<string> | undefined;
    let interrupted = false;
    const r = await stackdb(['dumptarget', ...vmArgs(vm), ...extra, 'do_sys_openat2'], {
      onStdout: (out, child) => {
        if (!interrupted && /"\/proc\/version"/.test(out)) {
          interrupted = true;
          child.kill('SIGINT');
        }
      },
      onStderr: (err) => {
        if (!command && err.includes('Starting main debugging loop!')) command = vm.console.run('cat /etc/hostname /proc/version', { timeoutMs: 120_000 });
      },
    });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /^Registered probe do_sys_openat2 at 0xffffffff[0-9a-f]+ on gdb\(tcp localhost:\d+\)\.$/m);
    t.regex(r.stderr, /interrupted \(\d+ hits?\)\.$/m);
    const opened = [...r.stdout.matchAll(/^do_sys_openat2 \(0x[0-9a-f]+\) \(thread 1\) dfd = -?\d+, filename = "([^"]*)", how = 0x[0-9a-f]+$/gm)].map((m) => m[1]);
    t.is(opened.length, r.stdout.trim().split('\n').length, r.stdout);
    t.deepEqual(opened.filter((f) => f === '/etc/hostname' || f === '/proc/version'), ['/etc/hostname', '/proc/version']);
    t.true(await vmRuns(vm), 'detached: the VM runs on');
    t.regex((await command)!, /^stackdb-vm\nLinux version /);
  }, serial);
}
