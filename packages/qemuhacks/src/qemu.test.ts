import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { qemuEnv, ramFilesUnder } from './index.js';

/*
 * The preload in real QEMU with -mem-path: another process reads live guest memory
 * from the kept file, and the file goes away when QEMU ends (SIGTERM, QMP quit).
 * The kernel boots without an initramfs (it stops at mounting a root, panic=0
 * keeps it there); what matters is the memory it writes on the way.
 */

/** A kernel with the real System.map of its -dbg package. */
function kernel(): { vmlinuz: string; systemMap: string; version: string } | undefined {
  let names: string[] = [];
  try {
    names = fs.readdirSync('/boot');
  } catch {
    return undefined;
  }
  for (const n of names.filter((x) => x.startsWith('vmlinuz-'))) {
    const version = n.slice('vmlinuz-'.length);
    const systemMap = `/usr/lib/debug/boot/System.map-${version}`;
    if (fs.existsSync(systemMap)) return { vmlinuz: `/boot/${n}`, systemMap, version };
  }
  return undefined;
}

const needs = [
  { command: 'qemu-system-x86_64', package: 'qemu-system-x86' },
  { what: 'a kernel and its System.map (linux-image-amd64, linux-image-amd64-dbg)', check: () => (kernel() ? undefined : 'no /boot/vmlinuz-* with /usr/lib/debug/boot/System.map-*') },
];

function symbol(systemMap: string, name: string): number {
  const line = fs.readFileSync(systemMap, 'utf8').split('\n').find((l) => l.endsWith(` ${name}`));
  if (!line) throw new Error(`${name} not in ${systemMap}`);
  // nokaslr: kernel data lives at __START_KERNEL_map (0xffffffff80000000) + physical address.
  return Number(BigInt('0x' + line.split(' ')[0]) - 0xffffffff80000000n);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readAt(file: string, offset: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, b, 0, len, offset);
  } finally {
    fs.closeSync(fd);
  }
  return b;
}

async function until<T>(what: string, fn: () => T | undefined, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function startQemu(dir: string, extra: string[]): ChildProcess {
  const child = spawn('qemu-system-x86_64', ['-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-machine', 'pc', '-m', '512M', '-mem-path', dir, ...extra], {
    env: { ...process.env, ...qemuEnv(dir + '/') },
    stdio: 'ignore',
  });
  // Never leave QEMU behind if an assertion throws.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  return child;
}

function shmDir(): string {
  return fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'qemuhacks-'));
}

systemTest(test, 'QEMU -mem-path: another process sees live guest RAM, and SIGTERM removes the file', needs, async (t) => {
  const k = kernel()!;
  const dir = shmDir();
  const qemu = startQemu(dir, ['-kernel', k.vmlinuz, '-append', 'console=ttyS0 nokaslr panic=0 loglevel=0']);
  try {
    const file = await until('the RAM file', () => ramFilesUnder(dir + '/')[0]);
    t.is(fs.statSync(file).size, 512 * 1024 * 1024);
    const want = `Linux version ${k.version} (`;
    const banner = symbol(k.systemMap, 'linux_banner');
    await until('the kernel banner in the RAM file', () => (readAt(file, banner, want.length).toString('latin1') === want ? true : undefined));
    const jiffies = symbol(k.systemMap, 'jiffies_64');
    const first = readAt(file, jiffies, 8).readBigUInt64LE();
    await until('jiffies_64 to advance', () => (readAt(file, jiffies, 8).readBigUInt64LE() !== first ? true : undefined));
    qemu.kill('SIGTERM');
    await once(qemu, 'exit');
    t.false(fs.existsSync(file));
  } finally {
    qemu.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

systemTest(test, 'QEMU -mem-path: QMP quit (a normal exit) removes the file', needs, async (t) => {
  const dir = shmDir();
  const sock = path.join(dir, '..', `${path.basename(dir)}.qmp`);
  const qemu = startQemu(dir, ['-S', '-qmp', `unix:${sock},server=on,wait=off`]);
  try {
    const file = await until('the RAM file', () => ramFilesUnder(dir + '/')[0]);
    await until('the QMP socket', () => (fs.existsSync(sock) ? true : undefined));
    const c = net.createConnection(sock);
    c.write('{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n');
    c.on('error', () => undefined);
    const [code] = (await once(qemu, 'exit')) as [number | null];
    c.destroy();
    t.is(code, 0);
    t.false(fs.existsSync(file));
  } finally {
    qemu.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(sock, { force: true });
  }
});
