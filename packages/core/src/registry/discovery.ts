import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackdbCacheDir } from '@stackdb/dwdebug';
import { RegistryError } from '../errors.js';
import { getLogger } from '../log/logger.js';
import { validatePluginDecl, type DiscoveredPlugin, type PluginDecl } from './declarations.js';
import { mtimeOf, readDiscoveryRecord, writeDiscoveryRecord } from './discovery-cache.js';

const log = getLogger('L_RFILTER');

/** Every `node_modules` directory from `dir` up to the filesystem root. */
export function nodeModulesChain(dir: string): string[] {
  const out: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (path.basename(d) !== 'node_modules') out.push(path.join(d, 'node_modules'));
    if (path.dirname(d) === d) return out;
  }
}

/** The default search roots: around core itself, the working directory, and `STACKDB_PLUGIN_PATH`. */
export function defaultSearchRoots(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const extra = (process.env.STACKDB_PLUGIN_PATH ?? '').split(path.delimiter).filter(Boolean);
  return [...new Set([...extra, ...nodeModulesChain(here), ...nodeModulesChain(process.cwd())])];
}

/** Reads the `"stackdb"` declarations of one package directory, or [] when it has none. */
export function readPackageDeclarations(packageDir: string): DiscoveredPlugin[] {
  let text: string;
  try {
    text = fs.readFileSync(`${packageDir}/package.json`, 'utf8');
  } catch {
    return [];
  }
  // Cheap filter: most packages never mention the key.
  if (!text.includes('"stackdb"')) return [];
  let pkg: { name?: string; version?: string; stackdb?: unknown };
  try {
    pkg = JSON.parse(text);
  } catch {
    return [];
  }
  if (pkg.stackdb === undefined) return [];
  const decls = Array.isArray(pkg.stackdb) ? pkg.stackdb : [pkg.stackdb];
  const out: DiscoveredPlugin[] = [];
  for (const d of decls) {
    const problems = validatePluginDecl(d);
    if (problems.length) {
      log.warn('ignoring the stackdb declaration of %s: %s', pkg.name ?? packageDir, problems.join('; '));
      continue;
    }
    out.push({ ...(d as PluginDecl), packageName: pkg.name ?? path.basename(packageDir), packageVersion: pkg.version ?? '0.0.0', packageDir });
  }
  return out;
}

/**
 * Finds every installed package that declares a Stackdb plugin, without importing
 * any of them. A root is either a `node_modules` directory or a package directory.
 * The first declaration of a (kind, name) wins. What a node_modules directory
 * holds is remembered under `cacheDir` (see discovery-cache.ts); undefined
 * reads everything every time.
 */
export function discoverPlugins(roots: readonly string[] = defaultSearchRoots(), cacheDir = stackdbCacheDir()): DiscoveredPlugin[] {
  const found = new Map<string, DiscoveredPlugin>();
  for (const root of roots) {
    const dirs = fs.existsSync(`${root}/package.json`) ? [root] : packagesIn(root, cacheDir);
    for (const dir of dirs) {
      for (const p of readPackageDeclarations(dir)) {
        const k = `${p.kind === 'personality' ? 'p' : 'd'}:${p.name}`;
        if (!found.has(k)) found.set(k, p);
      }
    }
  }
  return [...found.values()];
}

/**
 * The package directories of a node_modules directory that may declare a
 * plugin: from its record when nothing changed, else by reading every
 * package.json (then recorded).
 */
function packagesIn(root: string, cacheDir: string | undefined): readonly string[] {
  const known = readDiscoveryRecord(root, cacheDir);
  if (known) return known.reread;
  const dirs: [string, number][] = [[root, mtimeOf(root)]];
  const reread: string[] = [];
  const consider = (dir: string, linked: boolean) => {
    if (linked || mentionsStackdb(dir)) reread.push(dir);
  };
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = `${root}/${e.name}`;
    if (!e.name.startsWith('@')) {
      consider(p, e.isSymbolicLink());
      continue;
    }
    dirs.push([p, mtimeOf(p)]);
    let scoped: fs.Dirent[];
    try {
      scoped = fs.readdirSync(p, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const s of scoped) consider(`${p}/${s.name}`, s.isSymbolicLink());
  }
  writeDiscoveryRecord(root, { dirs, reread }, cacheDir);
  return reread;
}

function mentionsStackdb(packageDir: string): boolean {
  try {
    return fs.readFileSync(`${packageDir}/package.json`).includes('"stackdb"');
  } catch {
    return false;
  }
}

/** Imports a plugin's entry module. */
export async function importPluginEntry(plugin: DiscoveredPlugin): Promise<Record<string, unknown>> {
  const file = path.resolve(plugin.packageDir, plugin.entry);
  if (!fs.existsSync(file)) {
    const what = plugin.kind === 'personality' ? 'personality' : 'driver';
    throw new RegistryError(`the ${plugin.name} ${what} (${plugin.packageName}) is not implemented in this version: its entry ${plugin.entry} is missing`);
  }
  try {
    return (await import(pathToUrl(file))) as Record<string, unknown>;
  } catch (err) {
    throw new RegistryError(`cannot load the ${plugin.name} ${plugin.kind} from ${plugin.packageName} (${file}): ${(err as Error).message}`, { cause: err });
  }
}

function pathToUrl(file: string): string {
  return new URL(`file://${file}`).href;
}
