import dgram from 'node:dgram';
import net from 'node:net';
import { ProtocolError } from '@stackdb/core';
import { RSP_ERROR } from './errors.js';

/** What a transport tells its user. */
export interface TransportReceiver {
  /** Bytes arrived (any split: the codec reassembles frames). */
  data(chunk: Uint8Array): void;
  /** The connection is gone; `error` says why when it was not a clean close. */
  closed(error?: Error): void;
}

/**
 * A byte pipe to a stub: TCP, UDP, a UNIX socket, or a test transport that
 * injects messages. The client owns framing and meaning; a transport only moves
 * bytes and reports the end of the connection (once).
 */
export interface Transport {
  /** Where it is connected, for messages: `tcp localhost:1234`. */
  readonly where: string;
  /** Sets the receiver; bytes that arrived before are delivered to it at once. */
  attach(receiver: TransportReceiver): void;
  /** Queues bytes for sending; never blocks. */
  send(bytes: Uint8Array): void;
  /** Closes the connection; the receiver's `closed` is called. */
  close(): void;
}

/** Where to find a stub. */
export type TransportOptions =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'udp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** `tcp host:port`, `udp host:port` or `unix PATH`. */
export function describeTransport(o: TransportOptions): string {
  return o.kind === 'unix' ? `unix socket ${o.path}` : `${o.kind} ${o.host}:${o.port}`;
}

/**
 * Buffers data and the close until a receiver is attached, so nothing the stub
 * sends between connecting and attaching is lost.
 */
abstract class BufferedTransport implements Transport {
  private receiver?: TransportReceiver;
  private early: Uint8Array[] = [];
  private ended?: { error?: Error };

  constructor(readonly where: string) {}

  attach(receiver: TransportReceiver): void {
    this.receiver = receiver;
    const early = this.early;
    this.early = [];
    for (const c of early) receiver.data(c);
    if (this.ended) receiver.closed(this.ended.error);
  }

  protected deliver(chunk: Uint8Array): void {
    if (this.ended) return;
    if (this.receiver) this.receiver.data(chunk);
    else this.early.push(chunk);
  }

  protected end(error?: Error): void {
    if (this.ended) return;
    this.ended = error ? { error } : {};
    this.receiver?.closed(error);
  }

  abstract send(bytes: Uint8Array): void;
  abstract close(): void;
}

class StreamTransport extends BufferedTransport {
  constructor(where: string, private readonly socket: net.Socket) {
    super(where);
    socket.on('data', (chunk: Buffer) => this.deliver(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on('error', (err) => this.end(err));
    socket.on('close', () => this.end());
  }

  send(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
    this.end();
  }
}

class UdpTransport extends BufferedTransport {
  constructor(where: string, private readonly socket: dgram.Socket) {
    super(where);
    socket.on('message', (msg: Buffer) => this.deliver(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)));
    socket.on('error', (err) => this.end(err));
    socket.on('close', () => this.end());
  }

  send(bytes: Uint8Array): void {
    try {
      this.socket.send(bytes, (err) => {
        if (err) this.end(err);
      });
    } catch (err) {
      this.end(err as Error);
    }
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
    this.end();
  }
}

/**
 * Connects to a stub. A failure is a `ProtocolError` with code
 * `ERR_GDB_CONNECT` whose message says where it tried and why it failed.
 */
export async function connectTransport(o: TransportOptions, opts: { timeoutMs?: number } = {}): Promise<Transport> {
  const where = describeTransport(o);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const fail = (err: Error) => new ProtocolError(RSP_ERROR.CONNECT, `cannot connect to the GDB stub at ${where}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err });
  if (o.kind === 'udp') {
    const socket = dgram.createSocket(net.isIPv6(o.host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(fail(new Error('timed out'))), timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.close();
        reject(fail(err));
      });
      socket.connect(o.port, o.host, () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve();
      });
    });
    return new UdpTransport(where, socket);
  }
  const socket = o.kind === 'unix' ? net.connect({ path: o.path }) : net.connect({ host: o.host, port: o.port });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(fail(new Error(`no answer within ${timeoutMs} ms`)));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(fail(err));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve();
    });
  });
  // Requests are small and latency-bound: never let Nagle hold them back.
  if (o.kind === 'tcp') socket.setNoDelay(true);
  return new StreamTransport(where, socket);
}
