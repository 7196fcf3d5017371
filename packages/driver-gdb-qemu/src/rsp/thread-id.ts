import { hexNum, parseHexInt } from './hex.js';

/**
 * A thread as the stub names it. With the multiprocess extension ids are
 * `pPID.TID`; without it just `TID`. `-1` means all and `0` any (in either part).
 */
export interface ThreadId {
  /** Process id; undefined when the stub does not speak multiprocess. */
  readonly pid?: number;
  /** Thread id, -1 for all, 0 for any. */
  readonly tid: number;
}

function part(s: string): number | undefined {
  if (s === '-1') return -1;
  return parseHexInt(s);
}

/** Parses `p1f.2a`, `2a`, `-1`, `p1f.-1`; undefined when malformed. */
export function parseThreadId(text: string): ThreadId | undefined {
  if (text.startsWith('p')) {
    const dot = text.indexOf('.');
    const pid = part(dot < 0 ? text.slice(1) : text.slice(1, dot));
    if (pid === undefined) return undefined;
    if (dot < 0) return { pid, tid: -1 };
    const tid = part(text.slice(dot + 1));
    return tid === undefined ? undefined : { pid, tid };
  }
  const tid = part(text);
  return tid === undefined ? undefined : { tid };
}

/** Formats a thread id the way the stub expects (multiprocess form when `multiprocess`). */
export function formatThreadId(id: ThreadId, multiprocess: boolean): string {
  const f = (n: number) => (n < 0 ? '-1' : hexNum(n));
  if (multiprocess && id.pid !== undefined) return `p${f(id.pid)}.${f(id.tid)}`;
  if (multiprocess && id.tid <= 0) return `p${f(id.tid)}.${f(id.tid)}`;
  return f(id.tid);
}
