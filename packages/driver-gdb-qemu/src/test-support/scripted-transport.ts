/*
 * A transport for client tests that plays a stub from a script: each packet
 * the client sends is decoded and handed to a responder, which answers with
 * raw bytes (well-formed packets, garbage, nothing at all) or closes the line.
 * Every byte the client sent is kept for assertions.
 */
import { RspDecoder, encodePacket } from '../rsp/codec.js';
import type { Transport, TransportReceiver } from '../rsp/transport.js';

/**
 * What the scripted stub does with one request: a reply payload (text or
 * bytes, framed for it), raw bytes sent as they are, nothing, or a hang-up.
 */
export type Response = string | Uint8Array | { readonly raw: string | Uint8Array } | 'close' | 'silence';

/** Answers a request payload; may return several responses (sent in order). */
export type Responder = (request: string, t: ScriptedTransport) => Response | Response[] | undefined;

/** Frames a reply packet. */
export function packet(payload: string): Uint8Array {
  return encodePacket(payload);
}

export class ScriptedTransport implements Transport {
  readonly where = 'test transport';
  /** Decoded requests, in order. */
  readonly requests: string[] = [];
  /** Raw bytes the client sent (acks, interrupts and packets). */
  sent = '';
  /** When true, the stub acknowledges each request with `+` (until QStartNoAckMode). */
  acks = true;
  private receiver?: TransportReceiver;
  private readonly decoder = new RspDecoder();
  private closed = false;

  constructor(private readonly responder: Responder) {}

  attach(receiver: TransportReceiver): void {
    this.receiver = receiver;
  }

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.sent += Buffer.from(bytes).toString('latin1');
    for (const f of this.decoder.push(bytes)) {
      if (f.type === 'interrupt') this.respond(this.responder('\x03', this));
      if (f.type !== 'packet') continue;
      const req = Buffer.from(f.payload).toString('latin1');
      this.requests.push(req);
      const wasAcking = this.acks;
      if (req === 'QStartNoAckMode') this.acks = false;
      const r = this.responder(req, this);
      // Replies arrive asynchronously, as from a socket.
      queueMicrotask(() => {
        if (wasAcking) this.inject('+');
        this.respond(r);
      });
    }
  }

  /** Pushes bytes to the client as if the stub sent them. */
  inject(data: string | Uint8Array): void {
    if (this.closed) return;
    this.receiver?.data(typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'latin1')) : data);
  }

  /** Sends a framed packet to the client. */
  injectPacket(payload: string): void {
    this.inject(packet(payload));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver?.closed();
  }

  private respond(r: Response | Response[] | undefined): void {
    if (r === undefined) return;
    for (const one of Array.isArray(r) ? r : [r]) {
      if (one === 'close') this.close();
      else if (one === 'silence') continue;
      else if (typeof one === 'string') this.injectPacket(one);
      else if (one instanceof Uint8Array) this.inject(encodePacket(one));
      else this.inject(one.raw);
    }
  }
}

/**
 * A responder for the handshake of a simple stub (no target description, so
 * the default x86-64 layout), answering the rest with `rest`.
 */
export function simpleStub(rest: Responder, features = 'PacketSize=1000;QStartNoAckMode+;multiprocess+'): Responder {
  return (req, t) => {
    if (req.startsWith('qSupported')) return features;
    if (req === 'QStartNoAckMode') return 'OK';
    if (req.startsWith('Hg')) return 'OK';
    if (req === 'vCont?') return 'vCont;c;C;s;S;t';
    return rest(req, t);
  };
}
