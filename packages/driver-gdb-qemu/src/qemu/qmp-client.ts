import net from 'node:net';
import { getLogger } from '@stackdb/core';
import { QEMU_ERROR, QmpError } from './errors.js';
import { hmpArguments, type QemuMonitor } from './monitor.js';
import { QmpDecoder, encodeCommand, type QmpEvent, type QmpMessage } from './qmp-codec.js';

const log = getLogger('T_GDB');

/** Where and how to reach QMP. */
export interface QmpConnectOptions {
  /** TCP host (default `localhost`) and port (default 1235), unless `path` is given. */
  readonly host?: string;
  readonly port?: number;
  /** A UNIX socket path instead of TCP. */
  readonly path?: string;
  /** Connection and negotiation timeout (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Default per-command timeout (default 30 s; `dump-guest-memory` and friends may need more). */
  readonly commandTimeoutMs?: number;
  /** Events kept until read (default 1000; the oldest are dropped). */
  readonly maxEvents?: number;
}

interface Pending {
  readonly id: string;
  readonly command: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/*
 * A QMP client in two layers: the codec (qmp-codec.ts) turns the byte stream into
 * messages; this class owns one socket, negotiates capabilities, and runs commands
 * one at a time, each tagged with an id that its reply must carry. Events are
 * queued for nextEvent()/events(); a reply that arrives after its command timed
 * out is recognised by its id and dropped.
 */
export class QmpClient implements QemuMonitor {
  readonly where: string;
  /** QEMU's version as the greeting gave it (`{ qemu: { major, minor, micro }, package }`). */
  version: unknown;
  private readonly decoder = new QmpDecoder();
  private readonly events: QmpEvent[] = [];
  private readonly eventWaiters = new Set<() => void>();
  private readonly abandoned = new Set<string>();
  private pending?: Pending;
  private chain: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closeError?: QmpError;
  private greeted?: (err?: Error) => void;

