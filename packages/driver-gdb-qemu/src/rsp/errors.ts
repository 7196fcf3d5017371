import { ProtocolError } from '@stackdb/core';

/**
 * Stable codes of the errors the RSP layers raise (all are core `ProtocolError`s
 * except where noted). Match on these, never on messages.
 */
export const RSP_ERROR = {
  /** The transport could not connect; the message names where it tried. */
  CONNECT: 'ERR_GDB_CONNECT',
  /** The stub closed the connection, or it was closed after an earlier failure. */
  CLOSED: 'ERR_GDB_CLOSED',
  /** No reply (or no acknowledgment) within the timeout. */
  TIMEOUT: 'ERR_GDB_TIMEOUT',
  /** The stub sent something that breaks the protocol (garbage, bad checksums, a malformed reply). */
  PROTOCOL: 'ERR_GDB_PROTOCOL',
  /** The stub answered `Exx` (or `E.text`); see {@link StubError.errno}. */
  STUB: 'ERR_GDB_STUB',
  /** The stub answered with an empty packet: it does not implement the request. */
  UNSUPPORTED: 'ERR_GDB_UNSUPPORTED',
  /** A request other than an interrupt was made while the target runs (all-stop stubs only listen for `\x03` then). */
  RUNNING: 'ERR_GDB_RUNNING',
} as const;

/** An `Exx` (or `E.message`) answer from the stub. */
export class StubError extends ProtocolError {
  /** The stub's error number (often an errno), or -1 for a textual `E.message`. */
  readonly errno: number;
  /** The request that failed (its first characters). */
  readonly request: string;

  constructor(request: string, errno: number, text?: string) {
    super(RSP_ERROR.STUB, `the GDB stub refused ${request}: ${text ?? `error ${errno}`}`);
    this.errno = errno;
    this.request = request;
  }
}

/** The stub answered an empty packet: the request is not implemented there. */
export class UnsupportedPacketError extends ProtocolError {
  readonly request: string;

  constructor(request: string) {
    super(RSP_ERROR.UNSUPPORTED, `the GDB stub does not support ${request}`);
    this.request = request;
  }
}

/** Shortens a request for messages: printable, at most 40 characters. */
export function describeRequest(payload: string): string {
  const clean = payload.replace(/[^\x20-\x7e]/g, '.');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
