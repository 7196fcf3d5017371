import fs from 'node:fs';
import { Binfile, hostPath } from '@stackdb/dwdebug';
import { getLogger } from '../log/logger.js';

const log = getLogger('T_SYMBOL');

/**
 * Binaries opened once per process and shared by every target that maps them
 * (files are keyed by path, root prefix and modification time).
 */
const cache = new Map<string, Promise<Binfile | undefined>>();

/** Opens (or reuses) a binary and its debuginfo; undefined when it cannot be read as ELF. */
export function openBinfile(path: string, opts: { rootPrefix?: string } = {}): Promise<Binfile | undefined> {
  let mtime = 0;
  try {
    mtime = fs.statSync(hostPath(path, opts.rootPrefix)).mtimeMs;
  } catch {
    /* missing: Binfile.open reports it */
  }
  const key = `${opts.rootPrefix ?? ''}\0${path}\0${mtime}`;
  let p = cache.get(key);
  if (!p) {
    p = Binfile.open(path, opts.rootPrefix ? { rootPrefix: opts.rootPrefix } : {}).catch((err: Error) => {
      log.debug(2, 'cannot open %s: %s', path, err.message);
      return undefined;
    });
    cache.set(key, p);
  }
  return p;
}
