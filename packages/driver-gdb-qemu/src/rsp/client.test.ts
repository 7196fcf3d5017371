import test from 'ava';
import { ProtocolError } from '@stackdb/core';
import { ScriptedTransport, packet, simpleStub, type Responder } from '../test-support/scripted-transport.js';
import { RspClient, PointType } from './client.js';
import { checksum, escapeBinary } from './codec.js';
import { RspConnection } from './connection.js';
import { RSP_ERROR, StubError, UnsupportedPacketError } from './errors.js';
import { toHex } from './hex.js';

/*
 * The client against a scripted stub: every reply, error, timeout and piece of
 * garbage is injected, and what the client sent is checked byte for byte.
 */

async function connect(responder: Responder, opts: { timeoutMs?: number; maxJunk?: number } = {}): Promise<{ client: RspClient; tr: ScriptedTransport }> {
  const tr = new ScriptedTransport(responder);
  const client = await RspClient.connect(tr, { timeoutMs: opts.timeoutMs ?? 2000, ...(opts.maxJunk ? { maxJunk: opts.maxJunk } : {}) });
  return { client, tr };
}

const code = (err: unknown) => (err instanceof ProtocolError ? err.code : String(err));

test('handshake: features, no-ack mode, the default layout, vCont actions', async (t) => {
  const { client, tr } = await connect(simpleStub(() => ''));
  t.is(client.features.packetSize, 0x1000);
  t.true(client.features.noAck);
  t.true(client.features.multiprocess);
  t.false(client.features.swbreak);
  t.deepEqual([...client.features.vCont], ['c', 'C', 's', 'S', 't']);
  t.is(client.layout.architecture, 'default');
  t.deepEqual(tr.requests, ['qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386', 'QStartNoAckMode', 'Hgp0.0', 'vCont?']);
  // The client acknowledged the replies up to and including QStartNoAckMode's OK, and none after.
  t.is((tr.sent.match(/\+/g) ?? []).length - (tr.requests[0]!.match(/\+/g) ?? []).length, 2);
  client.close();
});

test('a stub without no-ack mode (like QEMU 7.2) keeps acknowledgments; its description includes files', async (t) => {
  const xml: Record<string, string> = {
    'target.xml': '<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>i386:x86-64</architecture><xi:include href="i386-64bit.xml"/></target>',
    'i386-64bit.xml': '<feature name="org.gnu.gdb.i386.core">' + ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'].map((r) => `<reg name="${r}" bitsize="64"/>`).join('') + '<reg name="cr3" bitsize="64"/></feature>',
  };
  const { client, tr } = await connect(simpleStub((req) => {
    const m = /^qXfer:features:read:([^:]+):([0-9a-f]+),([0-9a-f]+)$/.exec(req);
    if (!m) return '';
    const doc = xml[m[1]!]!;
    const off = parseInt(m[2]!, 16);
    const len = 40;
    // Small chunks, as a stub with a small packet size sends them.
    return (off + len >= doc.length ? 'l' : 'm') + doc.slice(off, off + len);
  }, 'PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+'));
  t.false(client.features.noAck);
  t.is(client.layout.architecture, 'i386:x86-64');
  t.is(client.layout.byArchName('cr3')?.offset, 17 * 8);
  t.true(tr.requests.some((r) => r.startsWith('qXfer:features:read:i386-64bit.xml:')));
  const before = tr.sent.length;
  t.is(await client.text('qC', { allowEmpty: true }), '');
  t.is(tr.sent.slice(before).at(-1), '+', 'replies are still acknowledged');
});

test('Exx is a StubError with the number, E.text one with the text, an empty reply UnsupportedPacketError', async (t) => {
  const { client } = await connect(simpleStub((req) => (req.startsWith('m') ? 'E14' : req === 'qX' ? 'E.no such thing' : '')));
  const e1 = await t.throwsAsync(client.readMemory(0x1000n, 16), { instanceOf: StubError, code: RSP_ERROR.STUB });
  t.is((e1 as StubError).errno, 0x14);
  const e2 = await t.throwsAsync(client.text('qX'), { instanceOf: StubError });
  t.regex(e2!.message, /no such thing/);
  await t.throwsAsync(client.text('qY'), { instanceOf: UnsupportedPacketError, code: RSP_ERROR.UNSUPPORTED });
  client.close();
});

