import test, { type ExecutionContext } from 'ava';
import { ScriptedTransport, simpleStub } from './test-support/scripted-transport.js';
import { RspClient } from './rsp/client.js';
import { GdbTarget } from './gdb-target.js';

/*
 * GdbTarget against scripted stubs that misbehave in ways real ones do now and
 * then; the real stubs themselves are in gdbserver, vgdb and qemu tests.
 */

/**
 * A one-thread stub that drops the first `\x03` (answering the next one), with
 * `more` for other requests; `counts.interrupts` counts the `\x03`s it got.
 */
function interruptLosingStub(more: (req: string) => string | undefined = () => undefined) {
  const counts = { interrupts: 0 };
  const transport = new ScriptedTransport(simpleStub((req) => {
    if (req === '?') return 'T05thread:p1.1;';
    if (req === 'qfThreadInfo') return 'mp1.1';
    if (req === 'qsThreadInfo') return 'l';
    if (req.startsWith('D')) return 'OK';
    if (req === '\x03') return ++counts.interrupts === 1 ? 'silence' : 'T02thread:p1.1;';
    return more(req) ?? '';
  }));
  return { counts, transport };
}

/** A target on the stub, opened, resumed and paused again (the pause needed two interrupts). */
async function pausedAfterResentInterrupt(t: ExecutionContext, stub: ReturnType<typeof interruptLosingStub>): Promise<GdbTarget> {
  const target = new GdbTarget({ client: await RspClient.connect(stub.transport, { timeoutMs: 2000 }) });
  await target.open();
  await target.resume();
  await target.pause();
  t.is(stub.counts.interrupts, 2);
  return target;
}

test('an interrupt the stub loses (Valgrind\'s gdbserver just after a c) is sent again; the SIGINT it may leave is swallowed', async (t) => {
  const stub = interruptLosingStub();
  const tr = stub.transport;
  const target = await pausedAfterResentInterrupt(t, stub);
  t.is(target.status, 'paused');
  // The first interrupt's SIGINT arrives after the next resume: not an event.
  await target.resume();
  const resumes = tr.requests.length;
  tr.injectPacket('T02thread:p1.1;');
  const waiting = target.wait();
  while (tr.requests.length === resumes) await new Promise((r) => setImmediate(r));
  t.is(tr.requests.at(-1), 'vCont;c', 'the swallowed stop was resumed');
  tr.injectPacket('T0bthread:p1.1;');
  const { events } = await waiting;
  t.deepEqual(events.map((e) => e.kind), ['signal']);
  await target.close();
});

test('the SIGINT a repeated interrupt leaves, arriving as the reply to a step, is swallowed and the step made again', async (t) => {
  let steps = 0;
  const target = await pausedAfterResentInterrupt(t, interruptLosingStub((req) => {
    if (req.startsWith('vCont;s')) return ++steps === 1 ? 'T02thread:p1.1;' : 'T05thread:p1.1;';
    if (req === 'g') return '00'.repeat(560);
    return undefined;
  }));
  const events = await target.step(1);
  t.is(steps, 2, 'stepped again');
  t.false(events.some((e) => e.kind === 'signal'), JSON.stringify(events.map((e) => e.kind)));
  await target.close();
});
