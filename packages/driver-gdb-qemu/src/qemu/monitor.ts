/**
 * What the QEMU helper needs of QEMU's monitor, whichever way it is reached:
 * QMP over a socket ({@link QmpClient}) or libvirt's `virsh qemu-monitor-command`
 * ({@link VirshMonitor}).
 */
export interface QemuMonitor {
  /** Where the monitor is, for messages (`127.0.0.1:1235`, `libvirt domain vm1`). */
  readonly where: string;
  /** Runs a QMP command and returns its `return` value; rejects with `QmpError` (`ERR_QMP_COMMAND`…). */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Runs a human-monitor (HMP) command, on vCPU `cpuIndex` when given, and returns its text. */
  hmp(commandLine: string, cpuIndex?: number): Promise<string>;
  /** Releases the connection. */
  close(): Promise<void>;
}

/** The `human-monitor-command` arguments for a command line on an optional vCPU. */
export function hmpArguments(commandLine: string, cpuIndex?: number): Record<string, unknown> {
  return cpuIndex === undefined ? { 'command-line': commandLine } : { 'command-line': commandLine, 'cpu-index': cpuIndex };
}
