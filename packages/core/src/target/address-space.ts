import type { Addr } from './types.js';

/**
 * An address space of a target. A process has one virtual space; an OS target
 * has the kernel's virtual space, physical memory, and one space per process
 * (identified by its page-table root).
 */
export interface AddressSpace {
  /** Stable id within the target (`virtual`, `physical`, `pid:123`). */
  readonly id: string;
  readonly kind: 'virtual' | 'physical';
  /** Human-readable name for listings. */
  readonly name: string;
  /** Page-table root (x86-64 CR3) for spaces translated by page walks. */
  readonly pageTableRoot?: Addr;
}

/** The single virtual address space of targets that have only one. */
export const VIRTUAL_SPACE: AddressSpace = Object.freeze({ id: 'virtual', kind: 'virtual', name: 'virtual' });

/** Physical memory, for targets that expose it. */
export const PHYSICAL_SPACE: AddressSpace = Object.freeze({ id: 'physical', kind: 'physical', name: 'physical' });