test('a silent stub times out, closing the connection; later requests fail at once', async (t) => {
  const { client } = await connect(simpleStub((req) => (req === 'qSilent' ? 'silence' : 'OK')), { timeoutMs: 150 });
  const err = await t.throwsAsync(client.text('qSilent'));
  t.is(code(err), RSP_ERROR.TIMEOUT);
  t.regex(err!.message, /did not answer qSilent within 150 ms/);
  const later = await t.throwsAsync(client.text('qOther'));
  t.is(code(later), RSP_ERROR.CLOSED);
});

test('garbage instead of a reply is a protocol error, not a hang', async (t) => {
  const { client } = await connect(simpleStub((req) => (req === 'qGarbage' ? { raw: 'x'.repeat(5000) } : 'OK')), { maxJunk: 1000 });
  const err = await t.throwsAsync(client.text('qGarbage'));
  t.is(code(err), RSP_ERROR.PROTOCOL);
  t.regex(err!.message, /not RSP packets/);
});

test('a bad checksum is answered with - while acks are on, and the retransmission is taken', async (t) => {
  let tries = 0;
  const tr = new ScriptedTransport((req) => {
    if (req.startsWith('qSupported')) return 'PacketSize=100';
    if (req === 'vCont?') return '';
    if (req.startsWith('Hg')) return 'OK';
    if (req === 'qBad') return { raw: '$OK#00' };
    return undefined;
  });
  const client = await RspClient.connect(tr, { timeoutMs: 2000 });
  // The stub resends when asked.
  const origSend = tr.send.bind(tr);
  tr.send = (bytes) => {
    origSend(bytes);
    if (Buffer.from(bytes).toString('latin1') === '-') queueMicrotask(() => tr.inject(++tries < 2 ? '$OK#00' : '$OK#9a'));
  };
  t.is(await client.text('qBad'), 'OK');
  t.is(tries, 2);
  t.is((tr.sent.match(/-/g) ?? []).length, 2);
  client.close();
});

test('a bad checksum in no-ack mode breaks the connection with a protocol error', async (t) => {
  const { client } = await connect(simpleStub((req) => (req === 'qBad' ? { raw: '$OK#00' } : 'OK')));
  const err = await t.throwsAsync(client.text('qBad'));
  t.is(code(err), RSP_ERROR.PROTOCOL);
  t.regex(err!.message, /bad checksum/);
});

test('a request the stub rejects with - is retransmitted, then given up', async (t) => {
  const tr = new ScriptedTransport((req) => {
    if (req.startsWith('qSupported')) return 'PacketSize=100';
    if (req.startsWith('Hg') || req === 'vCont?') return '';
    return undefined;
  });
  const client = await RspClient.connect(tr, { timeoutMs: 2000 });
  tr.acks = false;
  const n0 = tr.requests.length;
  const p = client.text('qNack');
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setImmediate(r));
    tr.inject('-');
  }
  const err = await t.throwsAsync(p);
  t.is(code(err), RSP_ERROR.PROTOCOL);
  t.regex(err!.message, /rejected qNack 4 times/);
  t.is(tr.requests.length - n0, 4, 'sent once and retransmitted three times');
});

test('with retransmitAfterMs, a packet lost on the way is sent again (lossy transports)', async (t) => {
  let dropped = 0;
  const tr = new ScriptedTransport((req) => {
    if (req === 'qLost' && dropped++ === 0) return 'silence';
    return req.startsWith('qSupported') ? 'PacketSize=100' : req === 'qLost' ? 'found' : '';
  });
  // The stub's automatic + would acknowledge the lost copy too: acknowledge by hand instead.
  const conn = new RspConnection(tr, { timeoutMs: 2000, retransmitAfterMs: 30 });
  tr.acks = false;
  const origSend = tr.send.bind(tr);
  tr.send = (bytes) => {
    origSend(bytes);
    if (tr.requests.at(-1) === 'qLost' && dropped > 1) queueMicrotask(() => tr.inject('+'));
  };
  t.is(Buffer.from(await conn.request('qLost')).toString(), 'found');
  t.is(tr.requests.filter((r) => r === 'qLost').length, 2);
  conn.close();
});

test('the stub closing the line fails the request with ERR_GDB_CLOSED', async (t) => {
  const { client } = await connect(simpleStub((req) => (req === 'qBye' ? 'close' : 'OK')));
  const err = await t.throwsAsync(client.text('qBye'));
  t.is(code(err), RSP_ERROR.CLOSED);
  t.regex(err!.message, /closed the connection/);
});

