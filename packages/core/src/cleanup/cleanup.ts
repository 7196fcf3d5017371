import { errorLine } from '../errors.js';
import type { Target } from '../target/target.js';

/*
 * Signal-safe cleanup. Every open target is registered here; when the debugger
 * is told to die (SIGTERM, SIGHUP, SIGQUIT, and SIGINT when no monitor is there
 * to take it) or throws, each target is paused, its probes and breakpoints are
 * removed and it is detached, so the debuggee never meets a stale trap. The
 * `exit` hook runs the drivers' synchronous cleanup for exits nobody announced.
 */

const targets = new Set<Target>();
/** Signals a program takes for itself for a while (SIGINT while monitoring; spf's SIGHUP): listeners instead of death. */
const signalListeners = new Map<NodeJS.Signals, Set<() => void>>();
let installed = false;
let dying = false;

/** Registers a target for cleanup (drivers' open paths call it through `openTargets`). */
export function registerForCleanup(t: Target): void {
  installHandlers();
  targets.add(t);
  t.on('state-change', ({ to }) => {
    if (to === 'closed' || to === 'detached') targets.delete(t);
  });
}

/** Targets currently registered. */
export function registeredTargets(): Target[] {
  return [...targets];
}

/**
 * Makes a signal non-fatal while `fn` runs: it calls `listener` instead of
 * ending the program (SIGINT: how `monitor` returns control to the program;
 * SIGHUP: how spf is told to read its configuration again).
 */
export async function withSignal<T>(signal: NodeJS.Signals, listener: () => void, fn: () => Promise<T>): Promise<T> {
  installHandlers();
  let listeners = signalListeners.get(signal);
  if (!listeners) {
    signalListeners.set(signal, (listeners = new Set()));
    if (!(signal in SIGNAL_EXIT)) process.on(signal, () => dispatch(signal));
  }
  listeners.add(listener);
  try {
    return await fn();
  } finally {
    listeners.delete(listener);
  }
}

/** SIGINT calls `onInterrupt` instead of ending the program while `fn` runs. */
export function withInterrupt<T>(onInterrupt: () => void, fn: () => Promise<T>): Promise<T> {
  return withSignal('SIGINT', onInterrupt, fn);
}

/** Calls the listeners a program gave for a signal; false when there are none (or the program is dying). */
function dispatch(signal: NodeJS.Signals): boolean {
  const listeners = signalListeners.get(signal);
  if (!listeners?.size || dying) return false;
  for (const l of listeners) l();
  return true;
}

/** Pauses, removes traps and detaches every registered target. */
export async function cleanupAll(): Promise<void> {
  // Targets stay registered until they are clean, so the exit hook still sees
  // the ones an interrupted cleanup did not reach.
  await Promise.all([...targets].map(async (t) => {
    try {
      await t.close();
    } catch {
      try {
        t.cleanupSync();
      } catch {
        /* nothing more can be done */
      }
    }
    targets.delete(t);
  }));
}

async function die(code: number, message?: string): Promise<never> {
  if (dying) process.exit(code);
  dying = true;
  if (message) process.stderr.write(message + '\n');
  const timer = setTimeout(() => {
    for (const t of targets) t.cleanupSync();
    process.exit(code);
  }, 5000);
  timer.unref();
  await cleanupAll();
  process.exit(code);
}

const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };

function installHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
    process.on(sig, () => {
      if (!dispatch(sig)) void die(SIGNAL_EXIT[sig]!);
    });
  }
  process.on('uncaughtException', (err) => void die(1, `stackdb: ${errorLine(err)}`));
  process.on('unhandledRejection', (err) => void die(1, `stackdb: ${errorLine(err)}`));
  process.on('exit', () => {
    for (const t of targets) {
      try {
        t.cleanupSync();
      } catch {
        /* best effort at exit */
      }
    }
  });
}
