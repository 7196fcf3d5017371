import { NoSuchThreadError, X86_64, getLogger, type Addr, type OptionValue } from '@stackdb/core';
import type { StubHelper } from '../helper.js';
import { QEMU_ERROR, QemuHelperError } from './errors.js';
import type { QemuMonitor } from './monitor.js';
import { QmpClient } from './qmp-client.js';
import { RamFile } from './ram-file.js';
import { layoutFromFlatView, memoryFromFlatView, parseFlatView, pcMachineType, pcRamLayout, type FlatRange, type RamLayout } from './ram-layout.js';
import { parseInfoRegisters } from './registers.js';
import { stubHasPhysicalMode, stubReadPhysical, stubWritePhysical, type StubAccess } from './stub-physical.js';
import { VirshMonitor } from './virsh.js';

const log = getLogger('T_GDB');

/** What a {@link QemuHelper} is built from. */
export interface QemuHelperParts {
  /** QEMU's monitor (QMP, or libvirt's virsh). */
  readonly monitor: QemuMonitor;
  /** The gdb driver's stub client, for physical memory the RAM file does not hold (`Qqemu.PhyMemMode`). */
  readonly stub?: StubAccess;
  /** The guest RAM file (`--qemu-mem-path`). */
  readonly ramFile?: string;
  /** `--kvm`: the VM is expected to run under KVM (`query-kvm` tells; under TCG a warning says so). */
  readonly kvm?: boolean;
}

/** Where the guest's RAM came from, for reports and benchmarks. */
export interface RamSource {
  readonly file: string;
  /** The RAM block the file holds (`pc.ram`). */
  readonly block: string;
  /** `flat-view` (QEMU's `info mtree -f`) or `pc-rules` (computed from the machine type). */
  readonly layoutFrom: 'flat-view' | 'pc-rules';
  readonly layout: RamLayout;
}

/**
 * The QEMU helper of the gdb driver (the seed's `--qemu`): registers the stub
 * lacks through QEMU's monitor, and guest physical memory straight from QEMU's
 * RAM file, with the stub's physical mode for what the file does not hold.
 * Build it with {@link openQemuHelper} or {@link createQemuHelper}.
 */
export class QemuHelper implements StubHelper {
  readonly name = 'qemu';
  readonly machine = true;
  /** Set when physical memory can be read (RAM file or stub). */
  readonly readPhysical?: (address: Addr, buf: Uint8Array) => Promise<number>;
  /** Set when physical memory can be written. */
  readonly writePhysical?: (address: Addr, data: Uint8Array) => Promise<number>;

  /**
   * @param memory every memory-backed guest-physical range (QEMU's flat view), when
   *   known: the stub is asked only inside them, since QEMU's physical mode answers
   *   even for device I/O and unassigned addresses (with made-up bytes, or side effects).
   * @param accelerator what `query-kvm` said QEMU runs on, when `--kvm` asked.
   */
  constructor(
    readonly monitor: QemuMonitor,
    readonly ram: { readonly file: RamFile; readonly source: RamSource } | undefined,
    private readonly stub: StubAccess | undefined,
    readonly memory?: RamLayout,
    readonly accelerator?: 'kvm' | 'tcg',
  ) {
    if (ram || stub) this.readPhysical = (address, buf) => this.read(address, buf);
    if ((ram && ram.file.writable) || stub) this.writePhysical = (address, data) => this.write(address, data);
  }

  /**
   * Every register `info registers` shows for vCPU `cpuIndex` (0-based), named as
   * core's x86-64 architecture names them where it has a name (`cr3`, `efer`,
   * `fs_base`…), plus segment limits and descriptor tables (`gdt_base`…).
   */
  async registers(cpuIndex: number): Promise<Record<string, bigint>> {
    const text = await this.monitor.hmp('info registers', cpuIndex);
    const regs = parseInfoRegisters(text, cpuIndex).get(cpuIndex);
    if (!regs) throw new QemuHelperError(QEMU_ERROR.REGISTERS, `${this.monitor.where} gave no registers for vCPU ${cpuIndex}`);
    return regs;
  }

  /**
   * Registers for the stub's thread `tid`: QEMU's gdbstub numbers its threads
   * from 1, one per vCPU (vCPU index + 1). Only registers core's architecture
   * knows are returned (CR0/2/3/4, EFER, FS/GS bases, selectors, debug registers…).
   * QEMU 7.2's `info registers` has no KERNEL_GS_BASE; its stub gives `k_gs_base`.
   */
  async extraRegisters(tid: number): Promise<Record<string, bigint>> {
    if (!Number.isInteger(tid) || tid < 1) throw new NoSuchThreadError(tid);
    const all = await this.registers(tid - 1);
    const out: Record<string, bigint> = {};
    for (const [name, value] of Object.entries(all)) if (X86_64.findRegister(name)) out[name] = value;
    return out;
  }

