#!/usr/bin/env node
// Benchmark: guest-memory read speed on the test VM in one run: the GDB stub
// (`m`, virtual and in QEMU's physical mode) against QEMU's RAM file through the
// QEMU helper (physical, and virtual through core's page walker); prints MiB/s
// with ratios and checks the goal (RAM-file reads at least 50× the stub's).
// Not a test: timings vary with the machine. Build first (`npm run build`).
//   node packages/driver-gdb-qemu/bench/ram.bench.mjs    (or: npm run bench -- --only ram)
import fs from 'node:fs';
import { PageWalker } from '@stackdb/core';
import { missing } from '@stackdb/test-support';
import { startVm, vmNeeds } from '@stackdb/test-vm';
import { RspClient } from '../dist/rsp/client.js';
import { createQemuHelper, stubReadPhysical } from '../dist/qemu/index.js';

const absent = missing(vmNeeds);
if (absent.length) {
  console.log(`ram bench skipped: ${absent.join('; ')}`);
  process.exit(0);
}

const MiB = 1 << 20;
const DIRECT_MAP = 0xffff888000000000n; // nokaslr: physical memory at page_offset_base

async function measure(label, bytes, requestSize, readAt) {
  const buf = new Uint8Array(requestSize);
  let done = 0;
  let requests = 0;
  const t0 = process.hrtime.bigint();
  while (done < bytes) {
    const n = await readAt(BigInt(done), buf);
    if (n < requestSize) throw new Error(`${label}: short read at +0x${done.toString(16)} (${n} bytes)`);
    done += n;
    requests++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { label, requestSize, mibs: bytes / MiB / s, perSecond: requests / s, bytes };
}

const vm = await startVm();
const rows = [];
try {
  const client = await RspClient.connect({ kind: 'tcp', host: '127.0.0.1', port: vm.gdbPort }); // stops the VM
  console.log(`stub: packet size ${client.features.packetSize}, the driver reads ${client.maxRead} bytes per m`);
  // QEMU 7.2 answers `m` with up to 2048 bytes (its 4096-byte packets, in hex); ask for that much.
  const stub = { text: (p, o) => client.text(p, o), readMemory: (a, n) => client.readMemory(a, n), maxRead: 2048 };
  const helper = await createQemuHelper({ qemu: true, qemuQmpHost: '127.0.0.1', qemuQmpPort: vm.qmpPort, qemuMemPath: vm.ramFile }, stub);
  try {
    const base = 0x1000000n; // 16 MiB: kernel text, then the rest of RAM
    const stubBytes = 8 * MiB;
    rows.push(await measure('stub m (virtual, direct map)', stubBytes, stub.maxRead, async (off, buf) => {
      const b = await stub.readMemory(DIRECT_MAP + base + off, buf.length);
      buf.set(b);
      return b.length;
    }));
    rows.push(await measure('stub physical mode (Qqemu.PhyMemMode)', stubBytes, 64 * 1024, (off, buf) => stubReadPhysical(stub, base + off, buf)));
    const fileBytes = 256 * MiB;
    for (const size of [stub.maxRead, 4096, 64 * 1024, MiB]) {
      rows.push(await measure(`RAM file, physical (${size} B requests)`, fileBytes, size, (off, buf) => helper.readPhysical(base + (off % BigInt(400 * MiB)), buf)));
    }
    const regs = await helper.registers(0);
    const ctx = { cr3: regs.cr3, cr0: regs.cr0, cr4: regs.cr4, efer: regs.efer };
    const walker = new PageWalker(async (address, size) => {
      const b = new Uint8Array(size);
      await helper.readPhysical(address, b);
      return b;
    }, { readInto: (address, dest) => helper.readPhysical(address, dest) });
    for (const size of [4096, 64 * 1024]) {
      rows.push(await measure(`RAM file, virtual via page walks (${size} B)`, 128 * MiB, size, (off, buf) => walker.readVirtual(DIRECT_MAP + base + off, buf, ctx)));
    }
    // Why the helper reads synchronously: the same 4 KiB reads through libuv's thread pool.
    const fh = await fs.promises.open(vm.ramFile, 'r');
    rows.push(await measure('RAM file, async FileHandle.read (4096 B, not used)', 32 * MiB, 4096, async (off, buf) => (await fh.read(buf, 0, buf.length, Number(base + off))).bytesRead));
    await fh.close();
  } finally {
    await helper.close();
    await client.detach(1).catch(() => undefined); // D;1: QEMU 7.2 refuses a plain D and would leave the VM paused
    client.close();
  }
} finally {
  await vm.stop();
}

const stubRate = rows[0].mibs;
console.log(`guest memory reads on the test VM (TCG, ${vm.memMB} MiB, QEMU ${process.env.QEMU_VERSION ?? '7.2'}), one run:`);
console.log('| path | request | MiB/s | requests/s | × stub m |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.label} | ${r.requestSize} | ${r.mibs.toFixed(1)} | ${Math.round(r.perSecond)} | ${(r.mibs / stubRate).toFixed(1)} |`);
// The goal, at the stub's own request size: the smallest advantage the file has.
const same = rows.find((r) => r.label.startsWith('RAM file, physical') && r.requestSize === rows[0].requestSize);
const ratio = same.mibs / stubRate;
console.log(`\nRAM file vs stub at ${same.requestSize}-byte requests: ${ratio.toFixed(0)}× (goal: at least 50×) — ${ratio >= 50 ? 'met' : 'NOT met'}`);
