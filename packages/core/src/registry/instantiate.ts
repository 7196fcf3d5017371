import { registerForCleanup } from '../cleanup/cleanup.js';
import { LookupError, StackdbError } from '../errors.js';
import { ProgramSymbols } from '../symbols/program.js';
import type { Target } from '../target/target.js';
import type { Thread } from '../target/thread.js';
import type { Registry } from './registry.js';
import type { TargetSpec } from './spec.js';

/** Finds an overlay's thread on its base (a task, when the base has an OS personality) by id or by name. */
export async function findThread(base: Target, which: string): Promise<Thread> {
  const threads = await base.tasksOrThreads();
  const byId = /^\d+$/.test(which) ? threads.find((t) => t.tid === Number(which)) : undefined;
  const found = byId ?? threads.find((t) => t.name === which);
  if (!found) throw new LookupError(`${base.name} has no thread ${/^\d+$/.test(which) ? 'with id' : 'named'} ${which}`);
  return found;
}

/**
 * Creates and opens the targets of parsed specs, bases first, then their
 * overlays (and the overlays on those), each registered for cleanup. On any failure the targets already
 * opened are closed before the error is rethrown: nothing stays half-configured.
 */
export async function openTargets(specs: readonly TargetSpec[], registry: Registry): Promise<Target[]> {
  const opened: Target[] = [];
  const openOverlays = async (t: Target, overlays: readonly TargetSpec[]): Promise<void> => {
    for (const o of overlays) {
      const od = await registry.loadOverlayDriver(o.driver);
      const thread = await findThread(t, o.on!.thread);
      const ot = await od.createOverlay(t, thread, o, { registry });
      registerForCleanup(ot);
      opened.push(ot);
      t.overlays.push(ot);
      await ot.open();
      await openOverlays(ot, o.overlays);
    }
  };
  try {
    for (const spec of specs) {
      const drv = await registry.loadBaseDriver(spec.driver);
      const t = await drv.createTarget(spec, { registry });
      registerForCleanup(t);
      opened.push(t);
      await t.open();
      await attachPersonality(t, registry);
      await openOverlays(t, spec.overlays);
    }
    return opened;
  } catch (err) {
    for (const t of opened.reverse()) await t.close().catch(() => undefined);
    throw err instanceof StackdbError ? err : new StackdbError('ERR_OPEN', `cannot open target: ${(err as Error).message}`, { cause: err });
  }
}

/** Attaches the personality `--personality` or `--personality-lib` names, if any, to an opened target. */
export async function attachPersonality(target: Target, registry: Registry): Promise<void> {
  const common = target.spec?.common;
  if (!common?.personality && !common?.personalityLib) return;
  const personality = common.personalityLib ? await registry.loadPersonalityLib(common.personalityLib) : await registry.loadPersonality(common.personality!);
  const model = await personality.attach(target, {
    activeProbing: common.activeProbing,
    ...(common.debugfileRootPrefix ? { rootPrefix: common.debugfileRootPrefix } : {}),
    symbols: ProgramSymbols.of(target),
  });
  target.attachOs(model);
}
