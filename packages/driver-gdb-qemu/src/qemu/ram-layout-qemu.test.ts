import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { monitorReadPhysical, openQemuHelper } from './helper.js';
import { QmpClient } from './qmp-client.js';
import { pcRamLayout } from './ram-layout.js';

/*
 * RAM above the 4 GiB hole, on real QEMU (paused before the first instruction,
 * so nothing but us writes guest memory): bytes the helper writes at a guest
 * physical address show up in QEMU's own view (`xp`) and at the file offset the
 * layout says, and the layout QEMU reports agrees with the PC rules.
 */

const needs = [{ command: 'qemu-system-x86_64', package: 'qemu-system-x86' }];
const MiB = 1n << 20n;
const GiB = 1n << 30n;

async function withQemu(machine: string, ramMiB: number, fn: (ramFile: string, qmp: QmpClient) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'qemu-layout-'));
  const ramFile = path.join(dir, 'ram');
  const sock = path.join(dir, 'qmp.sock');
  const qemu = spawn('qemu-system-x86_64', [
    '-accel', 'tcg', '-nodefaults', '-display', 'none', '-S', '-m', `${ramMiB}M`,
    '-object', `memory-backend-file,id=pc.ram,size=${ramMiB}M,mem-path=${ramFile},share=on`,
    '-machine', `${machine},memory-backend=pc.ram`, '-qmp', `unix:${sock},server=on,wait=off`,
  ], { stdio: 'ignore' });
  const kill = () => qemu.kill('SIGKILL');
  process.once('exit', kill);
  try {
    for (let i = 0; i < 200 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    const qmp = await QmpClient.connect({ path: sock });
    try {
      await fn(ramFile, qmp);
    } finally {
      await qmp.execute('quit').catch(() => undefined);
    }
  } finally {
    kill();
    process.off('exit', kill);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const [machine, ramMiB, below] of [['pc', 3584, 3n * GiB], ['q35', 3072, 2n * GiB]] as const) {
  systemTest(test, `${machine} with ${ramMiB} MiB: guest physical 4 GiB is file offset ${below / GiB} GiB`, needs, async (t) => {
    await withQemu(machine, ramMiB, async (ramFile, qmp) => {
      const helper = await openQemuHelper({ monitor: qmp, ramFile });
      t.is(helper.ram?.source.layoutFrom, 'flat-view');
      const rules = pcRamLayout({ chipset: machine, ramBytes: BigInt(ramMiB) * MiB });
      for (const s of rules.segments.filter((x) => x.start >= MiB)) {
        t.deepEqual(helper.ram!.source.layout.locate(s.start), { offset: s.offset, contiguous: s.end - s.start, writable: true }, `segment at 0x${s.start.toString(16)}`);
      }
      const marker = new TextEncoder().encode('stackdb above 4 GiB!');
      const gpa = 4n * GiB + 0x1230n;
      t.is(await helper.writePhysical!(gpa, marker), marker.length);
      t.deepEqual(await monitorReadPhysical(qmp, gpa, marker.length), marker);
      const inFile = Buffer.alloc(marker.length);
      const fd = fs.openSync(ramFile, 'r');
      fs.readSync(fd, inFile, 0, inFile.length, Number(below + 0x1230n));
      fs.closeSync(fd);
      t.deepEqual(new Uint8Array(inFile), marker);
      const last = below - 16n;
      t.is(await helper.writePhysical!(last, marker.subarray(0, 16)), 16);
      t.deepEqual(await monitorReadPhysical(qmp, last, 16), marker.subarray(0, 16), 'the last bytes below the hole');
      t.is(await helper.readPhysical!(below, new Uint8Array(8)), 0, 'the hole itself is not RAM');
      await helper.close();
    });
  }, { serial: true });
}
