import { execFile } from 'node:child_process';
import { QEMU_ERROR, QmpError } from './errors.js';
import { hmpArguments, type QemuMonitor } from './monitor.js';
import { classify } from './qmp-codec.js';

/** Runs a program and returns what it printed (injected in tests). */
export type Runner = (file: string, args: readonly string[]) => Promise<{ stdout: string; stderr: string; code: number }>;

const runProcess: Runner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') reject(err);
      else resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
  });

/** Options of a {@link VirshMonitor}. */
export interface VirshOptions {
  /** The virsh program (default `virsh`). */
  readonly virsh?: string;
  /** A libvirt connection URI (`-c`, e.g. `qemu:///system`); default: virsh's own default. */
  readonly connectUri?: string;
  readonly run?: Runner;
}

/** virsh arguments that pass one QMP command through to the domain's monitor. */
export function virshQmpArgs(domain: string, command: string, args?: Record<string, unknown>, connectUri?: string): string[] {
  const json = JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args });
  return [...(connectUri ? ['-c', connectUri] : []), 'qemu-monitor-command', domain, json];
}

/** virsh arguments that run one human-monitor command line (`--hmp`). */
export function virshHmpArgs(domain: string, commandLine: string, connectUri?: string): string[] {
  return [...(connectUri ? ['-c', connectUri] : []), 'qemu-monitor-command', domain, '--hmp', commandLine];
}

/**
 * QEMU's monitor of a libvirt domain, through `virsh qemu-monitor-command` (the
 * seed's `--qemu-libvirt-domain`): libvirt owns the domain's QMP socket, so each
 * command is one virsh run. HMP without a vCPU uses `--hmp`; HMP on a given vCPU
 * goes as QMP `human-monitor-command` with `cpu-index`, which `--hmp` cannot say.
 * Events are libvirt's to see, not ours. Untested against a real libvirt (none
 * on our machines); the command construction is unit-tested.
 */
export class VirshMonitor implements QemuMonitor {
  readonly where: string;
  private readonly virsh: string;
  private readonly run: Runner;

  constructor(readonly domain: string, private readonly opts: VirshOptions = {}) {
    this.where = `libvirt domain ${domain}`;
    this.virsh = opts.virsh ?? 'virsh';
    this.run = opts.run ?? runProcess;
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const out = await this.virshRun(virshQmpArgs(this.domain, command, args, this.opts.connectUri), command);
    let reply: unknown;
    try {
      reply = JSON.parse(out);
    } catch (err) {
      throw new QmpError(QEMU_ERROR.PROTOCOL, `virsh qemu-monitor-command ${this.domain} ${command} printed no JSON reply: ${out.slice(0, 80)}`, { cause: err });
    }
    const m = classify(reply);
    if (m.kind === 'return') return m.value;
    if (m.kind === 'error') throw new QmpError(QEMU_ERROR.COMMAND, `QMP ${command} (${this.where}): ${m.error.class}: ${m.error.desc}`, { errorClass: m.error.class });
    throw new QmpError(QEMU_ERROR.PROTOCOL, `virsh qemu-monitor-command ${this.domain} ${command} printed a ${m.kind}, not a reply`);
  }

  async hmp(commandLine: string, cpuIndex?: number): Promise<string> {
    if (cpuIndex !== undefined) {
      const r = await this.execute('human-monitor-command', hmpArguments(commandLine, cpuIndex));
      if (typeof r !== 'string') throw new QmpError(QEMU_ERROR.PROTOCOL, `${this.where} answered human-monitor-command with a ${typeof r}`);
      return r.replaceAll('\r\n', '\n');
    }
    return (await this.virshRun(virshHmpArgs(this.domain, commandLine, this.opts.connectUri), commandLine)).replaceAll('\r\n', '\n');
  }

  async close(): Promise<void> {
    /* one process per command: nothing stays open */
  }

  private async virshRun(args: readonly string[], what: string): Promise<string> {
    let r: { stdout: string; stderr: string; code: number };
    try {
      r = await this.run(this.virsh, args);
    } catch (err) {
      throw new QmpError(QEMU_ERROR.VIRSH, `cannot run ${this.virsh}: ${(err as Error).message}`, { cause: err });
    }
    if (r.code !== 0) throw new QmpError(QEMU_ERROR.VIRSH, `${this.virsh} qemu-monitor-command ${this.domain} (${what}) failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.code}`}`);
    return r.stdout;
  }
}