test('one request in flight: concurrent calls reach the stub one after another', async (t) => {
  let inFlight = 0;
  let most = 0;
  const tr = new ScriptedTransport(simpleStub((req, tr2) => {
    inFlight++;
    most = Math.max(most, inFlight);
    setTimeout(() => {
      inFlight--;
      tr2.injectPacket(`R${req}`);
    }, 5);
    return undefined;
  }));
  const client = await RspClient.connect(tr);
  const replies = await Promise.all(['qA', 'qB', 'qC', 'qD'].map((q) => client.text(q)));
  t.deepEqual(replies, ['RqA', 'RqB', 'RqC', 'RqD']);
  t.is(most, 1);
  client.close();
});

test('console output (O packets) is collected by qRcmd; hex and OK endings both work', async (t) => {
  const { client } = await connect(simpleStub((req) => {
    if (req === `qRcmd,${toHex(new TextEncoder().encode('help'))}`) return [`O${toHex(new TextEncoder().encode('line 1\n'))}`, `O${toHex(new TextEncoder().encode('line 2\n'))}`, 'OK'];
    if (req.startsWith('qRcmd,')) return toHex(new TextEncoder().encode('direct\n'));
    return '';
  }));
  const outputs: string[] = [];
  client.connection.on('output', (o) => outputs.push(o));
  t.is(await client.monitor('help'), 'line 1\nline 2\n');
  t.is(await client.monitor('other'), 'direct\n');
  t.deepEqual(outputs, ['line 1\n', 'line 2\n']);
});

test('run-length encoded register replies and unavailable registers', async (t) => {
  const regs = '1122334455667788' + '0'.repeat(16 * 8) + 'xxxxxxxxxxxxxxxx';
  // 0* + n: runs of zeros as a stub would send them.
  const encoded = '1122334455667788' + '0*~0*90' + 'x*,';
  const { client } = await connect(simpleStub((req) => (req === 'g' ? { raw: `$${encoded}#${checksum(new TextEncoder().encode(encoded)).toString(16).padStart(2, '0')}` } : 'OK')));
  const block = await client.readRegisters({ pid: 1, tid: 1 });
  t.is(block.bytes.length, regs.length / 2);
  t.deepEqual(block.bytes.subarray(0, 8), Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88));
  t.deepEqual([...block.unavailable.subarray(-8)], [1, 1, 1, 1, 1, 1, 1, 1]);
  t.is(block.unavailable.subarray(0, -8).some((x) => x), false);
});

test('p reads one register; a stub without p is remembered', async (t) => {
  const { client, tr } = await connect(simpleStub((req) => (req === 'p10' ? '7856341200000000' : req === 'p11' ? 'xxxxxxxx' : '')));
  t.deepEqual(await client.readRegister({ pid: 1, tid: 1 }, 16), Uint8Array.of(0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0));
  t.is(await client.readRegister({ pid: 1, tid: 1 }, 17), undefined, 'unavailable');
  const { client: c2, tr: tr2 } = await connect(simpleStub(() => ''));
  t.is(await c2.readRegister({ pid: 1, tid: 1 }, 16), undefined);
  t.is(await c2.readRegister({ pid: 1, tid: 1 }, 16), undefined);
  t.is(tr2.requests.filter((r) => r.startsWith('p')).length, 1, 'asked once');
  t.true(tr.requests.includes('Hgp1.1'));
});

test('thread lists through qfThreadInfo/qsThreadInfo, and qXfer:threads with names', async (t) => {
  const { client } = await connect(simpleStub((req) => (req === 'qfThreadInfo' ? 'mp1.1,p1.2' : req === 'qsThreadInfo' ? 'l' : '')));
  t.deepEqual(await client.threads(), [{ id: { pid: 1, tid: 1 } }, { id: { pid: 1, tid: 2 } }]);
  const xml = '<threads><thread id="p2a.2a" core="1" name="main"/><thread id="p2a.2b" name="w&lt;1&gt;"/></threads>';
  const { client: c2 } = await connect(simpleStub((req) => (req.startsWith('qXfer:threads:read::0,') ? `l${xml}` : ''), 'PacketSize=1000;qXfer:threads:read+;multiprocess+'));
  t.deepEqual(await c2.threads(), [{ id: { pid: 0x2a, tid: 0x2a }, name: 'main', core: 1 }, { id: { pid: 0x2a, tid: 0x2b }, name: 'w<1>' }]);
});

