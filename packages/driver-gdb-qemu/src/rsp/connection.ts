import { EventEmitter } from 'node:events';
import { AbortError, ProtocolError, getLogger } from '@stackdb/core';
import { ACK, INTERRUPT, NACK, RspDecoder, encodePacket, type RspFrame } from './codec.js';
import { RSP_ERROR, describeRequest } from './errors.js';
import { bytesToLatin1, hexToText, isHex } from './hex.js';
import { isStopReply } from './stop-reply.js';
import type { Transport } from './transport.js';

const log = getLogger('T_GDB');

/** Options of an {@link RspConnection}. */
export interface ConnectionOptions {
  /** How long a request may wait for its acknowledgment and reply (default 10 s). */
  readonly timeoutMs?: number;
  /** Retransmissions of one packet the stub asks for with `-` before giving up (default 3). */
  readonly maxRetransmits?: number;
  /** Bytes of junk (not RSP frames) tolerated in a row before the connection is declared broken (default 4096). */
  readonly maxJunk?: number;
  /**
   * While acknowledgments are on, resend a packet that was not acknowledged
   * within this many milliseconds (for lossy transports such as UDP); off by default.
   */
  readonly retransmitAfterMs?: number;
}

/** Events of a connection. */
export interface ConnectionEvents {
  /** Console output the stub sent in `O` packets (program output, monitor replies). */
  output: [text: string];
  /** A notification (`%name:data`); all-stop clients only log them. */
  notification: [payload: string];
  /** The connection ended; later requests fail with this error. */
  closed: [error: ProtocolError];
}

interface Operation {
  readonly what: string;
  /** The request can be answered with a stop reply (`?`, `k`, `vAttach`, `vRun`, `vStopped`). */
  readonly stopAnswer: boolean;
  readonly frame: Uint8Array;
  /** Set once the stub acknowledged (or in no-ack mode, once sent). */
  acked: boolean;
  retransmits: number;
  /** Waits for the ack only (a resume has no immediate reply). */
  readonly ackOnly: boolean;
  readonly output: string[];
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
}

/** Where the target stands as far as the protocol can tell. */
export type RunState = 'stopped' | 'running' | 'closed';

/**
 * One RSP conversation over a transport (the layer between the pure codec and
 * the typed client). It keeps exactly one request in flight, handles
 * acknowledgments and retransmission until no-ack mode, times requests out, and
 * tracks whether the target runs: after a resume only `\x03` may be sent, and
 * the stop replies that arrive are queued for {@link waitStop}.
 *
 * Any breach it cannot recover from — a timeout, garbage, a bad checksum in
 * no-ack mode — closes the connection, because a late or lost reply would
 * otherwise be taken for the answer to the next request. Everything pending then
 * fails with a `ProtocolError`, and so does everything after: nothing hangs.
 */
export class RspConnection extends EventEmitter<ConnectionEvents> {
  private readonly decoder = new RspDecoder();
  private readonly timeoutMs: number;
  private readonly maxRetransmits: number;
  private readonly maxJunk: number;
  private readonly retransmitAfterMs?: number;
  private ackMode = true;
  private runState: RunState = 'stopped';
  private op?: Operation;
  private lock: Promise<void> = Promise.resolve();
  private readonly stops: string[] = [];
  /** Stop replies nobody asked for, received while the target was stopped (see {@link takeUnsolicitedStops}). */
  private readonly unsolicited: string[] = [];
  private stopWaiter?: { resolve(p: string): void; reject(e: Error): void };
  private closeError?: ProtocolError;
  private junk = 0;
  private badFrames = 0;

