import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { RegistryError } from '../errors.js';
import { isPersonality, type Personality } from '../personality.js';
import type { Target } from '../target/target.js';
import type { Thread } from '../target/thread.js';
import type { DiscoveredPlugin, PluginKind } from './declarations.js';
import { discoverPlugins, importPluginEntry, readPackageDeclarations } from './discovery.js';
import type { TargetSpec } from './spec.js';

/** What a driver receives besides its spec. */
export interface DriverContext {
  readonly registry: Registry;
}

/** The `driver` export of a base driver's entry module. */
export interface BaseDriverModule {
  createTarget(spec: TargetSpec, ctx: DriverContext): Promise<Target>;
}

/** The `driver` export of an overlay driver's entry module. */
export interface OverlayDriverModule {
  createOverlay(base: Target, thread: Thread, spec: TargetSpec, ctx: DriverContext): Promise<Target>;
}

/**
 * The installed drivers and personalities, found by their package declarations.
 * Nothing is imported until a plugin is used.
 */
export class Registry {
  constructor(readonly plugins: readonly DiscoveredPlugin[]) {}

  /** Scans the default search roots (or the given ones). */
  static discover(roots?: readonly string[]): Registry {
    return new Registry(discoverPlugins(roots));
  }

  /** Base and overlay drivers. */
  get drivers(): DiscoveredPlugin[] {
    return this.plugins.filter((p) => p.kind !== 'personality');
  }

  get personalities(): DiscoveredPlugin[] {
    return this.plugins.filter((p) => p.kind === 'personality');
  }

  find(kind: PluginKind | 'driver', name: string): DiscoveredPlugin | undefined {
    return this.plugins.find((p) => p.name === name && (kind === 'driver' ? p.kind !== 'personality' : p.kind === kind));
  }

  private async loadDriverExport(name: string, kind: PluginKind): Promise<unknown> {
    const p = this.find(kind, name);
    if (!p) throw new RegistryError(`no ${kind.replace('-', ' ')} named ${name} is installed`);
    const mod = await importPluginEntry(p);
    if (!mod.driver || typeof mod.driver !== 'object') throw new RegistryError(`${p.packageName} (${p.entry}) does not export a driver`);
    return mod.driver;
  }

  async loadBaseDriver(name: string): Promise<BaseDriverModule> {
    const d = (await this.loadDriverExport(name, 'base-driver')) as BaseDriverModule;
    if (typeof d.createTarget !== 'function') throw new RegistryError(`the ${name} driver has no createTarget()`);
    return d;
  }

  async loadOverlayDriver(name: string): Promise<OverlayDriverModule> {
    const d = (await this.loadDriverExport(name, 'overlay-driver')) as OverlayDriverModule;
    if (typeof d.createOverlay !== 'function') throw new RegistryError(`the ${name} overlay driver has no createOverlay()`);
    return d;
  }

  /** An installed personality by name. */
  async loadPersonality(name: string): Promise<Personality> {
    const p = this.find('personality', name);
    if (!p) {
      const names = this.personalities.map((x) => x.name);
      throw new RegistryError(`no personality named ${name} is installed${names.length ? ` (installed: ${names.join(', ')})` : ''}`);
    }
    return checkPersonality(await importPluginEntry(p), `${p.packageName} (${p.entry})`);
  }

  /**
   * A personality from `--personality-lib`: a module file, a package directory, or
   * an installed package name.
   */
  async loadPersonalityLib(spec: string): Promise<Personality> {
    const abs = path.resolve(spec);
    let url: string;
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
      const decl = readPackageDeclarations(abs).find((d) => d.kind === 'personality');
      if (!decl) throw new RegistryError(`--personality-lib ${spec}: the package declares no personality`);
      return checkPersonality(await importPluginEntry(decl), spec);
    } else if (fs.existsSync(abs)) {
      url = new URL(`file://${abs}`).href;
    } else {
      try {
        url = new URL(`file://${createRequire(path.join(process.cwd(), 'noop.js')).resolve(spec)}`).href;
      } catch {
        throw new RegistryError(`--personality-lib ${spec}: no such file or package`);
      }
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new RegistryError(`--personality-lib ${spec}: cannot load it: ${(err as Error).message}`, { cause: err });
    }
    return checkPersonality(mod, `--personality-lib ${spec}`);
  }
}

function checkPersonality(mod: Record<string, unknown>, where: string): Personality {
  const p = mod.personality ?? (mod.default as Record<string, unknown> | undefined)?.personality ?? mod.default;
  if (!isPersonality(p)) throw new RegistryError(`${where} does not export a personality (an object with name and attach())`);
  return p;
}
