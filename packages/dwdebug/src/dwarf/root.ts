import { DW_AT } from './constants.js';
import type { AttrValue } from './die.js';

/**
 * What a unit's root DIE says about the whole unit: its name and directory,
 * where its line program lives, the bases its indexed forms are relative to,
 * and the raw values of its address attributes (resolved later, since they may
 * need `.debug_addr` and `.debug_rnglists`). Plain data, so worker threads can
 * send it.
 */
export interface RootInfo {
  readonly tag: number;
  readonly name?: string;
  readonly compDir?: string;
  readonly producer?: string;
  readonly language?: number;
  readonly stmtList?: number;
  readonly strOffsetsBase?: number;
  readonly addrBase?: number;
  readonly rnglistsBase?: number;
  readonly loclistsBase?: number;
  /** DW_AT_GNU_ranges_base of a GNU split-DWARF skeleton. */
  readonly gnuRangesBase?: number;
  readonly lowPc?: AttrValue;
  readonly highPc?: AttrValue;
  readonly ranges?: AttrValue;
  readonly dwoName?: string;
  readonly dwoId?: bigint;
}

/** Reads a string-valued attribute given a resolver for indirect strings. */
export type StringResolver = (v: AttrValue) => string | undefined;

function num(v: AttrValue | undefined): number | undefined {
  if (!v) return undefined;
  if (v.kind === 'sec_offset') return v.offset;
  if (v.kind === 'const' && typeof v.value === 'number') return v.value;
  return undefined;
}

/** A root DIE as {@link readRootInfo} reads it: a `Die`, or attributes decoded elsewhere. */
export interface RootDie {
  readonly tag: number;
  attrs(): readonly { readonly at: number; readonly value: AttrValue }[];
}

/**
 * Extracts {@link RootInfo} from a root DIE. Bases are read first, because
 * the name itself may be a `strx` relative to DW_AT_str_offsets_base.
 */
export function readRootInfo(root: RootDie, strings: (v: AttrValue, strOffsetsBase: number | undefined) => string | undefined): RootInfo {
  const vals = new Map<number, AttrValue>();
  for (const a of root.attrs()) if (!vals.has(a.at)) vals.set(a.at, a.value);
  const strOffsetsBase = num(vals.get(DW_AT.str_offsets_base));
  const str = (at: number) => {
    const v = vals.get(at);
    return v ? strings(v, strOffsetsBase) : undefined;
  };
  const lang = vals.get(DW_AT.language);
  const dwoIdV = vals.get(DW_AT.GNU_dwo_id);
  const info: Record<string, unknown> = {
    tag: root.tag,
    name: str(DW_AT.name),
    compDir: str(DW_AT.comp_dir),
    producer: str(DW_AT.producer),
    language: lang?.kind === 'const' ? Number(lang.value) : undefined,
    stmtList: num(vals.get(DW_AT.stmt_list)),
    strOffsetsBase,
    addrBase: num(vals.get(DW_AT.addr_base)) ?? num(vals.get(DW_AT.GNU_addr_base)),
    rnglistsBase: num(vals.get(DW_AT.rnglists_base)),
    loclistsBase: num(vals.get(DW_AT.loclists_base)),
    gnuRangesBase: num(vals.get(DW_AT.GNU_ranges_base)),
    lowPc: vals.get(DW_AT.low_pc),
    highPc: vals.get(DW_AT.high_pc),
    ranges: vals.get(DW_AT.ranges),
    dwoName: str(DW_AT.dwo_name) ?? str(DW_AT.GNU_dwo_name),
    dwoId: dwoIdV?.kind === 'const' ? BigInt(dwoIdV.value) : undefined,
  };
  for (const k of Object.keys(info)) if (info[k] === undefined) delete info[k];
  return info as unknown as RootInfo;
}
