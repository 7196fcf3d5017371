import type { MonitorResult, Target } from './target.js';

/** Result of {@link monitor}. */
export interface GroupMonitorResult {
  /**
   * `exited`: every target exited or was detached; `stopped`: a handler of
   * `stoppedBy` asked to stop (the others were paused); `aborted`: the signal
   * (or SIGINT) aborted, every target is paused.
   */
  readonly reason: 'exited' | 'stopped' | 'aborted';
  /** Each target's own result. */
  readonly results: ReadonlyMap<Target, MonitorResult>;
  readonly stoppedBy?: Target;
}

/** Options of {@link monitor}. */
export interface GroupMonitorOptions {
  readonly signal?: AbortSignal;
  /** Also monitor fork children the targets' `fork` events bring while running (default true). */
  readonly children?: boolean;
}

/**
 * Runs several targets together until all of them have exited, one's handler
 * asks to stop (the others are then paused), or `signal` (or SIGINT) aborts.
 * Each target waits on its own driver's events on Node's loop, so nothing
 * polls and an idle group costs no CPU. Fork children of followed forks join
 * the group as they appear. An overlay that runs drives its base (it waits
 * on it): a base with such an overlay in the group is not monitored apart.
 */
export async function monitor(targets: readonly Target[], opts: GroupMonitorOptions = {}): Promise<GroupMonitorResult> {
  const group = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, group.signal]) : group.signal;
  const results = new Map<Target, MonitorResult>();
  const running = new Set<Promise<void>>();
  let stoppedBy: Target | undefined;
  let failure: { err: unknown } | undefined;
  const seen = new Set<Target>();

  const start = (t: Target): void => {
    if (seen.has(t)) return;
    seen.add(t);
    const onFork = ({ child }: { child?: Target }) => {
      if (child && opts.children !== false && !signal.aborted) start(child);
    };
    t.on('fork', onFork);
    const p = t
      .monitor({ signal })
      .then((r) => {
        results.set(t, r);
        if (r.reason === 'stopped' && !stoppedBy) {
          stoppedBy = t;
          group.abort();
        }
      })
      .catch((err: unknown) => {
        failure ??= { err };
        group.abort();
      })
      .finally(() => {
        t.off('fork', onFork);
        running.delete(p);
      });
    running.add(p);
  };

  const driven = new Set(targets.filter((t) => t.base && t.capabilities.execution).map((t) => t.base));
  for (const t of targets) if (!driven.has(t)) start(t);
  while (running.size) await Promise.race(running);
  if (failure) throw failure.err;
  if (stoppedBy) return { reason: 'stopped', results, stoppedBy };
  const aborted = [...results.values()].some((r) => r.reason === 'aborted');
  return { reason: aborted ? 'aborted' : 'exited', results };
}
