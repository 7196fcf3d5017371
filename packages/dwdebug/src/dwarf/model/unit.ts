import { DwarfError } from '../../errors.js';
import type { UnitEnv } from '../../loc/types.js';
import { DW_AT, DW_TAG, DW_UT } from '../constants.js';
import type { DwarfContext } from '../context.js';
import type { LineFile, LineHeader, LineTable } from '../line.js';
import type { AddressRange } from '../lists.js';
import type { RootInfo } from '../root.js';
import { dieId, type DieId, type UnitHeader } from '../unit.js';
import type { Scope } from './symbols.js';

/** What a unit object needs from the model. */
export interface UnitHost {
  unitScope(unit: CompileUnit): Scope;
  callTarget(ctx: DwarfContext, sectionOffset: number): Uint8Array | undefined;
}

/**
 * One unit of a debug file (compile, partial or type unit): its header, what
 * its root DIE says, its line table, and its scope tree, expanded on first
 * use.
 */
export class CompileUnit {
  /** @internal */
  expandedScope: Scope | undefined;

  constructor(
    private readonly host: UnitHost,
    /** @internal */
    readonly ctx: DwarfContext,
    /** Index of the unit in its file. */
    readonly index: number,
  ) {}

  get header(): UnitHeader {
    return this.ctx.units[this.index]!;
  }
  /** Section-tagged id of the root DIE. */
  get id(): DieId {
    return dieId(this.header.section, this.header.dieOffset);
  }
  /** Section offset of the unit header. */
  get offset(): number {
    return this.header.offset;
  }
  get version(): number {
    return this.header.version;
  }
  get addressSize(): number {
    return this.header.addressSize;
  }
  /** The file the unit comes from (the debug file, or its dwz supplementary file). */
  get path(): string {
    return this.ctx.path;
  }
  private get root(): RootInfo {
    return this.ctx.root(this.index);
  }
  /** DW_AT_name: the primary source file. */
  get name(): string | undefined {
    return this.root.name;
  }
  get compDir(): string | undefined {
    return this.root.compDir;
  }
  get producer(): string | undefined {
    return this.root.producer;
  }
  /** DW_LANG_* */
  get language(): number | undefined {
    return this.root.language;
  }
  /** 'compile', 'partial', 'type', 'skeleton', 'split-compile', 'split-type'. */
  get kind(): string {
    switch (this.header.unitType) {
      case DW_UT.compile: return this.root.tag === DW_TAG.partial_unit ? 'partial' : 'compile';
      case DW_UT.partial: return 'partial';
      case DW_UT.type: return 'type';
      case DW_UT.skeleton: return 'skeleton';
      case DW_UT.split_compile: return 'split-compile';
      default: return 'split-type';
    }
  }
  /** The code the unit covers. */
  get ranges(): AddressRange[] {
    return this.ctx.unitRanges(this.index);
  }
  /** The base address (DW_AT_low_pc) lists of the unit are relative to. */
  get lowPc(): bigint | undefined {
    return this.ctx.address(this.root.lowPc, this.index);
  }
  /** The unit's line program header (file and directory tables), without its rows. */
  get lineHeader(): LineHeader | undefined {
    return this.ctx.lineHeader(this.index);
  }
  /** The line table's files, by position in the table (see {@link fileAt} for numbering). */
  get files(): readonly LineFile[] {
    return this.lineHeader?.files ?? [];
  }
  /** The rows of the line program, sorted by address. */
  lineTable(): LineTable | undefined {
    return this.ctx.lineTable(this.index);
  }
  /** True once the scope tree was built. */
  get expanded(): boolean {
    return this.expandedScope !== undefined;
  }
  /** The unit's scope: its functions, variables and types, and the functions' nested scopes. Built on first use. */
  scope(): Scope {
    return this.host.unitScope(this);
  }

  /**
   * The unit's facts for the location evaluator. `bias` is added to
   * DW_OP_addr/addrx results (the module's load bias).
   */
  env(bias = 0n): UnitEnv {
    const h = this.header;
    const ctx = this.ctx;
    const ui = this.index;
    const host = this.host;
    return {
      version: h.version,
      addressSize: h.addressSize,
      offsetSize: h.offsetSize,
      littleEndian: ctx.littleEndian,
      bias,
      unitOffset: h.offset,
      addrx(index: number): bigint {
        const a = ctx.addrx(ui, index);
        if (a === undefined) throw new DwarfError('ERR_DWARF_ADDRX', `.debug_addr index ${index} out of range`, { file: ctx.path, section: '.debug_addr' });
        return a;
      },
      baseType(unitOffset: number) {
        const dr = ctx.dies(ui);
        const d = dr.at(h.offset + unitOffset);
        if (!d || d.tag !== DW_TAG.base_type) return undefined;
        const size = d.attr(DW_AT.byte_size);
        const enc = d.attr(DW_AT.encoding);
        return { size: size?.kind === 'const' ? Number(size.value) : 0, encoding: enc?.kind === 'const' ? Number(enc.value) : 0 };
      },
      callTarget(dieOffset: number) {
        return host.callTarget(ctx, dieOffset);
      },
    };
  }
}