  private constructor(private readonly socket: net.Socket, where: string, private readonly opts: QmpConnectOptions) {
    this.where = where;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new QmpError(QEMU_ERROR.CLOSED, `QMP at ${where}: ${err.message}`, { cause: err })));
    socket.on('close', () => this.fail(new QmpError(QEMU_ERROR.CLOSED, `QMP at ${where} closed the connection`)));
  }

  /** Connects, reads the greeting and negotiates (`qmp_capabilities`). */
  static async connect(opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const where = opts.path ?? `${opts.host ?? 'localhost'}:${opts.port ?? 1235}`;
    const timeoutMs = opts.connectTimeoutMs ?? 5000;
    const socket = opts.path ? net.createConnection(opts.path) : net.createConnection({ host: opts.host ?? 'localhost', port: opts.port ?? 1235 });
    socket.setNoDelay(true);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new QmpError(QEMU_ERROR.CONNECT, `cannot connect to QMP at ${where}: no answer in ${timeoutMs} ms`)), timeoutMs);
        socket.once('connect', resolve);
        socket.once('error', (err) => reject(new QmpError(QEMU_ERROR.CONNECT, `cannot connect to QMP at ${where}: ${err.message}`, { cause: err })));
      });
      const client = new QmpClient(socket, where, opts);
      await new Promise<void>((resolve, reject) => {
        clearTimeout(timer);
        timer = setTimeout(() => reject(new QmpError(QEMU_ERROR.CONNECT, `QMP at ${where} sent no greeting in ${timeoutMs} ms (is another client connected? QMP serves one at a time)`)), timeoutMs);
        client.greeted = (err) => (err ? reject(err) : resolve());
      });
      await client.execute('qmp_capabilities', undefined, { timeoutMs });
      log.debug(2, 'QMP at %s ready', where);
      return client;
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs one QMP command (one at a time on this connection) and returns its
   * `return` value. Error replies reject with `ERR_QMP_COMMAND` and the error class.
   */
  execute(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<unknown> {
    const run = this.chain.then(() => this.send(command, args, opts.timeoutMs ?? this.opts.commandTimeoutMs ?? 30_000));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** `human-monitor-command`: an HMP command line, on vCPU `cpuIndex` when given. */
  async hmp(commandLine: string, cpuIndex?: number): Promise<string> {
    const r = await this.execute('human-monitor-command', hmpArguments(commandLine, cpuIndex));
    if (typeof r !== 'string') throw new QmpError(QEMU_ERROR.PROTOCOL, `QMP at ${this.where} answered human-monitor-command with a ${typeof r}`);
    return r.replaceAll('\r\n', '\n');
  }

  /** Removes and returns the queued events. */
  takeEvents(): QmpEvent[] {
    return this.events.splice(0);
  }

  /**
   * Resolves with the next event (named `name`, when given), taking it and the
   * events before it off the queue; rejects with `ERR_QMP_TIMEOUT` after `timeoutMs`.
   */
  async nextEvent(name?: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<QmpEvent> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      const i = this.events.findIndex((e) => name === undefined || e.name === name);
      if (i >= 0) return this.events.splice(0, i + 1)[i]!;
      if (this.closeError) throw this.closeError;
      if (opts.signal?.aborted) throw new QmpError(QEMU_ERROR.TIMEOUT, `waiting for QMP event ${name ?? '(any)'} was aborted`);
      const left = deadline - Date.now();
      if (left <= 0) throw new QmpError(QEMU_ERROR.TIMEOUT, `no QMP event ${name ?? '(any)'} from ${this.where} within ${opts.timeoutMs ?? 30_000} ms`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.eventWaiters.delete(done);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.eventWaiters.add(done);
        opts.signal?.addEventListener('abort', done);
      });
    }
  }

  /** Closes the socket; pending and later commands reject with `ERR_QMP_CLOSED`. */
  async close(): Promise<void> {
    this.fail(new QmpError(QEMU_ERROR.CLOSED, `QMP connection to ${this.where} was closed`));
    this.socket.destroy();
  }

  private send(command: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<unknown> {
    if (this.closeError) return Promise.reject(this.closeError);
    const id = `stackdb-${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.abandoned.add(id);
        reject(new QmpError(QEMU_ERROR.TIMEOUT, `QMP ${command} got no answer from ${this.where} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = {
        id,
        command,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.socket.write(encodeCommand(command, args, id));
    });
  }

  private onData(chunk: Buffer): void {
    let messages: QmpMessage[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err as QmpError);
      this.socket.destroy();
      return;
    }
    for (const m of messages) this.route(m);
  }

  private route(m: QmpMessage): void {
    if (m.kind === 'greeting') {
      this.version = m.version;
      this.greeted?.();
      this.greeted = undefined;
      return;
    }
    if (m.kind === 'event') {
      const max = this.opts.maxEvents ?? 1000;
      if (this.events.length >= max) this.events.shift();
      this.events.push(m.event);
      for (const w of [...this.eventWaiters]) w();
      return;
    }
    const id = typeof m.id === 'string' ? m.id : undefined;
    if (id !== undefined && this.abandoned.delete(id)) return;
    const p = this.pending;
    if (!p || id !== p.id) {
      this.fail(new QmpError(QEMU_ERROR.PROTOCOL, `QMP at ${this.where} answered a command that was not asked (id ${String(m.id)})`));
      this.socket.destroy();
      return;
    }
    this.pending = undefined;
    if (m.kind === 'return') p.resolve(m.value);
    else p.reject(new QmpError(QEMU_ERROR.COMMAND, `QMP ${p.command}: ${m.error.class}: ${m.error.desc}`, { errorClass: m.error.class }));
  }

  private fail(err: QmpError): void {
    if (this.closeError) return;
    this.closeError = err;
    this.greeted?.(err);
    this.greeted = undefined;
    this.pending?.reject(err);
    this.pending = undefined;
    for (const w of [...this.eventWaiters]) w();
  }
}
