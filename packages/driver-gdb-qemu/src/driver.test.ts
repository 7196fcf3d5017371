import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Registry, openTargets, parseCommandLine } from '@stackdb/core';
import { repoRoot, systemTest } from '@stackdb/test-support';
import { GDBSERVER_NEEDS, fixture, startGdbserver, symbols } from './test-support/stubs.js';

/*
 * The driver as tools reach it: discovered from its package.json declaration,
 * selected by its options, loaded from its entry module (the built
 * dist/driver.js), and cleaned up by core's signal and exit hooks.
 */

const registry = Registry.discover([path.join(repoRoot, 'node_modules')]);

test('--gdb-port selects the gdb driver; -M is then --main-filename', (t) => {
  const parsed = parseCommandLine(['--gdb-port', '4444', '-M', '/boot/vmlinux', '--memcache-mmap-size', '1048576', '-s'], { drivers: registry.drivers });
  const [spec] = parsed.targets;
  t.is(spec?.driver, 'gdb');
  t.is(spec?.selectedBy, '--gdb-port');
  t.deepEqual(spec?.options, { gdbPort: 4444, mainFilename: '/boot/vmlinux', memcacheMmapSize: 1048576 });
  t.true(spec?.common.softBreakpoints);
});

systemTest(test, 'openTargets connects to gdbserver through the registry; -M names the main module', GDBSERVER_NEEDS, async (t) => {
  const exe = fixture();
  const stub = await startGdbserver(exe, ['0']);
  try {
    const parsed = parseCommandLine(['--gdb-host', '127.0.0.1', '--gdb-port', String(stub.port), '-M', exe], { drivers: registry.drivers });
    const [target] = await openTargets(parsed.targets, registry);
    try {
      t.is(target!.name, `gdb(tcp 127.0.0.1:${stub.port})`);
      t.is(target!.status, 'paused');
      t.is((await target!.modules()).find((m) => m.main)?.path, exe);
    } finally {
      await target!.close();
    }
  } finally {
    await stub.dispose();
  }
});

/** Reads one byte of a live process through /proc. */
function procByte(pid: number, address: bigint): number {
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, address);
    return b[0]!;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A debugger process that opens the fixture through gdbserver with `-s`, puts
 * an int3 on checkpoint(), says "armed", and then ends as `how` says.
 */
async function debuggerThatDies(how: 'exit' | 'SIGTERM', port: number, at: bigint): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-cleanup-'));
  const script = path.join(dir, 'debugger.mjs');
  const core = path.join(repoRoot, 'packages/core/dist/index.js');
  fs.writeFileSync(script, `
    import { Registry, openTargets, parseCommandLine } from ${JSON.stringify(core)};
    const registry = Registry.discover([${JSON.stringify(path.join(repoRoot, 'node_modules'))}]);
    const parsed = parseCommandLine(['--gdb-host', '127.0.0.1', '--gdb-port', '${port}', '-s'], { drivers: registry.drivers });
    const [target] = await openTargets(parsed.targets, registry);
    await target.swBreakpoints.insert(${at}n);
    process.stdout.write('armed\\n');
    ${how === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
  `);
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (how === 'SIGTERM' && out.includes('armed')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

for (const how of ['exit', 'SIGTERM'] as const) {
  systemTest(test, `a debugger that ends by ${how === 'exit' ? 'process.exit()' : 'SIGTERM'} leaves no int3 behind and the program running`, GDBSERVER_NEEDS, async (t) => {
    const exe = fixture();
    const stub = await startGdbserver(exe, ['0']);
    try {
      const at = symbols(exe).get('checkpoint')!;
      const out = await debuggerThatDies(how, stub.port, at);
      t.true(out.includes('armed'), out);
      // The program runs on (gdbserver detached): more ticks come, and its code is intact.
      await stub.waitFor(/tick 5\n/);
      t.not(procByte(stub.pid, at), 0xcc);
      t.true(stub.alive());
    } finally {
      await stub.dispose();
    }
  });
}
