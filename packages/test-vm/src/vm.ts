import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openConsole, type GuestConsole } from './console.js';
import { VmError } from './errors.js';
import { buildInitramfs, builtinPrograms, guestPath, READY_WORD, type GuestProgram } from './initramfs.js';
import { findKernel, type KernelInfo } from './kernel.js';
import { busyboxPath } from './needs.js';
import { qmpCall } from './qmp.js';

/** How to boot the test VM. */
export interface VmOptions {
  /** Boot with KASLR (default false: `nokaslr`, so symbol addresses are the vmlinux's). */
  readonly kaslr?: boolean;
  /** Guest RAM in MiB (default 512). */
  readonly memMB?: number;
  /** Virtual CPUs (default 1). */
  readonly cpus?: number;
  /** More static programs for the guest's `/opt`, started by init unless `start: false`. */
  readonly extraPrograms?: readonly GuestProgram[];
  /**
   * Back guest RAM with the old `-mem-path DIR` (private, unlinked by QEMU) made
   * shared and kept by the qemuhacks preload library, instead of a
   * `memory-backend-file,share=on` file (default false).
   */
  readonly qemuhacks?: boolean;
  /** Accelerator (default `tcg`, or `$STACKDB_VM_ACCEL`): KVM cannot boot a stock guest on every host. */
  readonly accel?: 'tcg' | 'kvm';
  /** Words added to the kernel command line. */
  readonly append?: string;
  /** How long to wait for the guest to announce readiness (default 180 s). */
  readonly bootTimeoutMs?: number;
}

/** A started program of the guest: its host file (with debuginfo) and where it lives in the guest. */
export interface VmProgram extends GuestProgram {
  readonly guestPath: string;
}

