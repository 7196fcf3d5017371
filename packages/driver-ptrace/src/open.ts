import fs from 'node:fs';
import { getLogger } from '@stackdb/core';
import { binding } from './binding.js';
import { ProcessControl, ptraceOptions, type ControlHost } from './control.js';
import { ERRNO, PtraceAttachError, PtraceError, errnoText } from './errors.js';
import { reaper, tracerOf, type TraceeOwner } from './reaper.js';
import type { LaunchPlan } from './request.js';

const log = getLogger('T_LUP');

function readText(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'latin1');
  } catch {
    return undefined;
  }
}

function commOf(pid: number): string {
  return readText(`/proc/${pid}/comm`)?.trim() ?? '?';
}

function statusField(pid: number, field: string): string | undefined {
  const m = new RegExp(`\\n${field}:\\s*([^\\n]*)`).exec(readText(`/proc/${pid}/status`) ?? '');
  return m?.[1]?.trim();
}

const SCOPE_MEANING: Record<string, string> = {
  '1': 'only descendants may be traced',
  '2': 'only processes with CAP_SYS_PTRACE may trace',
  '3': 'ptrace attach is disabled',
};

/** Explains a failed PTRACE_SEIZE of `pid` in one line. */
function seizeError(pid: number, errno: number): Error {
  if (errno === ERRNO.ESRCH) return new PtraceAttachError('ERR_NO_PROCESS', `no such process: ${pid}`);
  if (errno !== ERRNO.EPERM) return new PtraceError(`cannot attach to process ${pid}`, errno);
  const tracer = tracerOf(pid);
  if (tracer === undefined) return new PtraceAttachError('ERR_NO_PROCESS', `no such process: ${pid}`);
  if (tracer !== 0) {
    const who = tracer === binding().tracerTid() ? 'this debugger' : `process ${tracer} (${commOf(tracer)})`;
    return new PtraceAttachError('ERR_ALREADY_TRACED', `process ${pid} (${commOf(pid)}) is already traced by ${who}`);
  }
  const owner = Number(statusField(pid, 'Uid')?.split(/\s+/)[0]);
  const me = process.getuid?.() ?? 0;
  if (me !== 0 && Number.isInteger(owner) && owner !== me) {
    return new PtraceAttachError('ERR_PERMISSION', `permission denied: process ${pid} (${commOf(pid)}) belongs to uid ${owner}; run as that user or as root`);
  }
  const scope = readText('/proc/sys/kernel/yama/ptrace_scope')?.trim();
  if (scope && scope !== '0') {
    return new PtraceAttachError('ERR_PERMISSION', `permission denied to trace process ${pid}: kernel.yama.ptrace_scope is ${scope} (${SCOPE_MEANING[scope] ?? 'restricted'}); run as root or set it to 0`);
  }
  return new PtraceAttachError('ERR_PERMISSION', `permission denied to trace process ${pid} (${commOf(pid)}): it may be setuid, non-dumpable, or protected by a security module`);
}

/** Refuses processes that cannot be attached for reasons /proc shows before trying. */
function checkAttachable(pid: number): void {
  if (pid === process.pid) throw new PtraceAttachError('ERR_PERMISSION', `process ${pid} is this debugger itself`);
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) throw new PtraceAttachError('ERR_NO_PROCESS', `no such process: ${pid}`);
  // Fields after the parenthesised command: state, ppid, ...
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') throw new PtraceAttachError('ERR_NO_PROCESS', `process ${pid} has exited (it is a zombie)`);
  if (Number(statusField(pid, 'Tgid')) !== pid) throw new PtraceAttachError('ERR_NO_PROCESS', `${pid} is a thread of process ${statusField(pid, 'Tgid')}, not a process`);
  if (Number(rest[1]) === process.pid && !reaper().isTracked(pid)) {
    throw new PtraceAttachError('ERR_CHILD_PROCESS', `process ${pid} is a child_process of this Node process, whose libuv would reap its ptrace stops: start it detached (e.g. through a shell with '&') or launch it with the ptrace driver`);
  }
}

/**
 * Attaches to every thread of a running process (PTRACE_SEIZE, then
 * PTRACE_INTERRUPT), repeating the scan of /proc/PID/task until it finds no
 * new thread, and returns it stopped. A process that was stopped by job
 * control stays so after detach; signals that arrived while attaching are
 * delivered at the first resume.
 */
export async function attachProcess(pid: number, host: ControlHost): Promise<ProcessControl> {
  checkAttachable(pid);
  const native = binding();
  const options = ptraceOptions(native, host.interests);
  const e = native.seize(pid, options);
  if (e) throw seizeError(pid, e);
  const ctl = new ProcessControl(pid, host);
  ctl.addThread(pid, 'running', false);
  try {
    for (let added = 1; added; ) {
      added = 0;
      let tids: number[];
      try {
        tids = fs.readdirSync(`/proc/${pid}/task`).map(Number);
      } catch {
        break;
      }
      for (const tid of tids) {
        if (ctl.has(tid)) continue;
        const r = native.seize(tid, options);
        if (r === 0) {
          ctl.addThread(tid, 'running', false);
          added++;
        } else if (r === ERRNO.EPERM && tracerOf(tid) === native.tracerTid()) {
          // Attached by the kernel as a child of a thread seized already: its first stop is on its way.
          if (!ctl.has(tid)) ctl.addThread(tid, 'running', true);
        } else if (r !== ERRNO.ESRCH) {
          throw seizeError(tid, r);
        }
      }
    }
    ctl.openMemory();
    const events = await ctl.pause();
    for (const ev of events) {
      if (ev.kind === 'exited') throw new PtraceAttachError('ERR_NO_PROCESS', `process ${pid} exited while being attached`);
      if (ev.kind === 'signal') ctl.injectLater(ev.tid, ev.signal);
    }
    ctl.loadDebugRegisters();
    log.debug(1, 'attached to process %d (%d threads)', pid, ctl.threadList().length);
    return ctl;
  } catch (err) {
    ctl.cleanupSync([], () => false);
    throw err;
  }
}