test('memory writes try binary X once, fall back to hex M; qXfer data is unescaped', async (t) => {
  const seen: string[] = [];
  const { client } = await connect(simpleStub((req) => {
    seen.push(req);
    if (req.startsWith('X')) return '';
    if (req.startsWith('M')) return 'OK';
    if (req.startsWith('qXfer:auxv:read::0,')) return Buffer.concat([Buffer.from('l'), Buffer.from(escapeBinary(Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 1)))]);
    return '';
  }, 'PacketSize=1000;qXfer:auxv:read+'));
  await client.writeMemory(0x1000n, Uint8Array.of(0x23, 0x24));
  await client.writeMemory(0x2000n, Uint8Array.of(0xff));
  t.deepEqual(seen.filter((r) => /^[XM]/.test(r)), ['X0,0:', 'M1000,2:2324', 'M2000,1:ff']);
  // A stub with X gets the bytes escaped.
  const sent: string[] = [];
  const { client: c2 } = await connect(simpleStub((req) => {
    sent.push(req);
    return req.startsWith('X') ? 'OK' : '';
  }));
  await c2.writeMemory(0x1000n, Uint8Array.of(0x23, 0x24, 0x41));
  t.deepEqual(sent.filter((r) => r.startsWith('X')), ['X0,0:', 'X1000,3:}\x03}\x04A']);
  t.deepEqual(await client.xferRead('auxv', ''), Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 1));
});

test('Z packets: an empty reply marks the type unsupported, Exx is a refusal', async (t) => {
  const { client } = await connect(simpleStub((req) => (req.startsWith('Z0') || req.startsWith('z0') ? 'OK' : req.startsWith('Z2') ? 'E22' : '')));
  t.true(await client.insertPoint(PointType.Software, 0x401000n, 1));
  await client.removePoint(PointType.Software, 0x401000n, 1);
  t.false(await client.insertPoint(PointType.Hardware, 0x401000n, 1));
  t.true(client.pointUnsupported(PointType.Hardware));
  await t.throwsAsync(client.insertPoint(PointType.WriteWatch, 0x404000n, 8), { instanceOf: StubError });
});

test('resume, wait (abortable), interrupt; requests are refused while running', async (t) => {
  const { client, tr } = await connect(simpleStub((req) => (req === '\x03' ? 'T02thread:p1.1;' : '')));
  await client.resume([{ action: 'c' }]);
  t.is(tr.requests.at(-1), 'vCont;c');
  t.is(client.connection.state, 'running');
  await t.throwsAsync(client.text('g'), { code: RSP_ERROR.RUNNING });
  const ac = new AbortController();
  const waiting = client.connection.waitStop({ signal: ac.signal });
  ac.abort();
  await t.throwsAsync(waiting, { code: 'ERR_ABORTED' });
  t.is(client.connection.takeStop(), undefined);
  t.true(client.connection.interrupt());
  t.is(await client.connection.waitStop(), 'T02thread:p1.1;');
  t.is(client.connection.state, 'stopped');
  t.false(client.connection.interrupt(), 'nothing to interrupt');
  // Signals and per-thread actions.
  await client.resume([{ action: 'c', signal: 0x0b, thread: { pid: 1, tid: 2 } }, { action: 's', thread: { pid: 1, tid: 1 } }]);
  t.is(tr.requests.at(-1), 'vCont;C0b:p1.2;s:p1.1');
  tr.injectPacket('T05thread:p1.1;');
  t.is(await client.connection.waitStop({ timeoutMs: 1000 }), 'T05thread:p1.1;');
});

test('a stop reply that comes while nobody waits is kept for poll; a dead stub fails the wait', async (t) => {
  const { client, tr } = await connect(simpleStub(() => ''));
  await client.resume([{ action: 'c' }]);
  tr.injectPacket(`O${toHex(new TextEncoder().encode('program output'))}`);
  tr.inject('%Stop:T05#00');
  tr.injectPacket('W00;process:1');
  await new Promise((r) => setImmediate(r));
  t.is(client.connection.takeStop(), 'W00;process:1');
  await client.resume([{ action: 'c' }]);
  const waiting = client.connection.waitStop();
  tr.close();
  t.is(code(await t.throwsAsync(waiting)), RSP_ERROR.CLOSED);
});

