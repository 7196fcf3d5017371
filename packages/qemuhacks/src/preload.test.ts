import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import test from 'ava';
import { buildFixture, systemTest } from '@stackdb/test-support';
import { qemuEnv } from './index.js';

/*
 * The preload in a small program that makes QEMU 7.2's -mem-path calls
 * (test/mimic-qemu.c), built like QEMU with 64-bit file offsets (mmap64,
 * mkstemp64, open64) and without (mmap, mkstemp, open).
 */
const needs = [{ command: 'gcc', package: 'gcc' }];
const source = 'packages/qemuhacks/test/mimic-qemu.c';
const mimic = (lfs: boolean) => buildFixture({ name: lfs ? 'mimic-qemu-lfs' : 'mimic-qemu', sources: [source], flags: ['-O1', ...(lfs ? ['-D_FILE_OFFSET_BITS=64'] : [])] });

interface Run {
  child: ChildProcessWithoutNullStreams;
  file: string;
  lines: string[];
}

async function start(args: string[], opts: { preload?: boolean; prefix: string; lfs?: boolean }): Promise<Run> {
  const env = opts.preload === false ? process.env : { ...process.env, ...qemuEnv(opts.prefix) };
  const child = spawn(mimic(opts.lfs ?? true), args, { env });
  const lines: string[] = [];
  let buf = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (line.startsWith('ready ')) resolve(line.slice(6));
      }
    });
    child.once('exit', (code, sig) => reject(new Error(`mimic-qemu exited early (${code ?? sig})`)));
  });
  return { child, file: await ready, lines };
}

async function exitOf(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'qemuhacks-test-'));
}

/** What another process reads at offset 4096 of the file. */
function marker(file: string): string {
  const b = Buffer.alloc(64);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, b, 0, 64, 4096);
  } finally {
    fs.closeSync(fd);
  }
  return b.toString('latin1').replace(/\0.*$/s, '');
}

for (const lfs of [true, false]) {
  const flavour = lfs ? '64-bit names' : 'plain names';

  systemTest(test, `${flavour}: -mem-path DIR file is kept, shared, and removed on SIGTERM through the program's handler`, needs, async (t) => {
    const dir = tmpDir();
    try {
      const run = await start(['dir', dir, '1048576', 'sigaction', 'wait'], { prefix: dir + '/', lfs });
      t.true(run.lines.includes('view ok'), 'sigaction reports the program its own handler');
      t.true(fs.existsSync(run.file));
      t.is(marker(run.file), `mimic-qemu-ram ${run.child.pid}`);
      run.child.kill('SIGTERM');
      t.deepEqual(await exitOf(run.child), { code: 0, signal: null });
      t.false(fs.existsSync(run.file));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

systemTest(test, 'default disposition: the file is removed and the program still dies by the signal', needs, async (t) => {
  const dir = tmpDir();
  try {
    const run = await start(['dir', dir, '65536', 'none', 'wait'], { prefix: dir + '/' });
    t.is(marker(run.file), `mimic-qemu-ram ${run.child.pid}`);
    run.child.kill('SIGHUP');
    t.deepEqual(await exitOf(run.child), { code: null, signal: 'SIGHUP' });
    t.false(fs.existsSync(run.file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

systemTest(test, 'handlers set with signal() are chained too', needs, async (t) => {
  const dir = tmpDir();
  try {
    const run = await start(['dir', dir, '65536', 'signal', 'wait'], { prefix: dir + '/' });
    t.true(run.lines.includes('view ok'), 'signal() returns the program its own handler');
    run.child.kill('SIGINT');
    t.deepEqual(await exitOf(run.child), { code: 0, signal: null });
    t.false(fs.existsSync(run.file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

systemTest(test, 'a normal exit removes the file through atexit', needs, async (t) => {
  const dir = tmpDir();
  try {
    const run = await start(['dir', dir, '65536', 'none', 'stdin'], { prefix: dir + '/' });
    t.is(marker(run.file), `mimic-qemu-ram ${run.child.pid}`);
    run.child.stdin.end();
    t.deepEqual(await exitOf(run.child), { code: 0, signal: null });
    t.false(fs.existsSync(run.file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

systemTest(test, 'a file QEMU creates by name is shared and removed; a file that existed is shared and left', needs, async (t) => {
  const dir = tmpDir();
  try {
    const created = path.join(dir, 'ram-new');
    const run = await start(['file', created, '65536', 'sigaction', 'wait'], { prefix: dir + '/' });
    t.is(marker(created), `mimic-qemu-ram ${run.child.pid}`);
    run.child.kill('SIGTERM');
    await exitOf(run.child);
    t.false(fs.existsSync(created));

    const existing = path.join(dir, 'ram-old');
    fs.writeFileSync(existing, Buffer.alloc(65536));
    const run2 = await start(['file', existing, '65536', 'sigaction', 'wait'], { prefix: dir + '/' });
    t.is(marker(existing), `mimic-qemu-ram ${run2.child.pid}`);
    run2.child.kill('SIGTERM');
    await exitOf(run2.child);
    t.true(fs.existsSync(existing));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

systemTest(test, 'files outside the prefix, and runs without the preload, keep QEMU behaviour', needs, async (t) => {
  const dir = tmpDir();
  try {
    const outside = await start(['dir', dir, '65536', 'none', 'wait'], { prefix: path.join(dir, 'elsewhere') + '/' });
    t.false(fs.existsSync(outside.file), 'unlinked as QEMU asked');
    outside.child.kill('SIGTERM');
    await exitOf(outside.child);

    const existing = path.join(dir, 'plain');
    fs.writeFileSync(existing, Buffer.alloc(65536));
    const plain = await start(['file', existing, '65536', 'none', 'wait'], { prefix: dir + '/', preload: false });
    t.is(marker(existing), '', 'a private mapping never reaches the file');
    plain.child.kill('SIGTERM');
    await exitOf(plain.child);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

systemTest(test, 'SIGKILL cannot be caught: the file stays behind', needs, async (t) => {
  const dir = tmpDir();
  try {
    const run = await start(['dir', dir, '65536', 'sigaction', 'wait'], { prefix: dir + '/' });
    run.child.kill('SIGKILL');
    t.is((await exitOf(run.child)).signal, 'SIGKILL');
    t.true(fs.existsSync(run.file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