/**
 * Adopts a fork child that the kernel attached to this tracer when its
 * parent forked (PTRACE_O_TRACEFORK): it is returned stopped at its first
 * trace stop, with the parent's options (it inherited them).
 */
export async function adoptProcess(pid: number, host: ControlHost): Promise<ProcessControl> {
  const ctl = new ProcessControl(pid, host);
  ctl.addThread(pid, 'running', false);
  try {
    await ctl.adopt(reaper().takeOrphan(pid));
    ctl.openMemory();
    ctl.loadDebugRegisters();
    log.debug(1, 'adopted fork child %d', pid);
    return ctl;
  } catch (err) {
    ctl.cleanupSync([], () => false);
    throw err;
  }
}

function stageMessage(plan: LaunchPlan, stage: string, errno: number): Error {
  const what = errnoText(errno);
  switch (stage) {
    case 'stdin':
      return new PtraceAttachError('ERR_EXEC', `cannot launch ${plan.file}: cannot open ${plan.stdin} for its stdin (-I): ${what}`);
    case 'stdout':
      return new PtraceAttachError('ERR_EXEC', `cannot launch ${plan.file}: cannot open ${plan.stdout} for its stdout (-O): ${what}`);
    case 'stderr':
      return new PtraceAttachError('ERR_EXEC', `cannot launch ${plan.file}: cannot open ${plan.stderr} for its stderr (-E): ${what}`);
    case 'seize':
      return errno === ERRNO.EPERM
        ? new PtraceAttachError('ERR_PERMISSION', `cannot trace the launched ${plan.file}: ${what}`)
        : new PtraceError(`cannot trace the launched ${plan.file}`, errno);
    default:
      return new PtraceAttachError('ERR_EXEC', `cannot launch ${plan.file}: ${stage}: ${what}`);
  }
}

/** Reaps a launched program after it was detached, so it never lingers as a zombie of ours. */
class DetachedChild implements TraceeOwner {
  constructor(readonly pid: number) {}
  onStatus(_tid: number, status: number): void {
    if ((status & 0x7f) !== 0x7f) reaper().untrack(this.pid);
  }
  onError(): void {
    reaper().untrack(this.pid);
  }
  watching(): boolean {
    return false;
  }
  waiting(): boolean {
    return false;
  }
}

/** Lets the reaper collect the exit of a launched program that was detached. */
export function reapWhenDone(pid: number): void {
  reaper().track(pid, new DetachedChild(pid));
}

/**
 * Launches a program, seized from its start, and returns it stopped at its
 * first instruction after execve (PTRACE_EVENT_EXEC). Signals it receives
 * before that are passed on; an exec failure becomes ERR_EXEC with errno.
 */
export async function launchProgram(plan: LaunchPlan, host: ControlHost): Promise<ProcessControl> {
  const native = binding();
  const r = native.spawn(plan.file, plan.argv, plan.env, plan.stdin ?? null, plan.stdout ?? null, plan.stderr ?? null, ptraceOptions(native, host.interests));
  if ('error' in r) throw stageMessage(plan, r.stage, r.error);
  const ctl = new ProcessControl(r.pid, host);
  ctl.addThread(r.pid, 'running', false);
  let errorFd = r.execErrorFd;
  const execError = () => {
    const e = errorFd >= 0 ? native.readExecError(errorFd) : 0;
    errorFd = -1;
    return e;
  };
  try {
    for (;;) {
      const events = await ctl.wait();
      if (events.some((e) => e.kind === 'exec')) break;
      const exited = events.find((e) => e.kind === 'exited');
      if (exited) {
        const errno = execError();
        const status = exited.status;
        throw new PtraceAttachError(
          'ERR_EXEC',
          errno ? `cannot execute ${plan.file}: ${errnoText(errno)}` : `${plan.file} ${status.signal ? `was killed by signal ${status.signal}` : `exited with status ${status.code}`} before it could be traced`,
        );
      }
      const signals = new Map<number, number>();
      for (const e of events) if (e.kind === 'signal') signals.set(e.tid, e.signal);
      ctl.resume(signals);
    }
    execError();
    log.debug(1, 'launched %s as process %d', plan.file, r.pid);
    return ctl;
  } catch (err) {
    execError();
    if (!ctl.exited) {
      native.kill(r.pid, 9);
      await ctl.kill().catch(() => undefined);
    }
    ctl.close();
    throw err;
  }
}
