import fs from 'node:fs';
import path from 'node:path';
import type { LoadedModule } from '@stackdb/core';
import type { KernelInfo, KernelMemory } from './kernel.js';
import { listEntries } from './tasks.js';

/** `MODULE_NAME_LEN`. */
const NAME_LEN = 56;

/** A loaded kernel module: its name and where its core (text and data) lies. */
export interface KernelModule {
  readonly name: string;
  /** `struct module *`. */
  readonly object: bigint;
  readonly base: bigint;
  readonly size: bigint;
  readonly textSize: bigint;
}

/** The kernel's `modules` list. Kernels before 6.4 keep the core in `core_layout`, later ones in `mem[MOD_TEXT]`. */
export async function listModules(kernel: KernelInfo, mem: KernelMemory): Promise<KernelModule[]> {
  const ms = kernel.struct('module');
  const listOff = BigInt(ms.offset('list'));
  const out: KernelModule[] = [];
  for await (const link of listEntries(mem, await kernel.symbol('modules'), 'the module list')) {
    const m = link - listOff;
    const at = (member: string) => m + BigInt(ms.offset(member));
    const [base, size, textSize] = ms.has('core_layout')
      ? [await mem.u64(at('core_layout.base')), BigInt(await mem.u32(at('core_layout.size'))), BigInt(await mem.u32(at('core_layout.text_size')))]
      : await textMemory(kernel, mem, at('mem'));
    out.push({ name: await mem.fixedString(at('name'), NAME_LEN), object: m, base, size, textSize });
  }
  return out;
}

async function textMemory(kernel: KernelInfo, mem: KernelMemory, memArray: bigint): Promise<[bigint, bigint, bigint]> {
  const mm = kernel.struct('module_memory');
  const base = await mem.u64(memArray + BigInt(mm.offset('base')));
  const size = BigInt(await mem.u32(memArray + BigInt(mm.offset('size'))));
  return [base, size, size];
}

/**
 * Module files by module name (`-` and `_` alike, as the kernel treats them),
 * found under the debuginfo and modules trees of a kernel release, `-R` first.
 */
export function moduleFiles(release: string, rootPrefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of [`/usr/lib/debug/lib/modules/${release}`, `/lib/modules/${release}`]) {
    const root = path.join(rootPrefix || '/', dir);
    if (!fs.existsSync(root)) continue;
    for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const m = /^(.+)\.ko(?:\.(?:xz|zst|gz))?$/.exec(entry.name);
      if (!m) continue;
      const key = m[1]!.replaceAll('-', '_');
      if (!out.has(key)) out.set(key, path.join(entry.parentPath ?? entry.path, entry.name));
    }
  }
  return out;
}

/** A kernel module as a loaded module: its file when one is found, else its name; `bias` is the start of its core. */
export function moduleAsLoaded(m: KernelModule, files: ReadonlyMap<string, string>): LoadedModule {
  return { path: files.get(m.name.replaceAll('-', '_')) ?? m.name, name: m.name, bias: m.base, ranges: [[m.base, m.base + m.size]] };
}
