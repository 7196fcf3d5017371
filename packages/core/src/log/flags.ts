/**
 * The seed's log areas and flags. A flag name is the area prefix plus the flag,
 * e.g. `T_LUP`; `-l` takes a comma-separated list of them (an area prefix alone,
 * such as `T_ALL`, enables the whole area).
 */
export const LOG_AREAS = {
  L: ['CLMATCH', 'CLRANGE', 'RFILTER', 'WAITPIPE', 'EVLOOP', 'MONITOR', 'REGCACHE'],
  D: ['DFILE', 'SYMBOL', 'SCOPE', 'LOC', 'LOOKUP', 'DWARF', 'DWARFATTR', 'DWARFOPS', 'DWARFSOPS', 'CFA', 'OTHER', 'BFILE', 'ELF'],
  T: ['TARGET', 'SPACE', 'REGION', 'LOOKUP', 'LOC', 'OTHER', 'SYMBOL', 'MEMCACHE', 'UNW', 'THREAD', 'DISASM', 'OS', 'PROCESS', 'APPLICATION', 'LUP', 'XV', 'OSP', 'GDB', 'PHP', 'CORE'],
  P: ['PROBE', 'PROBEPOINT', 'ACTION'],
  X: ['XML', 'RPC', 'SVC', 'PROXYREQ'],
  U: ['ALL'],
} as const;

export type LogArea = keyof typeof LOG_AREAS;
export type LogFlag = { [A in LogArea]: `${A}_${(typeof LOG_AREAS)[A][number]}` }[LogArea];

const ALL_FLAGS = new Set<string>(
  (Object.keys(LOG_AREAS) as LogArea[]).flatMap((a) => LOG_AREAS[a].map((f) => `${a}_${f}`)),
);

/** True when `name` is a known flag or an `X_ALL` area wildcard. */
export function isLogFlag(name: string): boolean {
  return ALL_FLAGS.has(name) || /^[LDTPXU]_ALL$/.test(name);
}

/** Expands a `-l` list into the set of flags it enables; throws on unknown names. */
export function parseLogFlags(list: string): Set<string> {
  const out = new Set<string>();
  for (const raw of list.split(',')) {
    const name = raw.trim().toUpperCase();
    if (!name) continue;
    if (!isLogFlag(name)) throw new Error(`unknown log flag ${raw.trim()} (expected e.g. T_LUP, D_DWARF, P_ALL)`);
    const area = name[0] as LogArea;
    if (name.endsWith('_ALL')) for (const f of LOG_AREAS[area]) out.add(`${area}_${f}`);
    else out.add(name);
  }
  return out;
}
