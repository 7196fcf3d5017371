import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { PHYSICAL_SPACE } from '@stackdb/core';
import { systemTest } from '@stackdb/test-support';
import { GdbTarget } from './gdb-target.js';
import type { StubHelper } from './helper.js';
import { RspClient } from './rsp/client.js';
import { freePort, listening } from './test-support/stubs.js';

/*
 * QEMU 7.2's gdbstub with no guest at all: a paused (-S) PC that has not run
 * one instruction, reached over a UNIX socket. It shows the stub's quirks —
 * no no-ack mode, vCPUs as threads with multiprocess ids, control registers in
 * the target description, a physical memory mode, and a detach that must name
 * the process (`D;1`) to let the machine run — without booting anything. Tests
 * of a booted guest belong to the QEMU helper.
 */

const BIOS = '/usr/share/seabios/bios-256k.bin';
const NEEDS = [{ command: 'qemu-system-x86_64', package: 'qemu-system-x86' }, { file: BIOS, package: 'seabios', what: 'the SeaBIOS image' }];

/** One QMP command on a fresh connection (enough to ask whether the machine runs). */
async function qmp(port: number, command: string): Promise<Record<string, unknown>> {
  const sock = net.connect(port, '127.0.0.1');
  let buf = '';
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const take = () => {
        const nl = buf.indexOf('\n');
        if (nl < 0) return false;
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        if ('event' in line) return take();
        resolve(line);
        return true;
      };
      if (take()) return;
      const onData = (d: Buffer) => {
        buf += d.toString();
        if (take()) sock.off('data', onData);
      };
      sock.on('data', onData);
      sock.once('error', reject);
    });
  try {
    await next(); // the greeting
    sock.write('{"execute":"qmp_capabilities"}\n');
    await next();
    sock.write(`{"execute":"${command}"}\n`);
    return await next();
  } finally {
    sock.destroy();
  }
}

systemTest(test, 'QEMU\'s stub: acks kept, vCPUs as threads, control registers, physical memory mode, D;1 lets the machine run', NEEDS, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-qemu-'));
  const sock = path.join(dir, 'gdb.sock');
  const qmpPort = await freePort();
  const qemu = spawn('qemu-system-x86_64', ['-machine', 'pc', '-accel', 'tcg', '-S', '-display', 'none', '-nodefaults', '-smp', '2', '-bios', BIOS, '-gdb', `unix:${sock},server=on,wait=off`, '-qmp', `tcp:127.0.0.1:${qmpPort},server=on,wait=off`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => qemu.once('exit', () => resolve()));
  try {
    for (let i = 0; i < 3000 && !(fs.existsSync(sock) && listening(qmpPort)); i++) await new Promise((r) => setTimeout(r, 10));
    const client = await RspClient.connect({ kind: 'unix', path: sock });
    t.false(client.features.noAck, 'QEMU 7.2 offers no QStartNoAckMode');
    t.true(client.features.multiprocess);
    for (const r of ['cr0', 'cr3', 'cr4', 'efer', 'fs_base', 'gs_base', 'kernel_gs_base']) t.truthy(client.layout.byArchName(r), r);
    // A machine with no helper beyond the stub: physical memory comes through the stub's physical mode.
    const bare: StubHelper = { name: 'bare machine', machine: true, close: async () => undefined };
    const target = new GdbTarget({ client, helper: bare });
    await target.open();
    t.deepEqual((await target.threads()).map((th) => th.tid), [1, 2], 'two vCPUs');
    const cpu = await (await target.thread(1)).registers();
    // The reset state: CS:IP = f000:fff0, CR0 = 0x60000010.
    t.is(cpu.get('rip'), 0xfff0n);
    t.is(cpu.get('cs'), 0xf000n);
    t.is(cpu.get('cr0'), 0x60000010n);
    t.deepEqual(await target.spaces(), [target.defaultSpace, PHYSICAL_SPACE]);
    // The reset vector at the top of the 4 GiB space is the BIOS image's last 16 bytes.
    const bios = fs.readFileSync(BIOS);
    const top = new Uint8Array(bios.subarray(bios.length - 16));
    t.deepEqual(await target.read(0xfffffff0n, 16, { space: PHYSICAL_SPACE }), top);
    // Paging is off, so a virtual address is the physical one.
    t.deepEqual(await target.read(0xfffffff0n, 16), top);
    // Guest RAM written physically reads back both ways (and over a page boundary).
    const pattern = Uint8Array.from({ length: 24 }, (_, i) => (i * 29 + 3) & 0xff);
    await target.write(0x7ff4n, pattern, { space: PHYSICAL_SPACE });
    t.deepEqual(await target.read(0x7ff4n, 24, { space: PHYSICAL_SPACE }), pattern);
    t.deepEqual(await target.read(0x7ff4n, 24), pattern);
    t.is(((await qmp(qmpPort, 'query-status')).return as { status: string }).status, 'prelaunch', 'not yet started (-S)');
    await target.close();
    let status = '';
    for (let i = 0; i < 1000 && status !== 'running'; i++) {
      status = ((await qmp(qmpPort, 'query-status')).return as { status: string }).status;
      if (status !== 'running') await new Promise((r) => setTimeout(r, 20));
    }
    t.is(status, 'running', 'detached with D;1, the machine runs');
  } finally {
    qemu.kill('SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
