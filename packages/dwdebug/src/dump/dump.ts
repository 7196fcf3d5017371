/**
 * `dumpdebuginfo`: the whole of a file's debuginfo as text, in the layout of
 * the original Stackdb's tool (types, globals, per-unit symbol tables and
 * scopes, address ranges, ELF symbol tables), and lookups of names,
 * addresses, chains and source lines as text or JSON.
 */
import type { ElfSymbol } from '../elf/symbols.js';
import { DW_LANG_NAMES, DW_TAG } from '../dwarf/constants.js';
import type { DebugFile } from '../dwarf/debug-file.js';
import { EntryFlag, isTypeTag } from '../dwarf/index/scan.js';
import type { DwarfSymbol } from '../dwarf/model/symbols.js';
import type { DwarfType } from '../dwarf/model/types.js';
import { formatSymbol, formatType, hex, writeScope, type Levels } from './format.js';

/** What to dump, as `dumpdebuginfo`'s switches choose. */
export interface DumpOptions {
  /** `-D` count: struct members and enumerators (1), more below. */
  readonly detail?: number;
  /** `-M` count: locations and frame bases (1). */
  readonly metadata?: number;
  /** Global types (`-T` turns them off). */
  readonly types?: boolean;
  /** Global functions and variables (`-G`). */
  readonly globals?: boolean;
  /** Per-unit symbol tables and scopes (`-S`). */
  readonly symtabs?: boolean;
  /** Address ranges of units (`-R`). */
  readonly ranges?: boolean;
  /** ELF symbol tables (`-E`). */
  readonly elfSymtabs?: boolean;
}

/** The ELF side of a binary, for the symbol-table part of a dump (from `Binfile`). */
export interface DumpElf {
  readonly path: string;
  readonly symbols: readonly ElfSymbol[];
  /** Allocated sections, for `binfile root ranges`. */
  readonly sections?: readonly { readonly name: string; readonly addr: bigint; readonly size: number }[];
}

function levels(o: DumpOptions): Levels {
  return { detail: o.detail ?? 0, metadata: o.metadata ?? 0 };
}

/**
 * The full dump of a file's debuginfo. `df` may be undefined for a binary
 * without DWARF (then only the ELF part is printed). Expands every unit when
 * symbol tables are asked for: on a kernel that is the eager load's cost.
 */
export function dumpDebugInfo(df: DebugFile | undefined, opts: DumpOptions = {}, elf?: DumpElf): string {
  const lv = levels(opts);
  const out: string[] = [];
  out.push(`debugfile(${df?.path ?? elf?.path ?? '?'}):`);
  if (df) {
    const stats = df.indexStats;
    out.push(`    units: ${df.units().length}, indexed names: ${stats.names}, entries: ${stats.entries}`);
    if (opts.types !== false) {
      const types: DwarfType[] = [];
      for (const g of df.globalNames()) {
        if (!isTypeTag(g.tag) || g.flags & EntryFlag.declaration) continue;
        types.push(df.typeById(g.die));
      }
      out.push(`  types: (${types.length})`);
      for (const t of types) out.push(`    type: ${formatType(t, lv)}`);
    }
    if (opts.globals !== false) {
      const globals: DwarfSymbol[] = [];
      for (const g of df.globalNames()) {
        if ((g.tag !== DW_TAG.subprogram && g.tag !== DW_TAG.variable) || !(g.flags & EntryFlag.external) || !(g.flags & EntryFlag.defined)) continue;
        const s = df.symbolById(g.die);
        if (s) globals.push(s);
      }
      out.push(`  globals: (${globals.length})`);
      for (const s of globals) out.push(`    ${formatSymbol(s, lv)}`);
    }
    const units = df.units().filter((u) => u.kind === 'compile' || u.kind === 'partial');
    if (opts.symtabs !== false) {
      out.push(`  root srcfiles: (${units.length})`);
      for (const u of units) {
        const lang = u.language !== undefined ? `${DW_LANG_NAMES[u.language] ?? '?'} (${u.language})` : '(null)';
        out.push(`    root: ${u.name ?? '(null)'} (compdirname=${u.compDir ?? '(null)'},producer=${u.producer ?? '(null)'},language=${lang}) {`);
        writeScope(out, u.scope(), '      ', lv);
        out.push('    }');
      }
    }
    if (opts.ranges !== false) {
      out.push('  ranges:');
      const rows: [bigint, string][] = [];
      for (const u of units) for (const r of u.ranges) rows.push([r.start, `    ${hex(r.start)},${hex(r.end)}: ${u.name ?? '(null)'}`]);
      rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [, l] of rows) out.push(l);
    }
  }
  if (elf && opts.elfSymtabs !== false) {
    const syms = elf.symbols.filter((s) => s.name && s.type !== 'file');
    out.push(`  binfile root: (tab=${syms.length})`);
    out.push(`    root: ${elf.path} {`);
    out.push(`      scope(${elf.path}) {`);
    out.push('        symbols: {');
    for (const s of syms) {
      const kind = s.type === 'func' || s.type === 'ifunc' ? 'func' : 'var';
      const ext = s.binding === 'global' || s.binding === 'weak' ? '(external,) ' : '';
      out.push(`          ${kind}: ${s.name}${kind === 'func' ? ' ()' : ''} ${ext}@@ ${hex(s.value)} (${s.size} B)`);
    }
    out.push('        }', '      }', '    }');
    if (opts.ranges !== false) {
      out.push('  binfile root ranges:');
      const rows: [bigint, string][] = [];
      for (const s of syms) if (s.size > 0n) rows.push([s.value, `    ${hex(s.value)},${hex(s.value + s.size)}: ${s.name}`]);
      for (const sec of elf.sections ?? []) if (sec.addr > 0n && sec.size > 0) rows.push([sec.addr, `    ${hex(sec.addr)},${hex(sec.addr + BigInt(sec.size))}: ${sec.name}`]);
      rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [, l] of rows) out.push(l);
    }
  }
  return out.join('\n') + '\n';
}

