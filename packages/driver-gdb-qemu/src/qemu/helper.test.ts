import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { configureLogging } from '@stackdb/core';
import { openQemuHelper } from './helper.js';
import type { QemuMonitor } from './monitor.js';
import { QEMU_ERROR, QmpError } from './errors.js';
import type { StubAccess } from './stub-physical.js';

/*
 * The helper's logic with a scripted monitor and a small RAM file; the real
 * thing (QEMU's QMP, RAM file and stub on the test VM) is in helper-vm.test.ts.
 */

const MiB = 1 << 20;
const FLAT = [
  'FlatView #0', ' AS "memory", root: system', ' Root memory region: system',
  '  0000000000000000-000000000009ffff (prio 0, ram): pc.ram',
  '  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem',
  '  00000000000c0000-00000000000c7fff (prio 0, rom): pc.ram @00000000000c0000',
  '  00000000000c8000-00000000000cffff (prio 0, rom): pc.rom',
  '  0000000000100000-00000000003fffff (prio 0, ram): pc.ram @0000000000100000',
].join('\n');
const CR3 = 0x200000n;

class FakeMonitor implements QemuMonitor {
  readonly where = 'fake';
  readonly calls: string[] = [];
  closed = false;
  kvm = false;
  mtree: string | undefined = FLAT;

  constructor(private readonly ram: Buffer) {}

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    this.calls.push(command);
    if (command === 'query-kvm') return { enabled: this.kvm, present: true };
    if (command === 'query-status') return { running: false, status: 'paused' };
    if (command === 'qom-get' && args?.property === 'type') return 'pc-i440fx-7.2-machine';
    throw new QmpError(QEMU_ERROR.COMMAND, `QMP ${command}: CommandNotFound`, { errorClass: 'CommandNotFound' });
  }

  async hmp(commandLine: string, cpuIndex?: number): Promise<string> {
    this.calls.push(`${commandLine}${cpuIndex === undefined ? '' : ` @${cpuIndex}`}`);
    if (commandLine === 'info mtree -f') {
      if (this.mtree === undefined) throw new QmpError(QEMU_ERROR.COMMAND, 'QMP human-monitor-command: GenericError');
      return this.mtree;
    }
    if (commandLine === 'info registers') return `CPU#${cpuIndex ?? 0}\nRAX=000000000000000${cpuIndex ?? 0} RIP=ffffffff81000000 RFL=00000246 [---Z-P-] CPL=0\nFS =0000 00007f0000001000 00000000 00000000\nCR0=80050033 CR2=0000000000000000 CR3=${CR3.toString(16).padStart(16, '0')} CR4=000006f0\nEFER=0000000000000d01\n`;
    const xp = /^xp \/(\d+)gx 0x([0-9a-f]+)$/.exec(commandLine);
    if (xp) {
      const lines: string[] = [];
      for (let i = 0; i < Number(xp[1]); i += 2) {
        const a = Number(BigInt('0x' + xp[2])) + i * 8;
        lines.push(`${a.toString(16).padStart(16, '0')}: 0x${this.ram.readBigUInt64LE(a).toString(16).padStart(16, '0')} 0x${this.ram.readBigUInt64LE(a + 8).toString(16).padStart(16, '0')}`);
      }
      return lines.join('\n') + '\n';
    }
    return '';
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A stub whose physical memory holds 0x5a everywhere, recording what it was asked. */
function fakeStub(): StubAccess & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    maxRead: 2000,
    text: async (payload: string) => {
      asked.push(payload.slice(0, 20));
      return payload === 'qqemu.Supported' ? 'sstepbits;sstep;PhyMemMode' : 'OK';
    },
    readMemory: async (address: bigint, length: number) => {
      asked.push(`m${address.toString(16)},${length.toString(16)}`);
      return new Uint8Array(length).fill(0x5a);
    },
  };
}