  constructor(readonly transport: Transport, opts: ConnectionOptions = {}) {
    super();
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxRetransmits = opts.maxRetransmits ?? 3;
    this.maxJunk = opts.maxJunk ?? 4096;
    if (opts.retransmitAfterMs !== undefined) this.retransmitAfterMs = opts.retransmitAfterMs;
    transport.attach({
      data: (chunk) => this.onData(chunk),
      closed: (err) => this.abandon(new ProtocolError(RSP_ERROR.CLOSED, `the GDB stub at ${transport.where} closed the connection${err ? ` (${(err as NodeJS.ErrnoException).code ?? err.message})` : ''}`, err ? { cause: err } : {})),
    });
  }

  /** Where the stub is. */
  get where(): string {
    return this.transport.where;
  }

  get state(): RunState {
    return this.runState;
  }

  /** True while acknowledgments are exchanged (until `QStartNoAckMode` succeeds). */
  get acknowledging(): boolean {
    return this.ackMode;
  }

  /** The error that closed the connection, if it is closed. */
  get closedBy(): ProtocolError | undefined {
    return this.closeError;
  }

  /** The error for anything attempted after the connection closed. */
  private closed(): ProtocolError {
    const why = this.closeError!;
    if (why.code === RSP_ERROR.CLOSED) return why;
    return new ProtocolError(RSP_ERROR.CLOSED, `the connection to the GDB stub at ${this.where} is closed: ${why.message}`, { cause: why });
  }

  /** Stops sending and expecting acknowledgments (after the stub accepted `QStartNoAckMode`). */
  disableAcks(): void {
    this.ackMode = false;
  }

  /**
   * Sends one request and returns the reply payload (run-length expanded, not
   * unescaped). Requests queue behind each other. Console output (`O` packets)
   * that arrives first is collected into `output` when given.
   */
  request(payload: string | Uint8Array, opts: { timeoutMs?: number; output?: string[] } = {}): Promise<Uint8Array> {
    return this.exclusive(() => this.transact(payload, false, opts.timeoutMs, opts.output));
  }

  /**
   * Sends a resume request (`vCont`, `c`, `s`…): the target runs once the stub
   * has it, and its stop reply arrives later through {@link waitStop}.
   */
  resume(payload: string): Promise<void> {
    return this.exclusive(async () => {
      // All-stop: a stop announced before this resume describes the stop the resume ends.
      if (this.unsolicited.length) log.debug(3, 'resuming past %d unsolicited stop reply(s)', this.unsolicited.splice(0).length);
      this.runState = 'running';
      try {
        await this.transact(payload, true);
      } catch (err) {
        if (this.runState === 'running') this.runState = this.closeError ? 'closed' : 'stopped';
        throw err;
      }
    });
  }

  /**
   * Sends `\x03` to a running target (its stop reply arrives through
   * {@link waitStop}); returns false, sending nothing, when the target is not
   * running (for instance because its stop reply is already here).
   */
  interrupt(): boolean {
    if (this.closeError) throw this.closed();
    if (this.runState !== 'running') return false;
    log.debug(6, '-> \\x03');
    this.transport.send(INTERRUPT);
    return true;
  }

  /**
   * Takes the stop replies the stub sent unasked while the target was stopped.
   * QEMU's stub stops a running machine when a client connects and announces it
   * (`T02thread:01;`), possibly while the first request waits for its answer;
   * such a reply is kept here instead of being taken for that answer. The next
   * resume discards what was not taken (in all-stop mode it ends that stop).
   */
  takeUnsolicitedStops(): string[] {
    return this.unsolicited.splice(0);
  }

  /** A stop reply that already arrived, without waiting; undefined when none did. */
  takeStop(): string | undefined {
    return this.stops.shift();
  }

