import test from 'ava';
import { PTRACE_EVENT, SIG, decodeWaitStatus, isStopSignal } from './wait-status.js';

test('exit, death by signal (with core), stops, ptrace events and continue are decoded', (t) => {
  t.deepEqual(decodeWaitStatus(0x0300), { kind: 'exited', code: 3 });
  t.deepEqual(decodeWaitStatus(SIG.SIGSEGV | 0x80), { kind: 'killed', signal: SIG.SIGSEGV, core: true });
  t.deepEqual(decodeWaitStatus(SIG.SIGKILL), { kind: 'killed', signal: SIG.SIGKILL, core: false });
  t.deepEqual(decodeWaitStatus((SIG.SIGTRAP << 8) | 0x7f), { kind: 'stopped', signal: SIG.SIGTRAP, event: 0 });
  t.deepEqual(decodeWaitStatus((PTRACE_EVENT.CLONE << 16) | (SIG.SIGTRAP << 8) | 0x7f), { kind: 'stopped', signal: SIG.SIGTRAP, event: PTRACE_EVENT.CLONE });
  t.deepEqual(decodeWaitStatus((PTRACE_EVENT.STOP << 16) | (SIG.SIGSTOP << 8) | 0x7f), { kind: 'stopped', signal: SIG.SIGSTOP, event: PTRACE_EVENT.STOP });
  t.deepEqual(decodeWaitStatus(((SIG.SIGTRAP | 0x80) << 8) | 0x7f), { kind: 'stopped', signal: SIG.SIGTRAP | 0x80, event: 0 });
  t.deepEqual(decodeWaitStatus(0xffff), { kind: 'continued' });
});

test('job-control stop signals', (t) => {
  t.true([SIG.SIGSTOP, SIG.SIGTSTP, SIG.SIGTTIN, SIG.SIGTTOU].every(isStopSignal));
  t.false(isStopSignal(SIG.SIGTRAP));
  t.false(isStopSignal(SIG.SIGCONT));
});
