import type { Region } from './types.js';

/**
 * Parses `/proc/PID/maps`: `start-end perms offset dev inode [path]`, where the
 * path (which may contain spaces, and may end in ` (deleted)`) runs to the end
 * of the line.
 */
export function parseProcMaps(text: string): Region[] {
  const out: Region[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+([-r][-w][-x][-psp])\s+([0-9a-f]+)\s+\S+\s+\d+\s*(.*)$/.exec(line);
    if (!m) continue;
    const perms = m[3]!;
    const p = m[5]!;
    const r: Region = {
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      readable: perms[0] === 'r',
      writable: perms[1] === 'w',
      executable: perms[2] === 'x',
      offset: BigInt(`0x${m[4]}`),
      ...(p ? { path: p } : {}),
    };
    out.push(r);
  }
  return out;
}
