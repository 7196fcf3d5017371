import { Binfile, DebugFile, binfileDwarfSections, dumpDebugInfo, formatLookups, lookupDebugInfo, SHF } from '@stackdb/dwdebug';
import { UsageError } from '@stackdb/core';
import type { ToolContext } from '../tool.js';

/** `-I N:ADDR,...`: section load addresses (by index or name) for relocatable files. */
function sectionAddresses(bf: Binfile | undefined, list: readonly string[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const item of list) {
    const m = /^([^:]+):(0x[0-9a-f]+|\d+)$/i.exec(item);
    if (!m) throw new UsageError(`-I: expected N:ADDR, got '${item}'`);
    const key = m[1]!;
    const name = /^\d+$/.test(key) ? bf?.elf.sections[Number(key)]?.name : key;
    if (name === undefined) throw new UsageError(`-I: no section ${key}`);
    out.set(name, BigInt(m[2]!));
  }
  return out;
}

/** `stackdb dumpdebuginfo FILE [SYMBOL|ADDR|FILE:LINE|a.b.c ...]`: the seed's dwdebug dump and lookups. */
export async function run(ctx: ToolContext): Promise<number> {
  const o = ctx.args.tool;
  const [file, ...queries] = ctx.args.positionals;
  if (!file) throw new UsageError('dumpdebuginfo needs a FILE (see --help)');
  const loadOptions = (o.debugfileLoadOpts as string[] | undefined) ?? [];
  const list = (o.sectionLoad as string[] | undefined) ?? [];
  let bf = await Binfile.open(file);
  if (list.length) {
    const addrs = sectionAddresses(bf, list);
    bf.close();
    bf = await Binfile.open(file, { sectionAddresses: addrs });
  }
  try {
    const sections = binfileDwarfSections(bf);
    const df = sections ? await DebugFile.load(sections, loadOptions.length ? { loadOptions } : {}) : undefined;
    const base = typeof o.baseAddress === 'string' ? BigInt(o.baseAddress) : 0n;
    const levels = { detail: (o.detail as number | undefined) ?? 0, metadata: (o.metadata as number | undefined) ?? 0 };
    if (queries.length) {
      // Addresses on the command line are where the file is loaded (-i): back to link time.
      const linkQueries = queries.map((q) => (/^0x[0-9a-f]+$/i.test(q) && base ? `0x${(BigInt(q) - base).toString(16)}` : q));
      const results = lookupDebugInfo(df, linkQueries, levels, bf.symbols());
      ctx.stdout.write(o.json ? JSON.stringify(results, null, 2) + '\n' : formatLookups(results));
      return results.every((r) => r.kind !== 'not-found') ? 0 : 1;
    }
    const allocated = bf.elf.sections.filter((s) => (s.flags & BigInt(SHF.ALLOC)) !== 0n && s.size > 0).map((s) => ({ name: s.name, addr: s.addr, size: s.size }));
    ctx.stdout.write(dumpDebugInfo(df, {
      ...levels,
      types: o.noTypes !== true,
      globals: o.noGlobals !== true,
      symtabs: o.noSymtabs !== true,
      ranges: o.noRanges !== true,
      elfSymtabs: o.noElfSymtabs !== true,
    }, { path: bf.path, symbols: bf.symbols(), sections: allocated }));
    return 0;
  } finally {
    bf.close();
  }
}
