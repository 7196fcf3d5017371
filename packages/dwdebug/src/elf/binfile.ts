import { ElfError } from '../errors.js';
import type { DwarfSections } from '../sections.js';
import { findAltFile, findDebugFile, hostPath } from '../search/debuginfo-search.js';
import type { DebugSearchOptions } from '../search/debuginfo-search.js';
import { ET, SHF, SHT } from './constants.js';
import { debugAltLinkOf, debugLinkOf, debugSupOf } from './debuglink.js';
import type { DebugAltLink, DebugLink, DebugSup } from './debuglink.js';
import { ElfFile } from './elf-file.js';
import type { ElfSection } from './elf-file.js';
import { linkBaseOf } from './load.js';
import { openMiniDebugInfo } from './minidebuginfo.js';
import { buildIdOf } from './notes.js';
import { applyRelocations } from './relocate.js';
import type { RelocateOptions } from './relocate.js';
import { readSymbolTable, SymbolIndex } from './symbols.js';
import type { ElfSymbol } from './symbols.js';

/** Options of {@link Binfile.open}. */
export interface BinfileOptions extends DebugSearchOptions, RelocateOptions {
  /** Do not look for a separate debug file (use only what the file itself holds). */
  readonly noDebugSearch?: boolean;
}

/**
 * The sections a {@link Binfile} exposes: the {@link DwarfSections} contract
 * plus where each section sits at link time (pc-relative CFI pointers need
 * it) and which file it came from.
 */
export interface BinfileSections extends DwarfSections {
  /** The link-time address of a section (`sh_addr`), from whichever file provides it. */
  sectionAddress(name: string): bigint | undefined;
  /** The file a section's bytes come from. */
  sectionOrigin(name: string): ElfFile | undefined;
  readonly supplementary?: BinfileSections;
}

const CODE_SECTIONS = new Set(['.eh_frame', '.eh_frame_hdr', '.gcc_except_table']);

/**
 * One binary as a debugger sees it: the ELF file, its separate debug file
 * (found by build-id or `.gnu_debuglink`), the dwz supplementary file, and
 * MiniDebugInfo, combined into one view.
 *
 * - DWARF (`.debug_*`) comes from the debug file when there is one; unwind
 *   tables (`.eh_frame`, `.eh_frame_hdr`) from the binary, because debug files
 *   keep them as empty `NOBITS` (glibc's does).
 * - Symbols merge `.symtab` (the debug file's or the binary's), `.dynsym`, and
 *   the MiniDebugInfo `.symtab` when no full `.symtab` exists.
 * - ET_REL files (`.o`, kernel modules) get their debug sections relocated;
 *   executables and shared libraries never do.
 * - Opening a debug file directly works: it is its own debug file.
 */
export class Binfile {
  private symbolIndex?: SymbolIndex;
  private sectionsView?: BinfileSections | null;

  private constructor(
    /** The path as the target names it. */
    readonly path: string,
    /** The binary itself. */
    readonly elf: ElfFile,
    /** The file the DWARF comes from: the separate debug file, or `elf` itself; undefined when there is none. */
    readonly debugElf: ElfFile | undefined,
    /** How the debug file was found. */
    readonly debugHow: 'self' | 'build-id' | 'debuglink' | undefined,
    /** The dwz supplementary file, when the debug file names one that was found. */
    readonly altElf: ElfFile | undefined,
    /** The MiniDebugInfo inner ELF (`.gnu_debugdata`), when it was used. */
    readonly miniElf: ElfFile | undefined,
    private readonly opts: BinfileOptions,
  ) {}

  /**
   * Opens a binary and whatever debuginfo belongs to it.
   *
   * @param path the path as the target names it; the `rootPrefix` option is applied to it
   */
  static async open(path: string, opts: BinfileOptions = {}): Promise<Binfile> {
    const elf = ElfFile.open(hostPath(path, opts.rootPrefix));
    const opened: ElfFile[] = [elf];
    try {
      let debugElf: ElfFile | undefined;
      let how: Binfile['debugHow'];
      if (hasDwarf(elf)) {
        debugElf = elf;
        how = 'self';
      } else if (!opts.noDebugSearch) {
        const m = findDebugFile(path, elf, opts);
        if (m) {
          opened.push(m.elf);
          debugElf = m.elf;
          how = m.how;
        }
      }
      let altElf: ElfFile | undefined;
      if (debugElf) {
        const link: DebugAltLink | DebugSup | undefined = debugAltLinkOf(debugElf) ?? supLink(debugElf);
        const alt = link ? findAltFile(link, debugElf.path, opts) : undefined;
        if (alt) {
          opened.push(alt.elf);
          altElf = alt.elf;
        }
      }
      let miniElf: ElfFile | undefined;
      if (!elf.section('.symtab') && !debugElf?.section('.symtab')) {
        miniElf = await openMiniDebugInfo(elf);
        if (miniElf) opened.push(miniElf);
      }
      return new Binfile(path, elf, debugElf, how, altElf, miniElf, opts);
    } catch (err) {
      for (const f of opened) f.close();
      throw err;
    }
  }

  /** The GNU build-id of the binary (hex), if it has one. */
  get buildId(): string | undefined {
    return buildIdOf(this.elf);
  }

  /** `ET_EXEC`, `ET_DYN`, `ET_REL`... (`ET.*`). */
  get type(): number {
    return this.elf.type;
  }

  /** The link-time base of the image (see {@link linkBaseOf}); 0 when it has no loadable segments. */
  get linkBase(): bigint {
    return linkBaseOf(this.elf) ?? linkBaseOf(this.debugElf ?? this.elf) ?? 0n;
  }

  /** `.gnu_debuglink` of the binary, if any. */
  get debugLink(): DebugLink | undefined {
    return debugLinkOf(this.elf);
  }

