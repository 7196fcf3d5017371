import { QEMU_ERROR, QmpError } from './errors.js';

/** A QMP error object. */
export interface QmpErrorBody {
  readonly class: string;
  readonly desc: string;
}

/** Every message QMP sends: the greeting, a reply (with our `id`), or an event. */
export type QmpMessage =
  | { readonly kind: 'greeting'; readonly version?: unknown; readonly capabilities: readonly string[] }
  | { readonly kind: 'return'; readonly id?: unknown; readonly value: unknown }
  | { readonly kind: 'error'; readonly id?: unknown; readonly error: QmpErrorBody }
  | { readonly kind: 'event'; readonly event: QmpEvent };

/** An asynchronous QMP event (`STOP`, `RESUME`, `SHUTDOWN`…). */
export interface QmpEvent {
  readonly name: string;
  readonly data?: unknown;
  /** Seconds since the epoch, as QEMU stamped it. */
  readonly timestamp?: number;
}

/** Classifies one decoded JSON value. */
export function classify(msg: unknown): QmpMessage {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new QmpError(QEMU_ERROR.PROTOCOL, `QMP sent a non-object: ${JSON.stringify(msg).slice(0, 80)}`);
  const o = msg as Record<string, unknown>;
  if ('QMP' in o) {
    const g = (o.QMP ?? {}) as { version?: unknown; capabilities?: unknown };
    return { kind: 'greeting', version: g.version, capabilities: Array.isArray(g.capabilities) ? g.capabilities.map(String) : [] };
  }
  if (typeof o.event === 'string') {
    const ts = o.timestamp as { seconds?: number; microseconds?: number } | undefined;
    return {
      kind: 'event',
      event: { name: o.event, ...(o.data === undefined ? {} : { data: o.data }), ...(ts?.seconds === undefined ? {} : { timestamp: ts.seconds + (ts.microseconds ?? 0) / 1e6 }) },
    };
  }
  if ('return' in o) return { kind: 'return', ...(o.id === undefined ? {} : { id: o.id }), value: o.return };
  if (typeof o.error === 'object' && o.error !== null) {
    const e = o.error as { class?: unknown; desc?: unknown };
    return { kind: 'error', ...(o.id === undefined ? {} : { id: o.id }), error: { class: String(e.class ?? 'GenericError'), desc: String(e.desc ?? '') } };
  }
  throw new QmpError(QEMU_ERROR.PROTOCOL, `QMP sent an unknown message: ${JSON.stringify(msg).slice(0, 80)}`);
}

/**
 * Splits QMP's byte stream into messages. QMP writes each JSON object on its
 * own line (`\r\n`-terminated), and JSON text never contains a raw newline, so
 * lines are the framing.
 */
export class QmpDecoder {
  private pending = '';
  private readonly utf8 = new TextDecoder();

  /** Feeds bytes; returns the complete messages they finish. */
  push(chunk: Uint8Array): QmpMessage[] {
    this.pending += this.utf8.decode(chunk, { stream: true });
    const out: QmpMessage[] = [];
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl).trim();
      this.pending = this.pending.slice(nl + 1);
      if (!line) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new QmpError(QEMU_ERROR.PROTOCOL, `QMP sent a line that is not JSON: ${line.slice(0, 80)}`, { cause: err });
      }
      out.push(classify(value));
    }
    return out;
  }
}

/** Encodes one command with its id. */
export function encodeCommand(execute: string, args: Record<string, unknown> | undefined, id: unknown): string {
  return JSON.stringify(args === undefined ? { execute, id } : { execute, arguments: args, id }) + '\n';
}
