import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XenError } from './errors.js';

/** An open session of the Xen control libraries. */
export type XenSession = { readonly __xenSession: unique symbol };

/** A domain as libxenctrl reports it. */
export interface XenDomainInfo {
  readonly domid: number;
  readonly dying: boolean;
  readonly crashed: boolean;
  readonly shutdown: boolean;
  readonly paused: boolean;
  readonly hvm: boolean;
  readonly debugged: boolean;
  readonly maxVcpuId: number;
  readonly onlineVcpus: number;
  readonly pages: number;
}

/** The native layer (src/native/xen.cc). */
export interface XenBinding {
  open(): XenSession;
  domains(s: XenSession): { domid: number; name?: string }[];
  domainInfo(s: XenSession, domid: number): XenDomainInfo | undefined;
  pause(s: XenSession, domid: number): void;
  unpause(s: XenSession, domid: number): void;
  /** General, segment, control and debug registers by name (`rip`, `cr3`, `fs_base`…). */
  vcpuRegisters(s: XenSession, domid: number, vcpu: number, hvm: boolean): Record<string, bigint>;
  readFrame(s: XenSession, domid: number, frame: number, dest: Uint8Array, offset: number): void;
  writeFrame(s: XenSession, domid: number, frame: number, src: Uint8Array, offset: number): void;
  setDebugging(s: XenSession, domid: number, on: boolean): void;
  readonly pageSize: number;
}

/** The package root (binding.gyp, build/, prebuilds/). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let loaded: XenBinding | undefined;

/** Loads the addon (a prebuild, or the local build against libxen-dev). */
export function binding(): XenBinding {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    try {
      loaded = (require('node-gyp-build') as (dir: string) => XenBinding)(packageRoot);
    } catch (err) {
      throw new XenError('ERR_XEN_ADDON', `the driver's native addon is not built for this machine (${(err as Error).message.split('\n')[0]}): install the Xen development libraries (Debian: libxen-dev) and rebuild it (npm rebuild @stackdb/driver-xen)`, { cause: err });
    }
  }
  return loaded;
}
