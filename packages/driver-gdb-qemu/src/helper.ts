import type { Addr } from '@stackdb/core';

/**
 * A helper extends the gdb driver with what a particular stub cannot give
 * (the seed's "helper" modules): the QEMU helper adds QMP registers and direct
 * guest-RAM access. The driver owns the stub connection; the helper only adds.
 */
export interface StubHelper {
  readonly name: string;
  /** The target is a whole machine: virtual reads walk the guest page tables (CR3). */
  readonly machine: boolean;
  /** Registers the stub lacks (cr0, cr3, cr4, efer, fs_base, gs_base, kernel_gs_base), for one vCPU (stub thread id). */
  extraRegisters?(tid: number): Promise<Record<string, bigint>>;
  /** Reads guest physical memory directly; returns bytes read before the first hole. */
  readPhysical?(address: Addr, buf: Uint8Array): Promise<number>;
  /** Writes guest physical memory directly; returns bytes written. */
  writePhysical?(address: Addr, data: Uint8Array): Promise<number>;
  /** Releases sockets and mappings. */
  close(): Promise<void>;
}
