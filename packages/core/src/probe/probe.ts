import type { Thread } from '../target/thread.js';
import type { Addr } from '../target/types.js';
import type { ProbeManager } from './manager.js';
import type { ProbeHandlers, ProbeHit, ProbeOptions, ThreadFilter } from './types.js';

let nextProbeId = 1;

/** Where a probe sits: on a code address, on a watched range, or on other probes. */
export type ProbeAnchor =
  | { readonly kind: 'breakpoint'; readonly address: Addr; readonly hardware: boolean }
  | { readonly kind: 'watchpoint'; readonly address: Addr; readonly length: 1 | 2 | 4 | 8; readonly access: 'write' | 'readwrite' }
  | { readonly kind: 'return'; readonly address: Addr; readonly hardware: boolean }
  | { readonly kind: 'probes'; readonly sources: readonly Probe[] };

/**
 * A probe: handlers attached to an anchor. Probes on probes (the seed's
 * sources and sinks) fire when a source fires and their own filter accepts the
 * hit, so tools and overlays compose probes instead of re-implementing them.
 */
export class Probe {
  readonly id = nextProbeId++;
  readonly name: string;
  /** Probes sitting on this one. */
  readonly sinks = new Set<Probe>();
  /** Times the probe fired (after filtering). */
  hits = 0;
  enabled = true;
  private removed = false;

  constructor(
    readonly manager: ProbeManager,
    readonly anchor: ProbeAnchor,
    readonly handlers: ProbeHandlers,
    readonly options: ProbeOptions,
  ) {
    this.name = options.name ?? (anchor.kind === 'probes' ? `probe#${this.id}` : `0x${anchor.address.toString(16)}`);
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  /** Removes the probe (and the breakpoint under it when it was the last user). */
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

  /** Builds a hit of this probe. */
  makeHit(base: Omit<ProbeHit, 'probe' | 'data'>): ProbeHit {
    return { ...base, probe: this, data: { ...(this.options.data ?? {}) } };
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
