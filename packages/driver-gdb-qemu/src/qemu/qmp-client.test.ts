import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { QmpClient } from './qmp-client.js';

/*
 * A scripted QMP peer on a UNIX socket, to pin down the client's protocol
 * behaviour (ids, one command in flight, late replies, events, closing). The
 * client is checked against real QEMU in helper-vm.test.ts.
 */
interface Peer {
  path: string;
  received: { execute: string; id: unknown; arguments?: unknown }[];
  sockets: net.Socket[];
  close(): void;
}

type Answer = (cmd: { execute: string; id: unknown; arguments?: unknown }, sock: net.Socket) => void;

async function peer(answer: Answer, greeting = true): Promise<Peer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qmp-test-'));
  const p: Peer = { path: path.join(dir, 'qmp.sock'), received: [], sockets: [], close: () => undefined };
  const server = net.createServer((sock) => {
    p.sockets.push(sock);
    if (greeting) sock.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}\r\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, i)) as { execute: string; id: unknown };
        buf = buf.slice(i + 1);
        p.received.push(cmd);
        if (cmd.execute === 'qmp_capabilities') sock.write(JSON.stringify({ return: {}, id: cmd.id }) + '\r\n');
        else answer(cmd, sock);
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(p.path, r));
  p.close = () => {
    for (const s of p.sockets) s.destroy();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return p;
}

const reply = (sock: net.Socket, id: unknown, value: unknown) => sock.write(JSON.stringify({ return: value, id }) + '\r\n');

test('negotiates, runs commands with ids, one at a time', async (t) => {
  const inFlight: unknown[] = [];
  const p = await peer((cmd, sock) => {
    inFlight.push(cmd.id);
    t.is(inFlight.length, 1, 'a second command was sent before the first was answered');
    setTimeout(() => {
      inFlight.pop();
      reply(sock, cmd.id, cmd.execute === 'query-status' ? { running: true, status: 'running' } : 'RAX=0000000000000001\r\n');
    }, 20);
  });
  try {
    const c = await QmpClient.connect({ path: p.path });
    t.deepEqual(c.version, { qemu: { micro: 0, minor: 2, major: 7 } });
    const [s, h] = await Promise.all([c.execute('query-status'), c.hmp('info registers', 1)]);
    t.deepEqual(s, { running: true, status: 'running' });
    t.is(h, 'RAX=0000000000000001\n');
    t.deepEqual(p.received.map((r) => r.execute), ['qmp_capabilities', 'query-status', 'human-monitor-command']);
    t.deepEqual(p.received[2]!.arguments, { 'command-line': 'info registers', 'cpu-index': 1 });
    t.is(new Set(p.received.map((r) => r.id)).size, 3);
    await c.close();
  } finally {
    p.close();
  }
});

test('error replies are typed with their class', async (t) => {
  const p = await peer((cmd, sock) => sock.write(JSON.stringify({ error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` }, id: cmd.id }) + '\r\n'));
  try {
    const c = await QmpClient.connect({ path: p.path });
    const e = await t.throwsAsync(c.execute('bogus'));
    t.like(e, { code: 'ERR_QMP_COMMAND', errorClass: 'CommandNotFound' });
    await c.close();
  } finally {
    p.close();
  }
});

test('a timed-out command fails alone; its late reply is dropped', async (t) => {
  let first = true;
  const p = await peer((cmd, sock) => {
    if (first) {
      first = false;
      setTimeout(() => reply(sock, cmd.id, 'late'), 150);
    } else {
      setTimeout(() => reply(sock, cmd.id, 'fresh'), 200);
    }
  });
  try {
    const c = await QmpClient.connect({ path: p.path });
    await t.throwsAsync(c.execute('slow', undefined, { timeoutMs: 50 }), { code: 'ERR_QMP_TIMEOUT' } as never);
    t.is(await c.execute('next'), 'fresh');
    await c.close();
  } finally {
    p.close();
  }
});

test('events are queued and waited for', async (t) => {
  const p = await peer((cmd, sock) => {
    sock.write('{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "STOP"}\r\n');
    reply(sock, cmd.id, {});
    setTimeout(() => sock.write('{"timestamp": {"seconds": 2, "microseconds": 0}, "event": "RESUME"}\r\n'), 30);
  });
  try {
    const c = await QmpClient.connect({ path: p.path });
    await c.execute('cont');
    t.like(await c.nextEvent('RESUME', { timeoutMs: 2000 }), { name: 'RESUME', timestamp: 2 });
    t.deepEqual(c.takeEvents(), [], 'the STOP before it was taken off the queue too');
    await t.throwsAsync(c.nextEvent('SHUTDOWN', { timeoutMs: 50 }), { code: 'ERR_QMP_TIMEOUT' } as never);
    await c.close();
  } finally {
    p.close();
  }
});

test('closing and lost connections reject pending and later commands', async (t) => {
  const p = await peer((_cmd, sock) => setTimeout(() => sock.destroy(), 10));
  try {
    const c = await QmpClient.connect({ path: p.path });
    await t.throwsAsync(c.execute('quit'), { code: 'ERR_QMP_CLOSED' } as never);
    await t.throwsAsync(c.execute('query-status'), { code: 'ERR_QMP_CLOSED' } as never);
  } finally {
    p.close();
  }
});

test('connection failures name where they tried', async (t) => {
  const e = await t.throwsAsync(QmpClient.connect({ path: '/nonexistent/qmp.sock' }), { code: 'ERR_QMP_CONNECT' } as never);
  t.regex(e!.message, /\/nonexistent\/qmp\.sock/);
  const silent = await peer(() => undefined, false);
  try {
    await t.throwsAsync(QmpClient.connect({ path: silent.path, connectTimeoutMs: 100 }), { code: 'ERR_QMP_CONNECT', message: /no greeting/ } as never);
  } finally {
    silent.close();
  }
});
