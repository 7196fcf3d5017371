/**
 * `dumpdebuginfo FILE main 0x401136 struct.member.chain main.c:42`: look
 * things up instead of dumping everything. Each query is an address (hex or
 * decimal), a `file:line`, a `struct/union/enum NAME`, an `a.b.c` chain, or a
 * name (globals, then types, then ELF symbols). Results come as plain
 * JSON-able objects (addresses as `0x` strings) and as text.
 */
import type { ElfSymbol } from '../elf/symbols.js';
import type { DebugFile } from '../dwarf/debug-file.js';
import { typeName } from '../dwarf/model/format.js';
import type { DwarfSymbol } from '../dwarf/model/symbols.js';
import type { DwarfType } from '../dwarf/model/types.js';
import { formatSymbol, formatType, hex, symbolTypeName, type Levels } from './format.js';

/** A symbol in a lookup result. */
export interface FoundSymbol {
  readonly kind: string;
  readonly name?: string;
  readonly type?: string;
  readonly file?: string;
  readonly line?: number;
  readonly address?: string;
  readonly ranges?: string[];
  readonly external?: boolean;
  readonly declaration?: boolean;
  /** The dump line for it (at the requested levels). */
  readonly text: string;
}

/** The answer to one query. */
export type LookupResult =
  | { readonly query: string; readonly kind: 'address'; readonly address: string; readonly function?: FoundSymbol; readonly inlined: FoundSymbol[]; readonly line?: { file: string; line: number; column: number }; readonly variable?: { symbol: FoundSymbol; offset: string }; readonly elfSymbol?: { name: string; offset: string } }
  | { readonly query: string; readonly kind: 'line'; readonly file: string; readonly line: number; readonly addresses: { address: string; function?: string; line: number }[] }
  | { readonly query: string; readonly kind: 'chain'; readonly symbol: FoundSymbol; readonly members: { name?: string; type: string; bitOffset?: number; throughPointer: boolean }[]; readonly type: string }
  | { readonly query: string; readonly kind: 'name'; readonly symbols: FoundSymbol[]; readonly types: { name: string; text: string }[]; readonly elfSymbols: { name: string; address: string; size: string; type: string; binding: string }[] }
  | { readonly query: string; readonly kind: 'not-found' };

function found(s: DwarfSymbol, lv: Levels): FoundSymbol {
  const entry = s.kind === 'function' || s.kind === 'inlined' ? s.entryPc : s.kind === 'label' ? s.address : undefined;
  const ranges = s.kind === 'function' || s.kind === 'inlined' ? s.ranges.map((r) => `${hex(r.start)}-${hex(r.end)}`) : undefined;
  const t = symbolTypeName(s);
  const file = s.declFile;
  const line = s.declLine;
  const external = s.kind === 'function' || s.kind === 'variable' ? s.external : undefined;
  return {
    kind: s.kind, text: formatSymbol(s, lv),
    ...(s.name !== undefined ? { name: s.name } : {}), ...(t !== undefined ? { type: t } : {}), ...(file !== undefined ? { file } : {}),
    ...(line !== undefined ? { line } : {}), ...(entry !== undefined ? { address: hex(entry) } : {}), ...(ranges?.length ? { ranges } : {}),
    ...(external !== undefined ? { external } : {}), ...(s.declaration ? { declaration: true } : {}),
  };
}

function elfSymbolAt(symbols: readonly ElfSymbol[] | undefined, addr: bigint): { name: string; offset: string } | undefined {
  let best: ElfSymbol | undefined;
  for (const s of symbols ?? []) {
    if ((s.type !== 'func' && s.type !== 'object' && s.type !== 'ifunc') || s.value > addr) continue;
    if (addr < s.value + (s.size > 0n ? s.size : 1n) && (!best || s.value > best.value)) best = s;
  }
  return best ? { name: best.name, offset: hex(addr - best.value) } : undefined;
}

/**
 * Answers lookup queries against a file's DWARF (and its ELF symbols, for
 * names and addresses the DWARF does not cover).
 */
