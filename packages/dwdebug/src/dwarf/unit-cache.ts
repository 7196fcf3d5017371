import path from 'node:path';
import { fileIdentity, stackdbCacheDir } from '../elf/section-cache.js';
import { readBlobFile, writeBlobFile } from './blob-file.js';
import { IntervalMap } from './model/address-map.js';
import { DieSection, type UnitHeader } from './unit.js';

/*
 * A file's unit headers and its address → unit map, kept on disk between
 * runs: the first address lookup in a large debug file otherwise reads every
 * unit header (glibc has ~2,000 units, a kernel ~3,000 large ones) and its
 * `.debug_aranges` before it can look at one function. Keyed like the section
 * cache by the file's identity (device, inode, size, modification time), under
 * the Stackdb cache directory; STACKDB_NO_CACHE=1 turns it off. A file whose
 * headers or ranges had errors is not recorded, so its errors are reported
 * every time.
 */

const MAGIC = 'SDBUNIT1';
/** A file modified this recently is not cached: a rewrite within the same clock tick would keep its identity. */
const SETTLE_MS = 3000;

/** Unit headers, numbers per unit in the Float64 column. */
const NUMBERS = 5;
/** Unit headers, bytes per unit in the Uint8 column. */
const BYTES = 6;
const HAS_SIGNATURE = 1;
const HAS_DWO_ID = 2;

/** Where the record of a DWARF file lives, or undefined when it is not a file or caching is off. */
export function unitCachePath(file: string, isSupplementary: boolean): string | undefined {
  const dir = stackdbCacheDir();
  const f = dir && fileIdentity(file);
  if (!f || !f.stats.isFile() || Date.now() - f.stats.mtimeMs < SETTLE_MS) return undefined;
  return path.join(dir, 'dwarf-units', `${f.id}${isSupplementary ? '-sup' : ''}`);
}

/** The unit headers recorded at `file`, with the address map when it was recorded too. */
export function readUnitCache(file: string): { units: UnitHeader[]; unitMap: IntervalMap | undefined } | undefined {
  try {
    const blob = readBlobFile<{ units: number; unitMap: boolean }>(file, MAGIC);
    if (!blob) return undefined;
    const n = blob.header.units;
    const nums = blob.take((b) => new Float64Array(b));
    const bytes = blob.take((b) => new Uint8Array(b));
    const bigs = blob.take((b) => new BigUint64Array(b));
    if (nums.length !== n * NUMBERS || bytes.length !== n * BYTES || bigs.length !== n * 2) return undefined;
    const units: UnitHeader[] = [];
    for (let i = 0; i < n; i++) {
      const x = i * NUMBERS;
      const y = i * BYTES;
      const flags = bytes[y + 5]!;
      units.push({
        section: bytes[y] as DieSection, offset: nums[x]!, end: nums[x + 1]!, dieOffset: nums[x + 2]!, abbrevOffset: nums[x + 3]!,
        version: bytes[y + 1]!, unitType: bytes[y + 2]!, addressSize: bytes[y + 3]!, offsetSize: bytes[y + 4] as 4 | 8,
        ...(flags & HAS_SIGNATURE ? { typeSignature: bigs[2 * i]!, typeOffset: nums[x + 4]! } : {}),
        ...(flags & HAS_DWO_ID ? { dwoId: bigs[2 * i + 1]! } : {}),
      });
    }
    const unitMap = blob.header.unitMap
      ? IntervalMap.fromArrays({ starts: blob.take((b) => new BigUint64Array(b)), ends: blob.take((b) => new BigUint64Array(b)), values: blob.take((b) => new Int32Array(b)) })
      : undefined;
    return { units, unitMap };
  } catch {
    return undefined;
  }
}

/** Records unit headers and, when built, the address map. Failures are ignored. */
export function writeUnitCache(file: string, units: readonly UnitHeader[], unitMap: IntervalMap | undefined): void {
  const n = units.length;
  const nums = new Float64Array(n * NUMBERS);
  const bytes = new Uint8Array(n * BYTES);
  const bigs = new BigUint64Array(n * 2);
  units.forEach((h, i) => {
    nums.set([h.offset, h.end, h.dieOffset, h.abbrevOffset, h.typeOffset ?? 0], i * NUMBERS);
    bytes.set([h.section, h.version, h.unitType, h.addressSize, h.offsetSize, (h.typeSignature !== undefined ? HAS_SIGNATURE : 0) | (h.dwoId !== undefined ? HAS_DWO_ID : 0)], i * BYTES);
    bigs[2 * i] = h.typeSignature ?? 0n;
    bigs[2 * i + 1] = h.dwoId ?? 0n;
  });
  const map = unitMap?.toArrays();
  try {
    writeBlobFile(file, MAGIC, { units: n, unitMap: !!map }, map ? [nums, bytes, bigs, map.starts, map.ends, map.values] : [nums, bytes, bigs]);
  } catch {
    // A read-only or full disk only costs the next run the headers.
  }
}
