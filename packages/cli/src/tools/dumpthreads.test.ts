import test from 'ava';
import { run, systemTest, type Need } from '@stackdb/test-support';
import { procState, scenesPlugin, scenesProgram, stackdb, startDetached, tracerOf } from '../test-support/scenes.js';

/*
 * `stackdb dumpthreads` on the backtrace test program (test/bt-scenes.c):
 * every thread with its registers, checked against gdb on the same process;
 * looping at an interval; on an attached and on a launched program, which are
 * left running (or killed with --kill).
 */

const NEEDS: Need[] = [{ command: 'gdb', package: 'gdb' }, { command: 'gcc', package: 'gcc' }];

interface ThreadJson {
  tid: number;
  name?: string;
  state: string;
  registers: Record<string, string>;
}
interface Round {
  target: number;
  name: string;
  round: number;
  threads: ThreadJson[];
}

/** Each thread's pc and sp as gdb reads them: tid → [pc, sp]. */
function gdbRegisters(pid: number): Map<number, [bigint, bigint]> {
  const out = run('gdb', ['-batch', '-nx', '-p', String(pid), '-ex', 'thread apply all printf "REGS %lx %lx\\n", $pc, $sp'], { timeoutMs: 60_000 });
  const regs = new Map<number, [bigint, bigint]>();
  let tid = 0;
  for (const line of out.split('\n')) {
    const h = /^Thread \d+ .*LWP (\d+)/.exec(line);
    if (h) tid = Number(h[1]);
    const r = /^REGS ([0-9a-f]+) ([0-9a-f]+)$/.exec(line);
    if (r && tid) regs.set(tid, [BigInt(`0x${r[1]}`), BigInt(`0x${r[2]}`)]);
  }
  return regs;
}

systemTest(test, 'every thread with its registers, which agree with gdb on the same process; the program is left running', NEEDS, async (t) => {
  const p = await startDetached([scenesProgram('-O0'), scenesPlugin()], /^ready \d+/m);
  try {
    const gdb = gdbRegisters(p.pid);
    t.is(gdb.size, 7);
    const text = await stackdb('dumpthreads', '-p', String(p.pid));
    t.is(text.code, 0, text.stderr);
    t.regex(text.stdout, new RegExp(`^threads in target 'ptrace\\(${p.pid}\\)':\\n`));
    const blocks = text.stdout.split(/^(?=tid\()/m).slice(1);
    t.is(blocks.length, 7);
    for (const [tid, [pc, sp]] of gdb) {
      const block = blocks.find((b) => b.startsWith(`tid(${tid}):`));
      if (!block) return t.fail(`no block for ${tid}`);
      t.regex(block, new RegExp(`\\brip=${pc.toString(16)}\\b`));
      t.regex(block, new RegExp(`\\brsp=${sp.toString(16)}\\b`));
    }
    t.regex(text.stdout, /name=recurse,/);
    const json = await stackdb('dumpthreads', '-p', String(p.pid), '--json');
    const round = JSON.parse(json.stdout) as Round;
    t.deepEqual(round.threads.map((th) => th.tid).sort(), [...gdb.keys()].sort());
    for (const th of round.threads) {
      t.is(BigInt(th.registers.rip!), gdb.get(th.tid)![0]);
      t.is(BigInt(th.registers.rsp!), gdb.get(th.tid)![1]);
    }
    t.is(tracerOf(p.pid), 0);
    t.not(procState(p.pid), 't');
  } finally {
    p.kill();
  }
}, { serial: true });

systemTest(test, '--interval dumps again after letting the program run, --count times', NEEDS, async (t) => {
  const p = await startDetached([scenesProgram('-O0'), scenesPlugin()], /^ready \d+/m);
  try {
    const r = await stackdb('dumpthreads', '-p', String(p.pid), '--json', '--interval', '50', '--count', '3');
    t.is(r.code, 0, r.stderr);
    const rounds = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Round);
    t.deepEqual(rounds.map((x) => x.round), [0, 1, 2]);
    for (const x of rounds) t.is(x.threads.length, 7);
    t.is(tracerOf(p.pid), 0);
  } finally {
    p.kill();
  }
}, { serial: true });

systemTest(test, 'a launched program is dumped after --delay and left running; --kill ends it instead', NEEDS, async (t) => {
  const prog = scenesProgram('-O0');
  for (const kill of [false, true]) {
    const r = await stackdb('dumpthreads', '--json', '--delay', '400', ...(kill ? ['--kill'] : []), '-O', '/dev/null', '--', prog, scenesPlugin());
    t.is(r.code, 0, r.stderr);
    const round = JSON.parse(r.stdout) as Round;
    const pid = Number(/\((\d+)\)/.exec(round.name)![1]);
    try {
      t.is(round.threads.length, 7, 'every scene had started');
      if (kill) {
        // A killed child is reaped by the driver: gone, or at most a zombie for a moment.
        t.true(procState(pid) === undefined || procState(pid) === 'Z');
      } else {
        t.is(tracerOf(pid), 0);
        t.not(procState(pid), 't');
      }
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}, { serial: true });
