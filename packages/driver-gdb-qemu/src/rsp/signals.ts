/*
 * Stop replies and C/S packets carry GDB's own signal numbers
 * (include/gdb/signals.def), which agree with Linux only for 1–15 except 7 and
 * 10. Core events carry Linux x86-64 numbers; these tables translate.
 */

/** GDB signal number → Linux signal number, for the signals Linux has. */
const GDB_TO_LINUX: ReadonlyMap<number, number> = new Map([
  [1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [8, 8], [9, 9], [10, 7], [11, 11], [12, 31], [13, 13],
  [14, 14], [15, 15], [16, 23], [17, 19], [18, 20], [19, 18], [20, 17], [21, 21], [22, 22], [23, 29],
  [24, 24], [25, 25], [26, 26], [27, 27], [28, 28], [30, 10], [31, 12], [32, 30],
  // GDB_SIGNAL_REALTIME_33 .. 63 are 45..75; 32 is 77.
  [77, 32], ...Array.from({ length: 31 }, (_, i) => [45 + i, 33 + i] as [number, number]),
]);

const LINUX_TO_GDB: ReadonlyMap<number, number> = new Map([...GDB_TO_LINUX].map(([g, l]) => [l, g]));

/** SIGTRAP and SIGINT, equal in both numberings. */
export const SIGTRAP = 5;
export const SIGINT = 2;

/** The Linux number of a GDB signal; signals Linux lacks map to themselves. */
export function gdbToLinuxSignal(gdb: number): number {
  return GDB_TO_LINUX.get(gdb) ?? gdb;
}

/** The GDB number of a Linux signal; unknown ones map to themselves. */
export function linuxToGdbSignal(linux: number): number {
  return LINUX_TO_GDB.get(linux) ?? linux;
}