  /** QMP `query-status`: `{ running, status }` (`running`, `paused`, `debug`…). */
  async status(): Promise<{ running: boolean; status: string }> {
    const r = (await this.monitor.execute('query-status')) as { running?: boolean; status?: string };
    return { running: r.running === true, status: String(r.status ?? 'unknown') };
  }

  async close(): Promise<void> {
    this.ram?.file.close();
    await this.monitor.close();
  }

  private async read(address: Addr, buf: Uint8Array): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const a = address + BigInt(done);
      const loc = this.ram?.source.layout.locate(a);
      if (loc) {
        const n = Math.min(buf.length - done, Number(loc.contiguous < 1n << 30n ? loc.contiguous : 1n << 30n));
        const got = this.ram!.file.read(loc.offset, buf.subarray(done, done + n));
        done += got;
        if (got < n) return done;
        continue;
      }
      const n = this.stubSpan(a, buf.length - done);
      if (n === 0) return done;
      const got = await stubReadPhysical(this.stub!, a, buf.subarray(done, done + n));
      done += got;
      if (got < n) return done;
    }
    return done;
  }

  private async write(address: Addr, data: Uint8Array): Promise<number> {
    let done = 0;
    while (done < data.length) {
      const a = address + BigInt(done);
      const loc = this.ram?.source.layout.locate(a);
      if (loc && loc.writable && this.ram!.file.writable) {
        const n = Math.min(data.length - done, Number(loc.contiguous < 1n << 30n ? loc.contiguous : 1n << 30n));
        const put = this.ram!.file.write(loc.offset, data.subarray(done, done + n));
        done += put;
        if (put < n) return done;
        continue;
      }
      // Read-only ranges and memory of other blocks go through QEMU, which knows what a write there means.
      const n = this.stubSpan(a, data.length - done);
      if (n === 0) return done;
      const put = await stubWritePhysical(this.stub!, a, data.subarray(done, done + n));
      done += put;
      if (put < n) return done;
    }
    return done;
  }

  /**
   * How many of `want` bytes from `a` to ask the stub for: none without a stub or
   * outside guest memory, and never past the memory range or into the next range
   * the file holds.
   */
  private stubSpan(a: Addr, want: number): number {
    if (!this.stub) return 0;
    let n = BigInt(want);
    if (this.memory) {
      const m = this.memory.locate(a);
      if (!m) return 0;
      if (m.contiguous < n) n = m.contiguous;
    }
    const next = this.ram?.source.layout.segments.find((s) => s.start > a);
    if (next && next.start - a < n) n = next.start - a;
    return Number(n);
  }
}

/** Reads `len` bytes at a guest physical address through the monitor (`xp`), for cross-checks. */
export async function monitorReadPhysical(monitor: QemuMonitor, address: Addr, len: number): Promise<Uint8Array> {
  const words = Math.ceil(len / 8);
  const text = await monitor.hmp(`xp /${words}gx 0x${address.toString(16)}`);
  const out = new Uint8Array(words * 8);
  const view = new DataView(out.buffer);
  let i = 0;
  for (const m of text.matchAll(/0x([0-9a-f]{16})/g)) {
    if (i >= words) break;
    view.setBigUint64(8 * i++, BigInt('0x' + m[1]), true);
  }
  if (i < words) throw new QemuHelperError(QEMU_ERROR.RAM_FILE, `${monitor.where} could not read guest physical 0x${address.toString(16)}: ${text.trim().split('\n')[0] ?? ''}`);
  return out.subarray(0, len);
}

/** The RAM layout: QEMU's flat view, else the PC machine rules applied to the file's size. */
async function learnLayout(monitor: QemuMonitor, flat: FlatRange[] | Error, fileBytes: bigint): Promise<Omit<RamSource, 'file'>> {
  try {
    if (flat instanceof Error) throw flat;
    const { block, layout } = layoutFromFlatView(flat);
    return { block, layout, layoutFrom: 'flat-view' };
  } catch (err) {
    log.debug(2, 'no usable flat view (%s); computing the PC layout', (err as Error).message);
    const type = String(await monitor.execute('qom-get', { path: '/machine', property: 'type' }));
    const pc = pcMachineType(type);
    if (!pc) throw new QemuHelperError(QEMU_ERROR.LAYOUT, `cannot learn the RAM layout of machine ${type} (no flat view, not a PC machine)`, { cause: err });
    let maxRamBelow4g: bigint | undefined;
    try {
      maxRamBelow4g = BigInt(String(await monitor.execute('qom-get', { path: '/machine', property: 'max-ram-below-4g' })));
    } catch {
      maxRamBelow4g = undefined;
    }
    const layout = pcRamLayout({ ...pc, ramBytes: fileBytes, ...(maxRamBelow4g === undefined ? {} : { maxRamBelow4g }) });
    return { block: 'pc.ram', layout, layoutFrom: 'pc-rules' };
  }
}

