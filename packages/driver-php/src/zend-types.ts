import { Binfile, DebugFile, StructLayout, binfileDwarfSections, placeOnce, stackdbCacheDir } from '@stackdb/dwdebug';
import type { LoadedModule, ProgramSymbols } from '@stackdb/core';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhpError } from './errors.js';

const COMPANION_SOURCE = fileURLToPath(new URL('../native/zend-layout.c', import.meta.url));

/** The Zend engine's structure layouts of one PHP build, from DWARF. */
export class ZendTypes {
  private readonly layouts = new Map<string, StructLayout>();

  constructor(private readonly debug: DebugFile, readonly origin: string) {}

  /** A structure's layout by its C name (`zend_execute_data`, `zend_function`). */
  of(name: string): StructLayout {
    let l = this.layouts.get(name);
    if (!l) {
      l = StructLayout.of(this.debug, name, this.origin);
      this.layouts.set(name, l);
    }
    return l;
  }
}

/**
 * The layouts for the PHP binary a process runs: its own DWARF when it has
 * the engine's types (a debug build, or its debuginfo installed), else the
 * DWARF of a companion compiled against the headers `php-config` names,
 * provided those headers are of the same module API as the binary (what PHP
 * itself checks before loading an extension).
 */
export async function loadZendTypes(program: ProgramSymbols, php: LoadedModule, phpConfig: string): Promise<ZendTypes> {
  const own = await program.debugFile(php);
  if (own?.lookupType('zend_execute_data')) return new ZendTypes(own, `the debuginfo of ${php.path}`);
  const headers = phpHeaders(phpConfig);
  const binary = await program.binfile(php);
  if (!binary) throw new PhpError(`cannot open ${php.path}`);
  const rodata = binary.elf.sectionData('.rodata');
  if (!rodata || Buffer.from(rodata.buffer, rodata.byteOffset, rodata.byteLength).indexOf(`${headers.buildId}\0`) < 0) {
    throw new PhpError(`${php.path} was not built as the headers of ${phpConfig} describe (${headers.buildId}): give --php-config of its PHP build, or install its debuginfo`);
  }
  const companion = await buildCompanion(headers);
  const bf = await Binfile.open(companion);
  const sections = binfileDwarfSections(bf);
  if (!sections) throw new PhpError(`${companion} has no DWARF (was it compiled with -g?)`);
  const debug = await DebugFile.load(sections);
  await debug.indexNames();
  return new ZendTypes(debug, `the headers of ${headers.version} (${headers.includes[0]})`);
}

/** A PHP build's headers, as its php-config tells. */
interface PhpHeaders {
  readonly includes: readonly string[];
  readonly version: string;
  /** ZEND_MODULE_BUILD_ID: module API number, thread safety, debug. */
  readonly buildId: string;
}

/** What to install when a tool is missing. */
const PROVIDER: Record<string, string> = { cc: 'a C compiler (gcc)' };

function tool(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  const provider = PROVIDER[cmd] ?? 'the PHP development package (php-dev)';
  if (r.error) throw new PhpError(`cannot run ${cmd}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `not found (install ${provider})` : r.error.message}`);
  if (r.status !== 0) throw new PhpError(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  return r.stdout;
}

function phpHeaders(phpConfig: string): PhpHeaders {
  const includes = tool(phpConfig, ['--includes']).trim().split(/\s+/).filter((a) => a.startsWith('-I')).map((a) => a.slice(2));
  if (includes.length === 0) throw new PhpError(`${phpConfig} --includes names no header directory`);
  const version = tool(phpConfig, ['--version']).trim();
  const expanded = tool('cc', ['-E', '-P', '-x', 'c', ...includes.map((d) => `-I${d}`), '-'], '#include "php.h"\n#include "zend_modules.h"\nstackdb_build_id ZEND_MODULE_BUILD_ID\n');
  const line = expanded.split('\n').find((l) => l.startsWith('stackdb_build_id'));
  const literals = line ? [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!) : [];
  if (literals.length === 0) throw new PhpError(`the headers of ${phpConfig} define no ZEND_MODULE_BUILD_ID`);
  return { includes, version, buildId: literals.join('') };
}

/** Compiles the companion once per header set; later runs find it in the cache. */
async function buildCompanion(headers: PhpHeaders): Promise<string> {
  const source = fs.readFileSync(COMPANION_SOURCE, 'utf8');
  const key = crypto.createHash('sha256').update(JSON.stringify(headers)).update(source).digest('hex').slice(0, 16);
  const dir = path.join(stackdbCacheDir() ?? path.join(os.tmpdir(), 'stackdb-php'), 'php');
  const out = path.join(dir, `zend-layout-${key}.so`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  tool('cc', ['-g', '-O0', '-fno-eliminate-unused-debug-types', '-fPIC', '-shared', ...headers.includes.map((d) => `-I${d}`), COMPANION_SOURCE, '-o', tmp]);
  placeOnce(tmp, out);
  return out;
}