export function lookupDebugInfo(df: DebugFile | undefined, queries: readonly string[], opts: { detail?: number; metadata?: number } = {}, elfSymbols?: readonly ElfSymbol[]): LookupResult[] {
  const lv: Levels = { detail: opts.detail ?? 0, metadata: opts.metadata ?? 0 };
  return queries.map((q): LookupResult => {
    const query = q.trim();
    if (/^(0x[0-9a-f]+|\d+)$/i.test(query)) {
      const address = BigInt(query);
      const at = df?.functionAt(address);
      const line = df?.lineAt(address);
      const v = df?.variableAt(address);
      const elf = elfSymbolAt(elfSymbols, address);
      return {
        query, kind: 'address', address: hex(address), inlined: at ? at.inlined.map((i) => found(i, lv)) : [],
        ...(at ? { function: found(at.function, lv) } : {}),
        ...(line ? { line: { file: line.file, line: line.line, column: line.column } } : {}),
        ...(v ? { variable: { symbol: found(v.symbol, lv), offset: hex(v.offset) } } : {}),
        ...(elf ? { elfSymbol: elf } : {}),
      };
    }
    const fl = /^(.+):(\d+)$/.exec(query);
    if (fl && df) {
      const addrs = df.addressesOf(fl[1]!, Number(fl[2]));
      return {
        query, kind: 'line', file: fl[1]!, line: Number(fl[2]),
        addresses: addrs.map((a) => {
          const fn = df.functionAt(a.address)?.function.name;
          return { address: hex(a.address), line: a.line, ...(fn !== undefined ? { function: fn } : {}) };
        }),
      };
    }
    if (query.includes('.') && !/^(struct|union|enum|class)\s/.test(query) && df) {
      const c = df.lookupChain(query);
      if (c) {
        return {
          query, kind: 'chain', symbol: found(c.symbol, lv), type: typeName(c.type),
          members: c.steps.map((s) => ({ ...(s.member.name !== undefined ? { name: s.member.name } : {}), type: typeName(s.member.type), ...(s.bitOffset !== undefined ? { bitOffset: s.bitOffset } : {}), throughPointer: s.throughPointer })),
        };
      }
    }
    const symbols = df && !/^(struct|union|enum|class)\s/.test(query) ? df.lookupGlobals(query).map((s) => found(s, lv)) : [];
    const types: DwarfType[] = df ? df.lookupTypes(query) : [];
    const elf = (elfSymbols ?? []).filter((s) => s.name === query);
    if (!symbols.length && !types.length && !elf.length) return { query, kind: 'not-found' };
    return {
      query, kind: 'name', symbols,
      types: types.map((t) => ({ name: typeName(t), text: formatType(t, { ...lv, detail: Math.max(1, lv.detail) }) })),
      elfSymbols: elf.map((s) => ({ name: s.name, address: hex(s.value), size: s.size.toString(), type: s.type, binding: s.binding })),
    };
  });
}

/** The text form of lookup results, one block per query. */
export function formatLookups(results: readonly LookupResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    switch (r.kind) {
      case 'address': {
        out.push(`${r.query}:`);
        if (r.function) out.push(`  function: ${r.function.text}`);
        for (const i of r.inlined) out.push(`  inlined: ${i.text}`);
        if (r.line) out.push(`  line: ${r.line.file}:${r.line.line}${r.line.column ? `:${r.line.column}` : ''}`);
        if (r.variable) out.push(`  variable: ${r.variable.symbol.text} +${r.variable.offset}`);
        if (r.elfSymbol) out.push(`  elf symbol: ${r.elfSymbol.name}+${r.elfSymbol.offset}`);
        if (!r.function && !r.line && !r.variable && !r.elfSymbol) out.push('  nothing there');
        break;
      }
      case 'line':
        out.push(`${r.query}: ${r.addresses.length ? '' : 'no code'}`);
        for (const a of r.addresses) out.push(`  ${a.address}${a.function ? ` in ${a.function}` : ''}${a.line !== r.line ? ` (line ${a.line})` : ''}`);
        break;
      case 'chain':
        out.push(`${r.query}:`);
        out.push(`  ${r.symbol.text}`);
        for (const m of r.members) out.push(`  ${m.throughPointer ? '->' : '.'}${m.name ?? '<anonymous>'}: ${m.type}${m.bitOffset !== undefined ? ` @bit ${m.bitOffset}` : ''}`);
        out.push(`  type: ${r.type}`);
        break;
      case 'name':
        out.push(`${r.query}:`);
        for (const s of r.symbols) out.push(`  ${s.text}${s.ranges ? ` RANGES(${s.ranges.map((x) => `[${x.replace('-', ',')}]`).join('')})` : ''}`);
        for (const t of r.types) out.push(`  type: ${t.text}`);
        for (const e of r.elfSymbols) out.push(`  elf: ${e.type} ${e.name} @@ ${e.address} (${e.size} B, ${e.binding})`);
        break;
      case 'not-found':
        out.push(`${r.query}: not found`);
        break;
    }
  }
  return out.join('\n') + '\n';
}
