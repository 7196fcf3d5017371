import type { Thread } from '../target/thread.js';
import type { Addr } from '../target/types.js';
import type { ProbeManager } from './manager.js';
import type { ProbeHandlers, ProbeHit, ProbeOptions, ThreadFilter } from './types.js';

let nextProbeId = 1;

/** A watched piece of memory (one hardware slot). */
export interface WatchRange {
  readonly address: Addr;
  readonly length: 1 | 2 | 4 | 8;
}

/**
 * Where a probe sits: on code addresses (optionally tracking the returns of the
 * function they enter), on watched memory, on every instruction of some code
 * ranges (single-stepped), or on other probes.
 */
export type ProbeAnchor =
  | {
      readonly kind: 'breakpoint';
      readonly addresses: readonly Addr[];
      readonly hardware: boolean;
      /** Exit handlers fire when the function entered here returns. */
      readonly returns: boolean;
      /** The addresses are functions' first instructions (the return address is at the stack pointer). */
      readonly atEntry: boolean;
    }
  | { readonly kind: 'watchpoint'; readonly ranges: readonly WatchRange[]; readonly access: 'write' | 'readwrite' }
  | { readonly kind: 'instructions'; readonly addresses: readonly Addr[]; readonly ranges: readonly (readonly [Addr, Addr])[]; readonly hardware: boolean }
  | { readonly kind: 'probes'; readonly sources: readonly Probe[] };

/**
 * A probe: handlers attached to an anchor. Probes on probes (the seed's
 * sources and sinks) fire when a source fires and their own filters accept
 * the hit, so tools and overlays compose probes instead of re-implementing them.
 */
export class Probe {
  readonly id = nextProbeId++;
  readonly name: string;
  /** Probes sitting on this one. */
  readonly sinks = new Set<Probe>();
  /** Times the probe fired (after filtering). */
  hits = 0;
  /** A disabled probe keeps its breakpoints but ignores hits. */
  enabled = true;
  private removed = false;

  constructor(
    readonly manager: ProbeManager,
    readonly anchor: ProbeAnchor,
    readonly handlers: ProbeHandlers,
    readonly options: ProbeOptions,
  ) {
    this.name = options.name ?? defaultName(anchor, this.id);
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  /** Removes the probe, the probes sitting on it, and the breakpoints only it used. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    for (const sink of [...this.sinks]) await sink.remove();
    await this.manager.release(this);
  }

  /** Whether the hit's thread passes the probe's thread filter. */
  acceptsThread(thread: Thread): boolean {
    return threadMatches(this.options.threads, thread);
  }

  /** Builds a hit of this probe (taking over `base`, a fresh object). */
  makeHit(base: Omit<ProbeHit, 'probe' | 'data'>): ProbeHit {
    const hit = base as { -readonly [K in keyof ProbeHit]: ProbeHit[K] };
    hit.probe = this;
    hit.data = this.options.data ? { ...this.options.data } : {};
    return this.options.decorate ? Object.assign(hit, this.options.decorate(hit)) : hit;
  }
}

function defaultName(anchor: ProbeAnchor, id: number): string {
  switch (anchor.kind) {
    case 'probes': return `probe#${id}`;
    case 'watchpoint': return `0x${anchor.ranges[0]!.address.toString(16)}`;
    default: return `0x${anchor.addresses[0]!.toString(16)}`;
  }
}

/** Whether a thread passes a filter. */
export function threadMatches(filter: ThreadFilter | undefined, thread: Thread): boolean {
  if (!filter) return true;
  if (filter.tids && !filter.tids.includes(thread.tid)) return false;
  if (filter.names) {
    const name = thread.name ?? '';
    if (!filter.names.some((n) => (typeof n === 'string' ? n === name : n.test(name)))) return false;
  }
  if (filter.parent !== undefined && thread.info.ptid !== filter.parent) return false;
  return true;
}