test('an unasked stop reply before the answer to qSupported is kept apart, not taken as the answer (QEMU on connection)', async (t) => {
  // QEMU 7.2 stops a running machine when a client connects and announces it in the old thread format.
  const features = 'PacketSize=1000;qXfer:features:read-;multiprocess+;vContSupported+';
  const tr = new ScriptedTransport(simpleStub((req) => (req === '?' ? 'T05thread:p01.01;' : req.startsWith('m') ? 'cafe' : ''), features));
  const real = tr.send.bind(tr);
  let first = true;
  tr.send = (bytes) => {
    const isQSupported = Buffer.from(bytes).includes('qSupported');
    if (first && isQSupported) {
      first = false;
      // The stop reply reaches the client after its request left, before the request's answer.
      tr.injectPacket('T02thread:01;');
    }
    real(bytes);
  };
  const client = await RspClient.connect(tr, { timeoutMs: 2000 });
  t.is(client.features.packetSize, 0x1000);
  t.true(client.features.multiprocess);
  t.deepEqual([...client.features.vCont], ['c', 'C', 's', 'S', 't']);
  // Every later request gets its own answer: nothing is off by one.
  t.is((await client.haltReason()).kind, 'signal');
  t.deepEqual(await client.readMemory(0x1000n, 2), Uint8Array.of(0xca, 0xfe));
  t.deepEqual(client.connection.takeUnsolicitedStops(), ['T02thread:01;']);
  t.deepEqual(client.connection.takeUnsolicitedStops(), []);
  client.close();
});

test('an unasked stop reply while stopped and idle is kept until a resume discards it; ? still takes a stop as its answer', async (t) => {
  const { client, tr } = await connect(simpleStub((req) => (req === '?' ? 'S05' : '')));
  tr.injectPacket('T02thread:p1.1;');
  await new Promise((r) => setImmediate(r));
  t.is(client.connection.state, 'stopped');
  t.is((await client.haltReason()).kind, 'signal', '? is answered by a stop reply');
  await client.resume([{ action: 'c' }]);
  t.deepEqual(client.connection.takeUnsolicitedStops(), [], 'the resume ended that stop');
  t.is(client.connection.takeStop(), undefined, 'and it is not reported as the stop of the resume');
  tr.injectPacket('T05thread:p1.1;');
  t.is(await client.connection.waitStop({ timeoutMs: 1000 }), 'T05thread:p1.1;');
  client.close();
});

test('without vCont, a step selects its thread with Hc and continuing sends plain c', async (t) => {
  const { client, tr } = await connect((req) => {
    if (req.startsWith('qSupported')) return 'PacketSize=400';
    if (req.startsWith('H')) return 'OK';
    return '';
  });
  t.deepEqual([...client.features.vCont], []);
  await client.resume([{ action: 's', thread: { tid: 7 } }]);
  t.deepEqual(tr.requests.slice(-2), ['Hc7', 's']);
  tr.injectPacket('S05');
  await client.connection.waitStop();
  await client.resume([{ action: 'c' }]);
  t.is(tr.requests.at(-1), 'c');
});

test('a handshake that fails closes the connection', async (t) => {
  const tr = new ScriptedTransport(() => 'close');
  await t.throwsAsync(RspClient.connect(tr, { timeoutMs: 500 }), { code: RSP_ERROR.CLOSED });
  const tr2 = new ScriptedTransport((req) => (req.startsWith('qSupported') ? 'PacketSize=400;qXfer:features:read+' : req.startsWith('qXfer') ? 'l<target><architecture>i386</architecture></target>' : ''));
  const err = await t.throwsAsync(RspClient.connect(tr2, { timeoutMs: 500 }));
  t.regex(err!.message, /only x86-64/);
});

test('a bare connection: a little junk between packets is tolerated; closing fails later requests', async (t) => {
  const tr = new ScriptedTransport(() => undefined);
  const conn = new RspConnection(tr, { timeoutMs: 500 });
  const p = conn.request('qFoo');
  await new Promise((r) => setImmediate(r));
  tr.inject('\r\n');
  tr.inject(packet('bar'));
  t.is(Buffer.from(await p).toString(), 'bar');
  conn.close();
  await t.throwsAsync(conn.request('qFoo'), { code: RSP_ERROR.CLOSED });
});
