import { fromHex, hexToText, isHex, parseHexBig, parseHexInt } from './hex.js';
import { parseThreadId, type ThreadId } from './thread-id.js';

/** Kinds of watchpoint hits a stop reply names. */
export type WatchKind = 'watch' | 'rwatch' | 'awatch';

/**
 * A stop reply (`S`, `T`, `W`, `X`, `w`, `N`), decoded. Signal numbers are
 * GDB's (see signals.ts).
 */
export type StopReply =
  | {
      readonly kind: 'signal';
      readonly signal: number;
      readonly thread?: ThreadId;
      readonly core?: number;
      /** Registers the stub sent along (GDB register number → little-endian bytes). */
      readonly registers: ReadonlyMap<number, Uint8Array>;
      /** Why it stopped, when the stub says. */
      readonly reason?:
        | { readonly kind: WatchKind; readonly address: bigint }
        | { readonly kind: 'swbreak' | 'hwbreak' }
        | { readonly kind: 'syscall_entry' | 'syscall_return'; readonly nr: number }
        | { readonly kind: 'fork' | 'vfork'; readonly child: ThreadId }
        | { readonly kind: 'vforkdone' | 'create' | 'library' }
        | { readonly kind: 'exec'; readonly path: string };
    }
  | { readonly kind: 'exited'; readonly code: number; readonly pid?: number }
  | { readonly kind: 'killed'; readonly signal: number; readonly pid?: number }
  | { readonly kind: 'thread-exited'; readonly code: number; readonly thread?: ThreadId }
  | { readonly kind: 'no-resumed' };

/** True when a packet is a stop reply (its first letter is one of `S T W X w N`). */
export function isStopReply(payload: string): boolean {
  const c = payload[0];
  if (c === 'N') return payload.length === 1;
  if (c === 'W' || c === 'X' || c === 'w') return /^.[0-9a-fA-F]+(;|$)/.test(payload);
  return (c === 'S' || c === 'T') && isHex(payload.slice(1, 3));
}

/**
 * Decodes a stop reply; undefined when it is malformed. Unknown `T` fields are
 * skipped, as the protocol requires. `S` and `T` carry two hex digits; exit
 * statuses (`W`, `X`, `w`) come as short as gdbserver writes them (`W7`).
 */
export function parseStopReply(payload: string): StopReply | undefined {
  const c = payload[0];
  if (c === 'N' && payload.length === 1) return { kind: 'no-resumed' };
  const digits = c === 'W' || c === 'X' || c === 'w' ? Math.max(1, payload.indexOf(';') < 0 ? payload.length - 1 : payload.indexOf(';') - 1) : 2;
  const value = parseHexInt(payload.slice(1, 1 + digits));
  if (value === undefined) return undefined;
  const rest = payload.slice(1 + digits);
  switch (c) {
    case 'S':
      return rest === '' ? { kind: 'signal', signal: value, registers: new Map() } : undefined;
    case 'W':
    case 'X': {
      const pid = rest.startsWith(';process:') ? parseHexInt(rest.slice(9)) : undefined;
      if (rest !== '' && pid === undefined) return undefined;
      const base = c === 'W' ? { kind: 'exited' as const, code: value } : { kind: 'killed' as const, signal: value };
      return pid === undefined ? base : { ...base, pid };
    }
    case 'w': {
      if (!rest.startsWith(';')) return { kind: 'thread-exited', code: value };
      const thread = parseThreadId(rest.slice(1));
      return thread ? { kind: 'thread-exited', code: value, thread } : undefined;
    }
    case 'T':
      return parseT(value, rest);
    default:
      return undefined;
  }
}

type Reason = Extract<StopReply, { kind: 'signal' }>['reason'];

function parseT(signal: number, rest: string): StopReply | undefined {
  const registers = new Map<number, Uint8Array>();
  let thread: ThreadId | undefined;
  let core: number | undefined;
  let reason: Reason;
  for (const field of rest.split(';')) {
    if (field === '') continue;
    const colon = field.indexOf(':');
    const key = colon < 0 ? field : field.slice(0, colon);
    const val = colon < 0 ? '' : field.slice(colon + 1);
    switch (key) {
      case 'thread':
        thread = parseThreadId(val);
        if (!thread) return undefined;
        break;
      case 'core':
        core = parseHexInt(val);
        break;
      case 'watch':
      case 'rwatch':
      case 'awatch': {
        const address = parseHexBig(val);
        if (address === undefined) return undefined;
        reason = { kind: key, address };
        break;
      }
      case 'swbreak':
      case 'hwbreak':
      case 'vforkdone':
      case 'create':
      case 'library':
        reason = { kind: key };
        break;
      case 'syscall_entry':
      case 'syscall_return': {
        const nr = parseHexInt(val);
        if (nr !== undefined) reason = { kind: key, nr };
        break;
      }
      case 'fork':
      case 'vfork': {
        const child = parseThreadId(val);
        if (child) reason = { kind: key, child };
        break;
      }
      case 'exec': {
        const path = hexToText(val);
        if (path !== undefined) reason = { kind: 'exec', path };
        break;
      }
      default:
        // A hex key is an expedited register; anything else is a reason we do not know.
        if (isHex(key)) {
          const bytes = fromHex(val);
          const n = parseHexInt(key);
          // Unavailable registers come as `xx…`; leave them out.
          if (bytes && n !== undefined) registers.set(n, bytes);
        }
    }
  }
  return {
    kind: 'signal',
    signal,
    registers,
    ...(thread ? { thread } : {}),
    ...(core !== undefined ? { core } : {}),
    ...(reason ? { reason } : {}),
  };
}