function setup(opts: { size?: number; zeroFile?: boolean } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qemu-helper-'));
  const file = path.join(dir, 'ram');
  const ram = Buffer.alloc(opts.size ?? 4 * MiB);
  for (let i = 0; i < ram.length; i += 4096) ram.writeUInt32LE(i, i); // each page starts with its offset
  ram.fill(0x11, Number(CR3) + 8, Number(CR3) + 64);
  fs.writeFileSync(file, opts.zeroFile ? Buffer.alloc(ram.length) : ram);
  const monitor = new FakeMonitor(ram);
  return { dir, file, ram, monitor, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test('physical reads come from the file where QEMU maps RAM, from the stub elsewhere', async (t) => {
  const { file, monitor, cleanup } = setup();
  try {
    const stub = fakeStub();
    const h = await openQemuHelper({ monitor, ramFile: file, stub });
    t.is(h.ram?.source.layoutFrom, 'flat-view');
    const buf = new Uint8Array(8);
    t.is(await h.readPhysical!(0x101000n, buf), 8);
    t.is(Buffer.from(buf).readUInt32LE(0), 0x101000);
    stub.asked.length = 0;
    const across = new Uint8Array(0x3000);
    t.is(await h.readPhysical!(0xc7000n, across), 0x3000);
    t.is(Buffer.from(across).readUInt32LE(0), 0xc7000, 'the shadowed ROM from the file');
    t.is(across[0x1000], 0x5a, 'the option ROM (another block) from the stub');
    t.deepEqual(stub.asked.filter((a) => a.startsWith('m')), ['mc8000,7d0', 'mc87d0,7d0', 'mc8fa0,60', 'mc9000,7d0', 'mc97d0,7d0', 'mc9fa0,60']);
    stub.asked.length = 0;
    t.is(await h.readPhysical!(0x9f000n, new Uint8Array(0x2000)), 0x1000, 'the VGA window is device I/O: a hole');
    t.deepEqual(stub.asked, [], 'the stub is not asked about device I/O');
    await h.close();
    t.true(monitor.closed);
  } finally {
    cleanup();
  }
});

test('without a stub, reads stop at the first hole; writes reach the file only for RAM', async (t) => {
  const { file, monitor, cleanup } = setup();
  try {
    const h = await openQemuHelper({ monitor, ramFile: file });
    t.is(await h.readPhysical!(0x9fff0n, new Uint8Array(0x100)), 0x10);
    t.is(await h.readPhysical!(0x400000n, new Uint8Array(4)), 0);
    t.is(await h.writePhysical!(0x3ffffen, Uint8Array.of(1, 2, 3, 4)), 2, 'RAM ends at 4 MiB');
    const back = Buffer.alloc(2);
    const fd = fs.openSync(file, 'r');
    fs.readSync(fd, back, 0, 2, 0x3ffffe);
    fs.closeSync(fd);
    t.deepEqual([...back], [1, 2]);
    t.is(await h.writePhysical!(0xc0000n, Uint8Array.of(1)), 0, 'the ROM shadow is not written through the file');
    await h.close();
  } finally {
    cleanup();
  }
});

test('registers by stub thread id (vCPU + 1), only those core knows', async (t) => {
  const { monitor, cleanup } = setup();
  try {
    const h = await openQemuHelper({ monitor });
    t.is(h.readPhysical, undefined, 'no file and no stub: no physical memory');
    const regs = await h.extraRegisters(2);
    t.deepEqual(regs, { rax: 1n, rip: 0xffffffff81000000n, eflags: 0x246n, fs: 0n, fs_base: 0x7f0000001000n, cr0: 0x80050033n, cr2: 0n, cr3: CR3, cr4: 0x6f0n, efer: 0xd01n });
    t.true(monitor.calls.includes('info registers @1'));
    await t.throwsAsync(h.extraRegisters(0), { code: 'ERR_NO_THREAD' } as never);
    t.deepEqual(await h.status(), { running: false, status: 'paused' });
  } finally {
    cleanup();
  }
});

test('a file that does not mirror the guest, or is too small, is refused', async (t) => {
  const zero = setup({ zeroFile: true });
  try {
    const e = await t.throwsAsync(openQemuHelper({ monitor: zero.monitor, ramFile: zero.file }), { code: 'ERR_QEMU_RAM_FILE' } as never);
    t.regex(e!.message, /qemuhacks/);
    t.true(zero.monitor.closed);
  } finally {
    zero.cleanup();
  }
  const small = setup({ size: 3 * MiB });
  try {
    const e = await t.throwsAsync(openQemuHelper({ monitor: small.monitor, ramFile: small.file }), { code: 'ERR_QEMU_RAM_FILE' } as never);
    t.regex(e!.message, /needs 4194304/);
  } finally {
    small.cleanup();
  }
  await t.throwsAsync(openQemuHelper({ monitor: setup().monitor, ramFile: '/nonexistent/ram' }), { code: 'ERR_QEMU_RAM_FILE' } as never);
});

test('without a flat view the PC rules give the layout; --kvm asks query-kvm and warns under TCG', async (t) => {
  const { file, monitor, cleanup } = setup();
  try {
    monitor.mtree = undefined;
    const h = await openQemuHelper({ monitor, ramFile: file });
    t.is(h.ram?.source.layoutFrom, 'pc-rules');
    t.deepEqual(h.ram?.source.layout.segments.map((s) => [s.start, s.end]), [[0n, 0xa0000n], [0x100000n, 0x400000n]]);
    await h.close();
    const lines: string[] = [];
    configureLogging({ sink: (l) => lines.push(l) });
    try {
      t.is((await openQemuHelper({ monitor, kvm: true })).accelerator, 'tcg');
      t.deepEqual(lines, [`warning: --kvm: QEMU at ${monitor.where} runs without KVM (query-kvm: not enabled); going on under its emulator (TCG)`]);
      monitor.kvm = true;
      t.is((await openQemuHelper({ monitor, kvm: true })).accelerator, 'kvm');
      t.is((await openQemuHelper({ monitor })).accelerator, undefined, 'not asked without --kvm');
      t.is(lines.length, 1);
    } finally {
      configureLogging({ sink: (l) => process.stderr.write(l + '\n') });
    }
  } finally {
    cleanup();
  }
});