  /** The host path of the debug file, when DWARF was found. */
  get debugPath(): string | undefined {
    return this.debugElf?.path;
  }

  /**
   * The DWARF view for the reader, or undefined when there is no `.debug_info`
   * anywhere. Section bytes are decompressed and (ET_REL only) relocated.
   */
  dwarf(): BinfileSections | undefined {
    if (this.sectionsView === undefined) {
      if (!this.debugElf) this.sectionsView = null;
      else {
        const alt = this.altElf ? sectionsOf([this.altElf], this.altElf.path, this.opts) : undefined;
        const files = this.debugElf === this.elf ? [this.elf] : [this.debugElf, this.elf];
        this.sectionsView = sectionsOf(files, this.debugElf.path, this.opts, alt);
      }
    }
    return this.sectionsView ?? undefined;
  }

  /**
   * Sections for unwinding (`.eh_frame`, `.eh_frame_hdr`, `.debug_frame`),
   * available even when the binary has no DWARF at all.
   */
  unwindSections(): BinfileSections {
    return this.dwarf() ?? sectionsOf([this.elf], this.elf.path, this.opts);
  }

  /** Every symbol of every table (duplicates removed). */
  symbols(): readonly ElfSymbol[] {
    return this.index().all;
  }

  /**
   * The symbol covering a link-time address (see {@link SymbolIndex.at}).
   * With `nearest`, the closest preceding symbol when none covers it.
   */
  symbolAt(linkAddr: bigint, opts: { nearest?: boolean } = {}): ElfSymbol | undefined {
    return this.index().at(linkAddr, opts);
  }

  /** Defined symbols with this name. */
  symbolsNamed(name: string): readonly ElfSymbol[] {
    return this.index().named(name);
  }

  /** Releases every file this binfile opened; bytes already read stay usable. */
  close(): void {
    for (const f of new Set([this.elf, this.debugElf, this.altElf, this.miniElf])) f?.close();
  }

  private index(): SymbolIndex {
    if (!this.symbolIndex) {
      const tables: ElfSymbol[][] = [];
      const symtabFile = [this.debugElf, this.elf].find((f) => f?.section('.symtab')?.type === SHT.SYMTAB);
      if (symtabFile) tables.push(readSymbolTable(symtabFile, symtabFile.section('.symtab')!, 'symtab'));
      else if (this.miniElf?.section('.symtab')) tables.push(readSymbolTable(this.miniElf, this.miniElf.section('.symtab')!, 'minidebuginfo'));
      const dynsym = this.elf.sectionsOfType(SHT.DYNSYM)[0];
      if (dynsym) tables.push(readSymbolTable(this.elf, dynsym, 'dynsym'));
      this.symbolIndex = new SymbolIndex(tables);
    }
    return this.symbolIndex;
  }
}

/**
 * Sections whose ET_REL relocations are applied: debug sections and the
 * unwind tables. Code and data are left alone (their relocations are the
 * loader's business and include types debug data never uses).
 */
function relocatable(sec: ElfSection): boolean {
  if ((sec.flags & BigInt(SHF.ALLOC)) === 0n) return true;
  return UNWIND_TABLES.has(sec.name);
}

const UNWIND_TABLES = new Set(['.eh_frame', '.orc_unwind_ip', '.orc_unwind']);

function hasDwarf(elf: ElfFile): boolean {
  return elf.hasContents('.debug_info') || elf.hasContents('.zdebug_info');
}

function supLink(elf: ElfFile): DebugSup | undefined {
  const sup = debugSupOf(elf);
  return sup && !sup.isSupplementary ? sup : undefined;
}

/**
 * A section view over files in priority order: each section comes from the
 * first file that has it with contents, except the unwind sections, which
 * come from the last file having them (the binary, never the debug file's
 * empty copies). ET_REL sections are relocated.
 */
function sectionsOf(files: readonly ElfFile[], path: string, opts: RelocateOptions, supplementary?: BinfileSections): BinfileSections {
  const cache = new Map<string, { data: Uint8Array; file: ElfFile; sec: ElfSection } | null>();
  const pick = (name: string): { data: Uint8Array; file: ElfFile; sec: ElfSection } | null => {
    let hit = cache.get(name);
    if (hit !== undefined) return hit;
    hit = null;
    const order = CODE_SECTIONS.has(name) ? [...files].reverse() : files;
    for (const f of order) {
      const sec = f.section(name) ?? (name.startsWith('.debug_') ? f.section('.z' + name.slice(1)) : undefined);
      if (!sec || !f.hasContents(sec)) continue;
      let data = f.sectionData(sec)!;
      if (f.type === ET.REL && relocatable(sec)) data = applyRelocations(f, sec, data, opts);
      hit = { data, file: f, sec };
      break;
    }
    cache.set(name, hit);
    return hit;
  };
  const first = files[0];
  if (!first) throw new ElfError('no files for a section view', { file: path });
  const view: BinfileSections = {
    path,
    littleEndian: first.littleEndian,
    is64: first.is64,
    section: (name) => pick(name)?.data,
    sectionAddress: (name) => {
      const explicit = opts.sectionAddresses?.get(name);
      if (explicit !== undefined) return explicit;
      // The providing file's header; NOBITS copies in a debug file carry the same address.
      const order = CODE_SECTIONS.has(name) ? [...files].reverse() : files;
      const withData = order.map((f) => f.section(name)).find((s) => s && s.type !== SHT.NOBITS && s.size > 0);
      return (withData ?? order.map((f) => f.section(name)).find((s) => s))?.addr;
    },
    sectionOrigin: (name) => pick(name)?.file,
    ...(supplementary ? { supplementary } : {}),
  };
  return view;
}