/*
 * The #1 way to get this wrong is a file that does not mirror the guest: QEMU's
 * -mem-path without the qemuhacks preload maps it private (it stays zeros), or a
 * path from another VM. Compare the page-table root of vCPU 0 (written by every
 * booted guest) as the file and as QEMU's monitor see it; a running guest may
 * change it between the two reads, so try a few times before giving up.
 */
async function checkMirrors(helper: QemuHelper, file: string): Promise<void> {
  let cr3: bigint;
  try {
    cr3 = (await helper.registers(0)).cr3 ?? 0n;
  } catch {
    return;
  }
  const root = cr3 & 0x000f_ffff_ffff_f000n;
  if (root === 0n || !helper.ram?.source.layout.locate(root)) return;
  for (let attempt = 0; attempt < 3; attempt++) {
    const fromFile = new Uint8Array(4096);
    helper.ram.file.read(helper.ram.source.layout.locate(root)!.offset, fromFile);
    const fromQemu = await monitorReadPhysical(helper.monitor, root, 4096);
    if (fromFile.every((b, i) => b === fromQemu[i])) return;
    if (attempt === 2) {
      const zeros = fromFile.every((b) => b === 0);
      throw new QemuHelperError(QEMU_ERROR.RAM_FILE, zeros
        ? `${file} does not mirror the guest's RAM (zeros where the guest has page tables): was QEMU started with -mem-path without the qemuhacks preload, or without share=on?`
        : `${file} is not this VM's RAM (it differs from QEMU's at physical 0x${root.toString(16)})`);
    }
  }
}

/**
 * Builds the helper from its parts: asks `query-kvm` for `--kvm`, opens the
 * RAM file, learns its layout, checks that the file mirrors the guest, and probes
 * the stub's physical mode. Closes the monitor when anything fails.
 */
export async function openQemuHelper(parts: QemuHelperParts): Promise<QemuHelper> {
  const { monitor } = parts;
  let file: RamFile | undefined;
  try {
    let accelerator: 'kvm' | 'tcg' | undefined;
    if (parts.kvm) {
      // Everything the helper reads (QMP, the RAM file, the stub) works the same under TCG:
      // say plainly what QEMU runs on, and go on.
      const kvm = (await monitor.execute('query-kvm')) as { enabled?: boolean };
      accelerator = kvm.enabled ? 'kvm' : 'tcg';
      if (accelerator === 'tcg') log.warn('--kvm: QEMU at %s runs without KVM (query-kvm: not enabled); going on under its emulator (TCG)', monitor.where);
    }
    // QEMU's flat view of guest-physical memory (`info mtree -f`, QEMU 2.9 and later).
    const flat = await monitor.hmp('info mtree -f').then(parseFlatView).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    let ram: { file: RamFile; source: RamSource } | undefined;
    if (parts.ramFile) {
      file = RamFile.open(parts.ramFile);
      const learned = await learnLayout(monitor, flat, file.size);
      if (file.size < learned.layout.fileBytes) {
        throw new QemuHelperError(QEMU_ERROR.RAM_FILE, `${parts.ramFile} has ${file.size} bytes but QEMU's RAM block ${learned.block} needs ${learned.layout.fileBytes}: wrong --qemu-mem-path?`);
      }
      ram = { file, source: { file: parts.ramFile, ...learned } };
    }
    const stub = parts.stub && (await stubHasPhysicalMode(parts.stub)) ? parts.stub : undefined;
    const helper = new QemuHelper(monitor, ram, stub, flat instanceof Error ? undefined : memoryFromFlatView(flat), accelerator);
    if (ram) await checkMirrors(helper, ram.source.file);
    log.debug(1, 'QEMU helper: monitor %s, RAM file %s, stub physical mode %s', monitor.where, ram ? `${ram.source.file} (${ram.source.layoutFrom})` : 'none', stub ? 'yes' : 'no');
    return helper;
  } catch (err) {
    file?.close();
    await monitor.close().catch(() => undefined);
    throw err;
  }
}

function optString(options: Readonly<Record<string, OptionValue>>, key: string): string | undefined {
  const v = options[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The gdb driver's entry point for `--qemu`: connects to QEMU's monitor
 * (`--qemu-qmp-host`/`--qemu-qmp-port`, default localhost:1235, or
 * `--qemu-libvirt-domain` through virsh), opens `--qemu-mem-path` when given,
 * and uses the driver's stub `client` for physical memory outside the file.
 */
export async function createQemuHelper(options: Readonly<Record<string, OptionValue>>, client?: StubAccess): Promise<QemuHelper> {
  const domain = optString(options, 'qemuLibvirtDomain');
  const port = options.qemuQmpPort;
  const monitor: QemuMonitor = domain
    ? new VirshMonitor(domain)
    : await QmpClient.connect({ host: optString(options, 'qemuQmpHost') ?? 'localhost', port: typeof port === 'number' ? port : 1235 });
  const ramFile = optString(options, 'qemuMemPath');
  return openQemuHelper({ monitor, ...(client ? { stub: client } : {}), ...(ramFile ? { ramFile } : {}), kvm: options.kvm === true });
}

