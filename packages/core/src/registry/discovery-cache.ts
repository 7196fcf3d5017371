import fs from 'node:fs';
import path from 'node:path';
import { stackdbCacheDir } from '@stackdb/dwdebug';

/*
 * What discovery learned of a node_modules directory, kept between runs:
 * reading every package.json of a large node_modules costs several ms a
 * command. A record lists the packages worth reading again (those whose
 * package.json mentions "stackdb", and linked ones: workspaces and `npm link`
 * change in place) and is trusted while the directory and its @scope
 * directories keep their modification times; npm adds, removes and replaces
 * packages by renaming directories, which changes them. A directory changed
 * in the last few seconds is not recorded (its time may not yet tell a later
 * change apart, as git's "racy" index entries). STACKDB_NO_CACHE=1 turns the
 * cache off.
 */

/** What a scan of one node_modules directory remembers. */
export interface DiscoveryRecord {
  /** The directory and its @scope directories, each with its modification time (ms). */
  readonly dirs: readonly (readonly [string, number])[];
  /** Package directories to read again, in the order the scan met them. */
  readonly reread: readonly string[];
}

interface StoredRecord extends DiscoveryRecord {
  readonly version: typeof VERSION;
  readonly root: string;
}

const VERSION = 1;
/** A directory modified this recently is not recorded. */
const SETTLE_MS = 3000;

/** The record of `root` when every directory in it is unchanged, else undefined. */
export function readDiscoveryRecord(root: string, cacheDir = stackdbCacheDir()): DiscoveryRecord | undefined {
  if (!cacheDir) return undefined;
  let rec: StoredRecord;
  try {
    rec = JSON.parse(fs.readFileSync(recordPath(cacheDir, root), 'utf8')) as StoredRecord;
  } catch {
    return undefined;
  }
  if (rec.version !== VERSION || rec.root !== root || !Array.isArray(rec.dirs) || !Array.isArray(rec.reread)) return undefined;
  for (const [dir, mtime] of rec.dirs) if (mtimeOf(dir) !== mtime) return undefined;
  return rec;
}

/** Stores the record of `root` unless one of its directories changed too recently. Failures are ignored. */
export function writeDiscoveryRecord(root: string, rec: DiscoveryRecord, cacheDir = stackdbCacheDir()): void {
  if (!cacheDir) return;
  const now = Date.now();
  if (rec.dirs.some(([, mtime]) => Number.isNaN(mtime) || now - mtime < SETTLE_MS)) return;
  const file = recordPath(cacheDir, root);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify({ version: VERSION, root, dirs: rec.dirs, reread: rec.reread } satisfies StoredRecord));
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/** A directory's modification time in ms, NaN when it cannot be read. */
export function mtimeOf(dir: string): number {
  try {
    return fs.statSync(dir).mtimeMs;
  } catch {
    return NaN;
  }
}

function recordPath(cacheDir: string, root: string): string {
  return path.join(cacheDir, 'plugins', `${fnv1a(root)}.json`);
}

/** A 52-bit FNV-1a hash in hex: names the record; the record itself says which root it is. */
function fnv1a(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n);
  return (h >> 12n).toString(16);
}
