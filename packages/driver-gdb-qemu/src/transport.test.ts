import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { transportFromOptions } from './driver.js';
import { GdbTarget } from './gdb-target.js';
import { RspClient } from './rsp/client.js';
import { RspDecoder, encodePacket } from './rsp/codec.js';
import { RSP_ERROR } from './rsp/errors.js';
import { connectTransport } from './rsp/transport.js';
import { GDBSERVER_NEEDS, fixture, freePort, startGdbserver, symbols } from './test-support/stubs.js';

test('a refused TCP connection says where it tried', async (t) => {
  const port = await freePort();
  const err = await t.throwsAsync(connectTransport({ kind: 'tcp', host: '127.0.0.1', port }), { code: RSP_ERROR.CONNECT });
  t.is(err!.message, `cannot connect to the GDB stub at tcp 127.0.0.1:${port}: ECONNREFUSED`);
});

test('a missing UNIX socket says where it tried', async (t) => {
  const p = path.join(os.tmpdir(), `stackdb-no-such-${process.pid}.sock`);
  const err = await t.throwsAsync(connectTransport({ kind: 'unix', path: p }), { code: RSP_ERROR.CONNECT });
  t.is(err!.message, `cannot connect to the GDB stub at unix socket ${p}: ENOENT`);
});

test('options choose the transport: TCP localhost:1234 by default, UDP, UNIX socket', (t) => {
  t.deepEqual(transportFromOptions({}), { kind: 'tcp', host: 'localhost', port: 1234 });
  t.deepEqual(transportFromOptions({ gdbHost: '10.0.0.1', gdbPort: 4444, gdbUdp: true }), { kind: 'udp', host: '10.0.0.1', port: 4444 });
  t.deepEqual(transportFromOptions({ gdbSockfile: '/run/x.sock' }), { kind: 'unix', path: '/run/x.sock' });
  t.throws(() => transportFromOptions({ gdbSockfile: '/run/x.sock', gdbPort: 1 }), { code: 'ERR_USAGE' });
  t.throws(() => transportFromOptions({ gdbPort: 70000 }), { code: 'ERR_USAGE' });
});

test('UDP: datagrams carry the conversation (a stub answering from its socket)', async (t) => {
  // A minimal stub over UDP: it answers the handshake and one memory read.
  const server = dgram.createSocket('udp4');
  const decoder = new RspDecoder();
  server.on('message', (msg, from) => {
    for (const f of decoder.push(new Uint8Array(msg))) {
      if (f.type !== 'packet') continue;
      const req = Buffer.from(f.payload).toString('latin1');
      const reply = req.startsWith('qSupported') ? 'PacketSize=200' : req === 'm1000,4' ? 'deadbeef' : req.startsWith('Hg') ? 'OK' : '';
      server.send(Buffer.concat([Buffer.from('+'), Buffer.from(encodePacket(reply))]), from.port, from.address);
    }
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
  const port = server.address().port;
  try {
    const client = await RspClient.connect({ kind: 'udp', host: '127.0.0.1', port }, { timeoutMs: 2000 });
    t.is(client.where, `udp 127.0.0.1:${port}`);
    t.deepEqual(await client.readMemory(0x1000n, 4), Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    client.close();
  } finally {
    server.close();
  }
});

systemTest(test, 'a UNIX socket carries a real stub (gdbserver behind a socket relay)', GDBSERVER_NEEDS, async (t) => {
  const exe = fixture();
  const stub = await startGdbserver(exe, ['0']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-unix-'));
  const sock = path.join(dir, 'stub.sock');
  const relay = net.createServer((c) => {
    const up = net.connect(stub.port, '127.0.0.1');
    c.pipe(up).pipe(c);
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(sock, () => resolve()));
  try {
    const target = new GdbTarget({ client: await RspClient.connect({ kind: 'unix', path: sock }) });
    await target.open();
    t.is(target.name, `gdb(unix socket ${sock})`);
    const known = symbols(exe).get('known_bytes')!;
    t.is(Buffer.from(await target.read(known, 7)).toString(), 'stackdb');
    await target.close();
  } finally {
    relay.close();
    await stub.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
