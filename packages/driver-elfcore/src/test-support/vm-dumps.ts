/*
 * Dumps of the test VM for the tests: the VM is stopped, then dumped twice in
 * the same state: `paging: false` (physical memory only: this driver must walk
 * the page tables itself) and `paging: true` (QEMU walks them and records each
 * page's virtual address, which is how drgn and gdb read the kernel). The
 * second dump is the independent reference; the VM stays stopped, so its RAM
 * file shows the same physical memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Vm } from '@stackdb/test-vm';
import { DRGN_PYTHON, run } from '@stackdb/test-support';

/** Both dumps of one stopped VM, with what QEMU said about its CPUs at the time. */
export interface VmDumps {
  readonly vm: Vm;
  readonly dir: string;
  /** `dump-guest-memory` with `paging: false` (physical memory). */
  readonly physical: string;
  /** `dump-guest-memory` with `paging: true` (virtual addresses in PT_LOADs). */
  readonly paged: string;
  /** HMP `info registers` of each CPU while stopped. */
  readonly hmpRegisters: readonly string[];
}

/** Tries at stopping the VM with its first vCPU in the kernel. */
const KERNEL_STOP_TRIES = 50;

/**
 * Stops the VM (for good: the file's tests need it frozen) with its first
 * vCPU in the kernel (the tests walk that vCPU's kernel stack; a guest
 * program may be running in user mode at any instant), and dumps it both ways.
 */
export async function dumpStoppedVm(vm: Vm): Promise<VmDumps> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elfcore-vm-'));
  for (let i = 0; ; i++) {
    await vm.qmp('stop');
    if (parseHmpRegisters(await vm.hmp('info registers', 0)).get('cpl') === 0n || i + 1 >= KERNEL_STOP_TRIES) break;
    await vm.qmp('cont');
    await new Promise((r) => setTimeout(r, 20));
  }
  const hmpRegisters: string[] = [];
  for (let cpu = 0; cpu < vm.cpus; cpu++) hmpRegisters.push(await vm.hmp('info registers', cpu));
  const physical = path.join(dir, 'physical.vmcore');
  const paged = path.join(dir, 'paged.vmcore');
  await vm.dumpGuestMemory(physical);
  await vm.qmp('dump-guest-memory', { paging: true, protocol: `file:${paged}` });
  return { vm, dir, physical, paged, hmpRegisters };
}

/** QEMU's HMP `info registers`: general, control and segment-base registers by our names, and `cpl`. */
export function parseHmpRegisters(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const names: Record<string, string> = { RFL: 'eflags', CR0: 'cr0', CR2: 'cr2', CR3: 'cr3', CR4: 'cr4', EFER: 'efer' };
  for (const m of text.matchAll(/\b(R[A-Z0-9]{1,2}|R\d+|RFL|CR[0-4]|EFER)\s*=([0-9a-f]+)\b/g)) {
    const n = names[m[1]!] ?? m[1]!.toLowerCase();
    out.set(n, BigInt(`0x${m[2]}`));
  }
  const cpl = /\bCPL=(\d)/.exec(text);
  if (cpl) out.set('cpl', BigInt(cpl[1]!));
  for (const m of text.matchAll(/^(ES|CS|SS|DS|FS|GS) =([0-9a-f]{4}) ([0-9a-f]{16})/gm)) {
    const seg = m[1]!.toLowerCase();
    out.set(seg, BigInt(`0x${m[2]}`));
    if (seg === 'fs' || seg === 'gs') out.set(`${seg}_base`, BigInt(`0x${m[3]}`));
  }
  return out;
}

/** What drgn reads from a dump (with the vmlinux as debuginfo). */
export interface DrgnFacts {
  readonly values: Record<string, { address: string; size: number; hex: string }>;
}

const DRGN_SCRIPT = String.raw`
import drgn, json, sys
prog = drgn.program_from_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
out = {}
for name, expr in [('init_task.comm', lambda: prog['init_task'].comm),
                   ('init_uts_ns.name.release', lambda: prog['init_uts_ns'].name.release),
                   ('jiffies_64', lambda: prog['jiffies_64'])]:
    o = expr()
    size = drgn.sizeof(o)
    out[name] = {'address': hex(o.address_), 'size': size, 'hex': prog.read(o.address_, size).hex()}
print(json.dumps({'values': out}))
`;

/** Runs drgn (python3-drgn) on a dump. */
export function drgnFacts(dump: string, vmlinux: string): DrgnFacts {
  return JSON.parse(run(DRGN_PYTHON, ['-c', DRGN_SCRIPT, dump, vmlinux])) as DrgnFacts;
}

/** Link-time addresses of symbols of a vmlinux, from nm. */
export function nmAddresses(vmlinux: string, symbols: readonly string[]): Map<string, bigint> {
  const want = new Set(symbols);
  const out = new Map<string, bigint>();
  for (const line of run('nm', [vmlinux]).split('\n')) {
    const [addr, , name] = line.split(' ');
    if (name && want.has(name) && !out.has(name)) out.set(name, BigInt(`0x${addr}`));
  }
  for (const s of symbols) if (!out.has(s)) throw new Error(`nm: no ${s} in ${vmlinux}`);
  return out;
}