  /**
   * Waits for the next stop reply. Aborting rejects with AbortError and leaves
   * the target running (the reply is kept for a later wait); a timeout rejects
   * with `ERR_GDB_TIMEOUT` and leaves the connection open, so the caller can
   * interrupt and wait again.
   */
  waitStop(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    const ready = this.stops.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.closeError) return Promise.reject(this.closed());
    if (this.runState !== 'running') return Promise.reject(new ProtocolError(RSP_ERROR.PROTOCOL, 'no stop reply can come: the target is not running'));
    if (this.stopWaiter) return Promise.reject(new ProtocolError(RSP_ERROR.PROTOCOL, 'someone is already waiting for the stop reply'));
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return Promise.reject(new AbortError('waiting for the target to stop was aborted'));
    return new Promise<string>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.stopWaiter = undefined;
      };
      const onAbort = () => {
        done();
        reject(new AbortError('waiting for the target to stop was aborted'));
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(new ProtocolError(RSP_ERROR.TIMEOUT, `the GDB stub at ${this.where} reported no stop within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.stopWaiter = {
        resolve: (p) => {
          done();
          resolve(p);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
    });
  }

  /**
   * Sends a packet without waiting for anything, for last-resort cleanup on
   * exit paths (the bytes reach the socket before the process ends).
   */
  sendNoWait(payload: string): void {
    if (this.closeError) return;
    this.transport.send(encodePacket(payload));
  }

  /** Closes the connection; pending and later requests fail with `ERR_GDB_CLOSED`. */
  close(): void {
    this.abandon(new ProtocolError(RSP_ERROR.CLOSED, `the connection to the GDB stub at ${this.where} was closed`));
  }

  // ------------------------------------------------------------------ internals

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(() => undefined, () => undefined);
    return run;
  }

  private transact(payload: string | Uint8Array, ackOnly: boolean, timeoutMs = this.timeoutMs, output?: string[]): Promise<Uint8Array> {
    const what = describeRequest(typeof payload === 'string' ? payload : bytesToLatin1(payload));
    if (this.closeError) return Promise.reject(this.closed());
    if (this.runState === 'running' && !ackOnly) {
      return Promise.reject(new ProtocolError(RSP_ERROR.RUNNING, `cannot send ${what} to the GDB stub while the target runs (interrupt it first)`));
    }
    const frame = encodePacket(payload);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.abandon(new ProtocolError(RSP_ERROR.TIMEOUT, `the GDB stub at ${this.where} did not answer ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const resend =
        this.ackMode && this.retransmitAfterMs !== undefined
          ? setInterval(() => {
              if (this.op && !this.op.acked) this.retransmit('did not acknowledge');
            }, this.retransmitAfterMs)
          : undefined;
      const done = () => {
        clearTimeout(timer);
        if (resend) clearInterval(resend);
        this.op = undefined;
      };
      this.op = {
        what,
        stopAnswer: !ackOnly && answersWithStop(payload),
        frame,
        acked: !this.ackMode,
        retransmits: 0,
        ackOnly,
        output: output ?? [],
        resolve: (p) => {
          done();
          resolve(p);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      if (log.enabled(6)) log.debug(6, '-> %s', what);
      this.transport.send(frame);
      if (ackOnly && !this.ackMode) this.op.resolve(new Uint8Array());
    });
  }

  private onData(chunk: Uint8Array): void {
    for (const f of this.decoder.push(chunk)) {
      if (this.closeError) return;
      this.onFrame(f);
    }
  }

  private onFrame(f: RspFrame): void {
    switch (f.type) {
      case 'ack':
        this.junk = 0;
        if (this.op && !this.op.acked) this.acked();
        return;
      case 'nack':
        this.junk = 0;
        if (this.op && !this.op.acked) this.retransmit('rejected');
        return;
      case 'packet':
        this.junk = 0;
        this.badFrames = 0;
        if (this.ackMode) this.transport.send(ACK);
        // A reply implies the request arrived even when its ack got lost.
        if (this.op && !this.op.acked) this.acked();
        this.route(bytesToLatin1(f.payload), f.payload);
        return;
      case 'notification':
        this.junk = 0;
        log.debug(4, 'notification %s', describeRequest(bytesToLatin1(f.payload)));
        this.emit('notification', bytesToLatin1(f.payload));
        return;
      case 'bad-checksum':
      case 'malformed': {
        if (f.type === 'bad-checksum' && f.notification) return; // corrupt notifications are ignored
        const why = f.type === 'bad-checksum' ? `a packet with a bad checksum (sent ${hex2(f.expected)}, computed ${hex2(f.actual)})` : f.reason;
        if (this.ackMode && ++this.badFrames <= this.maxRetransmits) {
          log.debug(3, 'asking for retransmission: %s', why);
          this.transport.send(NACK);
          return;
        }
        this.abandon(new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub at ${this.where} sent ${why}`));
        return;
      }
      case 'junk':
      case 'interrupt': {
        const n = f.type === 'junk' ? f.bytes.length : 1;
        this.junk += n;
        log.debug(4, 'ignoring %d byte(s) outside packets', n);
        if (this.junk > this.maxJunk) this.abandon(new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub at ${this.where} sent ${this.junk} bytes that are not RSP packets`));
        return;
      }
    }
  }

  private acked(): void {
    const op = this.op!;
    op.acked = true;
    if (op.ackOnly) op.resolve(new Uint8Array());
  }

  private retransmit(why: 'rejected' | 'did not acknowledge'): void {
    const op = this.op!;
    if (++op.retransmits > this.maxRetransmits) {
      this.abandon(new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub at ${this.where} ${why} ${op.what} ${op.retransmits} times`));
      return;
    }
    log.debug(3, 'retransmitting %s', op.what);
    this.transport.send(op.frame);
  }

  private route(text: string, payload: Uint8Array): void {
    if (isOutput(text)) {
      const out = hexToText(text.slice(1)) ?? '';
      if (this.op) this.op.output.push(out);
      this.emit('output', out);
      return;
    }
    const stop = isStopReply(text);
    if (this.op && !this.op.ackOnly && (!stop || this.op.stopAnswer)) {
      if (log.enabled(6)) log.debug(6, '<- %s', describeRequest(text));
      this.op.resolve(payload);
      return;
    }
    if (this.runState === 'running' && stop) {
      log.debug(5, '<- stop %s', describeRequest(text));
      this.runState = 'stopped';
      if (this.stopWaiter) this.stopWaiter.resolve(text);
      else this.stops.push(text);
      return;
    }
    if (stop) {
      // The target is stopped and no request asked for a stop reply: the stub stopped it on its own.
      log.debug(3, '<- unsolicited stop %s%s', describeRequest(text), this.op ? ` while ${this.op.what} waits` : '');
      this.unsolicited.push(text);
      return;
    }
    log.debug(3, 'ignoring an unexpected packet %s', describeRequest(text));
  }

  private abandon(err: ProtocolError): void {
    if (this.closeError) return;
    this.closeError = err;
    this.runState = 'closed';
    log.debug(2, 'connection to %s ends: %s', this.where, err.message);
    this.op?.reject(err);
    this.stopWaiter?.reject(err);
    this.transport.close();
    this.emit('closed', err);
  }
}

/**
 * Requests whose answer may be a stop reply. Any other request answered with
 * one got a stop the stub announced unasked; its real answer is still to come.
 */
function answersWithStop(payload: string | Uint8Array): boolean {
  const c = typeof payload === 'string' ? payload.charCodeAt(0) : payload[0];
  if (c === 0x3f /* ? */ || c === 0x6b /* k */) return payload.length === 1;
  if (c !== 0x76 /* v */) return false;
  const head = typeof payload === 'string' ? payload.slice(0, 9) : bytesToLatin1(payload.subarray(0, 9));
  return head.startsWith('vAttach;') || head.startsWith('vRun;') || head === 'vStopped';
}

/** `O` followed by hex is console output; `OK` is not. */
function isOutput(text: string): boolean {
  return text.length > 1 && text[0] === 'O' && text.length % 2 === 1 && isHex(text.slice(1));
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