/** A running test VM. */
export interface Vm {
  /** The QEMU process id. */
  readonly pid: number;
  /** gdbstub port on 127.0.0.1. */
  readonly gdbPort: number;
  /** QMP port on 127.0.0.1, free for the code under test (the harness uses its own monitor). */
  readonly qmpPort: number;
  /** The file holding guest RAM (shared with QEMU). */
  readonly ramFile: string;
  readonly memMB: number;
  readonly cpus: number;
  readonly kernel: KernelInfo;
  /** The debug vmlinux matching the booted kernel. */
  readonly vmlinux: string;
  readonly kernelVersion: string;
  readonly kaslr: boolean;
  /** The guest programs, by name (host path, guest path). */
  readonly programs: Readonly<Record<string, VmProgram>>;
  /** Guest pids of the programs init started, by name. */
  readonly pids: Readonly<Record<string, number>>;
  /** The `key=value` facts of the guest's readiness line (kernel, uptime, modules, pids). */
  readonly bootInfo: Readonly<Record<string, string>>;
  /** Host wall time from spawning QEMU to the readiness line, in ms. */
  readonly bootMs: number;
  /** The VM's working directory on the host (serial.log, qemu.out, sockets). */
  readonly dir: string;
  /** The guest's serial shell. */
  readonly console: GuestConsole;
  /** Runs a QMP command on the harness's private monitor and returns its `return` value. */
  qmp(execute: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Runs a human-monitor command, on vCPU `cpuIndex` when given. */
  hmp(command: string, cpuIndex?: number): Promise<string>;
  /**
   * Writes an ELF vmcore of guest memory with QMP `dump-guest-memory` (`paging: false`,
   * so it carries the guest's VMCOREINFO note through `-device vmcoreinfo`).
   */
  dumpGuestMemory(file: string, opts?: { format?: 'elf' | 'kdump-zlib' | 'kdump-lzo' | 'kdump-snappy' }): Promise<void>;
  /** True until the QEMU process has exited. */
  isRunning(): boolean;
  /** Stops QEMU (SIGTERM, then SIGKILL) and removes its files. Safe to call twice. */
  stop(): Promise<void>;
}

const live = new Set<{ pid: number; ramFile: string; dir: string }>();
let exitHookInstalled = false;

/** Kills every VM still running when the process exits without having stopped it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const v of live) {
      try {
        process.kill(v.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      fs.rmSync(v.ramFile, { force: true, recursive: true });
      if (!process.env.STACKDB_VM_KEEP) fs.rmSync(v.dir, { force: true, recursive: true });
    }
  });
}

/*
 * A detached watchdog that outlives a test process killed by a signal (which runs no
 * exit hook): once the owner is gone it terminates QEMU, checking first that the pid
 * is still a QEMU, and removes the RAM file and working directory. A normal stop()
 * kills the watchdog first.
 */
const WATCHDOG = `
owner=$1 qemu=$2 dir=$3 ram=$4
while kill -0 "$owner" 2>/dev/null && kill -0 "$qemu" 2>/dev/null; do sleep 1; done
kill -0 "$owner" 2>/dev/null && exit 0
if grep -q qemu-system "/proc/$qemu/cmdline" 2>/dev/null; then
  kill -TERM "$qemu"; i=0
  while kill -0 "$qemu" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i+1)); done
  grep -q qemu-system "/proc/$qemu/cmdline" 2>/dev/null && kill -KILL "$qemu"
fi
rm -rf "$ram" "$dir"
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'latin1').replaceAll('\r', '').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function parseReadyLine(line: string): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const word of line.slice(line.indexOf(READY_WORD) + READY_WORD.length).trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq > 0) facts[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return facts;
}

function shmDir(): string {
  return fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
}

interface Spawned {
  child: ChildProcess;
  exited: () => boolean;
}

/**
 * Boots the test VM: the newest kernel with debuginfo, our initramfs, QEMU with
 * gdbstub and QMP on free loopback ports, guest RAM in a shared file. Resolves when
 * the guest's init has announced readiness; rejects with `ERR_VM_KERNEL` or
 * `ERR_VM_BOOT` (QEMU is then already stopped).
 */
export async function startVm(options: VmOptions = {}): Promise<Vm> {
  const kernel = findKernel();
  if (!kernel) throw new VmError('ERR_VM_KERNEL', 'no kernel with debuginfo: need /boot/vmlinuz-* and a matching /usr/lib/debug/boot/vmlinux-* (linux-image-amd64, linux-image-amd64-dbg)');
  const memMB = options.memMB ?? 512;
  const cpus = options.cpus ?? 1;
  const kaslr = options.kaslr ?? false;
  const accel = options.accel ?? (process.env.STACKDB_VM_ACCEL === 'kvm' ? 'kvm' : 'tcg');
  const programs = [...builtinPrograms(), ...(options.extraPrograms ?? [])];
  const initrd = buildInitramfs(kernel, programs, busyboxPath);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-vm-'));
  const serialSock = path.join(dir, 'serial.sock');
  const serialLog = path.join(dir, 'serial.log');
  const qmpSock = path.join(dir, 'qmp.sock');
  const qemuOut = path.join(dir, 'qemu.out');
  const append = ['console=ttyS0', 'panic=-1', 'loglevel=3', ...(kaslr ? [] : ['nokaslr']), ...(options.append ? [options.append] : [])].join(' ');

  let env: NodeJS.ProcessEnv = process.env;
  let memArgs: string[];
  let ramFile: string;
  if (options.qemuhacks) {
    const { qemuEnv } = await import('@stackdb/qemuhacks');
    ramFile = fs.mkdtempSync(path.join(shmDir(), 'stackdb-vm-mem-'));
    env = { ...process.env, ...qemuEnv(ramFile + '/') };
    memArgs = ['-machine', 'pc', '-mem-path', ramFile];
  } else {
    ramFile = path.join(shmDir(), `${path.basename(dir)}.ram`);
    memArgs = ['-object', `memory-backend-file,id=pc.ram,size=${memMB}M,mem-path=${ramFile},share=on`, '-machine', 'pc,memory-backend=pc.ram'];
  }

  const launch = async (gdbPort: number, qmpPort: number): Promise<Spawned> => {
    const args = [
      '-accel', accel, '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      ...memArgs, '-m', `${memMB}M`, '-smp', String(cpus),
      '-kernel', kernel.vmlinuz, '-initrd', initrd, '-append', append,
      '-device', 'vmcoreinfo',
      '-chardev', `socket,id=ser0,path=${serialSock},server=on,wait=off,logfile=${serialLog}`,
      '-serial', 'chardev:ser0',
      '-gdb', `tcp:127.0.0.1:${gdbPort}`,
      '-qmp', `tcp:127.0.0.1:${qmpPort},server=on,wait=off`,
      '-qmp', `unix:${qmpSock},server=on,wait=off`,
      '-pidfile', path.join(dir, 'qemu.pid'),
    ];
    fs.writeFileSync(path.join(dir, 'cmdline.txt'), ['qemu-system-x86_64', ...args].join(' ') + '\n');
    const out = fs.openSync(qemuOut, 'w');
    const child = spawn('qemu-system-x86_64', args, { detached: true, stdio: ['ignore', out, out], env });
    fs.closeSync(out);
    child.unref();
    let gone = false;
    child.once('exit', () => {
      gone = true;
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new VmError('ERR_VM_BOOT', `cannot run qemu-system-x86_64: ${err.message}`, { cause: err })));
    });
    return { child, exited: () => gone };
  };

  installExitHook();
  const bootTimeoutMs = options.bootTimeoutMs ?? 180_000;
  const stopQemu = async ({ child, exited }: Spawned, watchdog: ChildProcess) => {
    try {
      if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    if (!exited()) {
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited(); i++) await sleep(100);
      if (!exited()) child.kill('SIGKILL');
      for (let i = 0; i < 50 && !exited(); i++) await sleep(100);
    }
  };
  const removeFiles = () => {
    fs.rmSync(ramFile, { force: true, recursive: true });
    if (!process.env.STACKDB_VM_KEEP) fs.rmSync(dir, { force: true, recursive: true });
  };

  let spawned: Spawned;
  let watchdog: ChildProcess;
  let record: { pid: number; ramFile: string; dir: string };
  let gdbPort: number;
  let qmpPort: number;
  let readyLine: string | undefined;
  let t0: number;
  for (let attempt = 1; ; attempt++) {
    gdbPort = await freePort();
    qmpPort = await freePort();
    if (gdbPort === qmpPort) continue;
    spawned = await launch(gdbPort, qmpPort);
    record = { pid: spawned.child.pid!, ramFile, dir };
    live.add(record);
    watchdog = spawn('sh', ['-c', WATCHDOG, 'stackdb-vm-watchdog', String(process.pid), String(record.pid), dir, ramFile], { detached: true, stdio: 'ignore' });
    watchdog.unref();
    t0 = Date.now();
    let failure: string | undefined;
    while (!readyLine && !failure) {
      if (spawned.exited()) failure = `QEMU exited during boot: ${tail(qemuOut, 5)} | console: ${tail(serialLog, 10)}`;
      else if (Date.now() - t0 > bootTimeoutMs) failure = `guest not ready after ${bootTimeoutMs} ms; console: ${tail(serialLog, 10)}`;
      else {
        await sleep(100);
        const log = fs.existsSync(serialLog) ? fs.readFileSync(serialLog, 'latin1') : '';
        // Whole lines only: QEMU may have written the readiness line up to the middle.
        readyLine = log.slice(0, log.lastIndexOf('\n') + 1).split(/\r?\n/).find((l) => l.includes(READY_WORD + ' '));
      }
    }
    if (readyLine) break;
    await stopQemu(spawned, watchdog);
    live.delete(record);
    // Ports are probed free and then bound by QEMU: another process may win the race, so retry.
    if (attempt < 4 && /Address already in use|Failed to bind/.test(tail(qemuOut))) continue;
    removeFiles();
    throw new VmError('ERR_VM_BOOT', failure!);
  }

  let stopped = false;
  // Connects on first use, so it costs nothing when a test never types a command.
  const consoleHandle = openConsole(serialSock);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    consoleHandle.close();
    await stopQemu(spawned, watchdog);
    live.delete(record);
    removeFiles();
  };
  const { exited } = spawned;
  const pid = record.pid;

  let memFile = ramFile;
  if (options.qemuhacks) {
    // The preload keeps the file QEMU made in the -mem-path directory: that file is the RAM.
    const files = fs.readdirSync(ramFile);
    if (files.length !== 1) {
      await stop();
      throw new VmError('ERR_VM_BOOT', `expected one RAM file in ${ramFile}, found ${files.length} (is the qemuhacks preload working?)`);
    }
    memFile = path.join(ramFile, files[0]!);
  }
  const bootMs = Date.now() - t0;
  const bootInfo = parseReadyLine(readyLine);
  const pids: Record<string, number> = {};
  const byName: Record<string, VmProgram> = {};
  for (const p of programs) {
    byName[p.name] = { ...p, guestPath: guestPath(p) };
    if (bootInfo[p.name] !== undefined) pids[p.name] = Number(bootInfo[p.name]);
  }
  const qmp = (execute: string, args?: Record<string, unknown>, timeoutMs?: number) => qmpCall(qmpSock, execute, args, timeoutMs);
  return {
    pid,
    gdbPort,
    qmpPort,
    ramFile: memFile,
    memMB,
    cpus,
    kernel,
    vmlinux: kernel.vmlinux,
    kernelVersion: bootInfo.kernel ?? kernel.version,
    kaslr,
    programs: byName,
    pids,
    bootInfo,
    bootMs,
    dir,
    console: consoleHandle,
    qmp: (execute, args) => qmp(execute, args),
    hmp: async (command, cpuIndex) => String(await qmp('human-monitor-command', { 'command-line': command, ...(cpuIndex === undefined ? {} : { 'cpu-index': cpuIndex }) })),
    dumpGuestMemory: async (file, opts = {}) => {
      await qmp('dump-guest-memory', { paging: false, protocol: `file:${path.resolve(file)}`, ...(opts.format ? { format: opts.format } : {}) }, 300_000);
    },
    isRunning: () => !exited(),
    stop,
  };
}

/** The slice of ava's `test` that {@link sharedVm} needs. */
export interface AfterHooks {
  after: { always(fn: () => Promise<void>): void };
}

/**
 * One VM per test file: returns a function that boots the VM on first use and
 * hands the same VM to every later caller; it is stopped after the file's tests
 * (even failed ones). Boot takes seconds under TCG, so files share rather than boot per test.
 */
export function sharedVm(test: AfterHooks, options: VmOptions = {}): () => Promise<Vm> {
  let vm: Promise<Vm> | undefined;
  test.after.always(async () => {
    if (vm) await (await vm.catch(() => undefined))?.stop();
  });
  return () => (vm ??= startVm(options));
}
