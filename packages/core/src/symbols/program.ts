import { binfileDwarfSections, CfiTable, DebugFile, OrcTable, type Binfile, type ElfSymbol, type FunctionAt, type SourceLine } from '@stackdb/dwdebug';
import { LookupError } from '../errors.js';
import type { Target } from '../target/target.js';
import type { Addr, LoadedModule } from '../target/types.js';
import type { AddressSymbol, SymbolLookup } from '../unwind/stepper.js';
import { openBinfile } from './binfiles.js';

const cfiTables = new WeakMap<Binfile, CfiTable | null>();
const orcTables = new WeakMap<Binfile, OrcTable | null>();
const debugFiles = new WeakMap<Binfile, Promise<DebugFile | undefined>>();
const programs = new WeakMap<Target, ProgramSymbols>();

/** What is known about a code address: its module, ELF symbol, function (with inlined calls) and line. */
export interface CodeLocation {
  readonly address: Addr;
  readonly module?: LoadedModule;
  readonly symbol?: ModuleSymbol;
  /** DWARF: the function, inlined calls and scopes at the address (link-time addresses inside). */
  readonly function?: FunctionAt;
  readonly line?: SourceLine;
  readonly debugFile?: DebugFile;
}

/** An ELF symbol placed at its runtime address in one module. */
export interface ModuleSymbol extends AddressSymbol {
  readonly module: LoadedModule;
  readonly size: bigint;
  readonly elf: ElfSymbol;
}

/**
 * A target's program as symbols see it: its loaded modules (the seed's
 * LibraryState), each with its binary and debuginfo opened lazily. Addresses
 * going in and out are runtime addresses; module biases are applied here.
 * The module list is re-read when an address falls outside every known module
 * and the target has run since the list was read (a library may have been
 * loaded meanwhile), and whenever {@link invalidate} is called (exec,
 * dynamic-loader notifications from a {@link LibraryState}).
 */
export class ProgramSymbols implements SymbolLookup {
  private modulesP?: Promise<LoadedModule[]>;
  /** The target ran since the module list was read. */
  private ranSinceRead = false;
  /** Binaries by module (a module object lives until the list is read again). */
  private readonly binfiles = new WeakMap<LoadedModule, Promise<Binfile | undefined>>();
  /** describe() answers by address: probes ask about the same few pcs at every hit. */
  private readonly described = new Map<string, Promise<CodeLocation>>();

  /**
   * The target's symbols with the options of its command line (`-R`, `-F`),
   * made once per target so tools and its personality share them.
   */
  static of(target: Target): ProgramSymbols {
    let p = programs.get(target);
    if (!p) {
      const common = target.spec?.common;
      p = new ProgramSymbols(target, {
        ...(common?.debugfileRootPrefix ? { rootPrefix: common.debugfileRootPrefix } : {}),
        ...(common?.debugfileLoadOpts.length ? { loadOptions: common.debugfileLoadOpts } : {}),
      });
      programs.set(target, p);
    }
    return p;
  }

  constructor(readonly target: Target, readonly opts: { rootPrefix?: string; loadOptions?: readonly string[] } = {}) {
    target.on('exec', () => this.invalidate());
    target.on('state-change', ({ to }) => {
      if (to === 'running') this.ranSinceRead = true;
    });
  }

  /** Forgets the module list (it is read again on next use). */
  invalidate(): void {
    this.modulesP = undefined;
    this.described.clear();
  }

  /** The loaded modules. */
  modules(): Promise<LoadedModule[]> {
    if (!this.modulesP) {
      this.ranSinceRead = false;
      const p = this.target.modules();
      this.modulesP = p;
      p.catch(() => {
        if (this.modulesP === p) this.modulesP = undefined;
      });
    }
    return this.modulesP;
  }

  /** The module covering a runtime address. */
  async moduleAt(address: Addr): Promise<LoadedModule | undefined> {
    const find = (mods: LoadedModule[]) => mods.find((m) => m.ranges.some(([s, e]) => s <= address && address < e));
    const hit = find(await this.modules());
    if (hit || !this.ranSinceRead) return hit;
    this.invalidate();
    return find(await this.modules());
  }

  /** A module's binary with its debuginfo. */
  binfile(module: LoadedModule): Promise<Binfile | undefined> {
    let p = this.binfiles.get(module);
    if (!p) {
      p = openBinfile(module.path, this.opts.rootPrefix ? { rootPrefix: this.opts.rootPrefix } : {});
      this.binfiles.set(module, p);
    }
    return p;
  }

  /**
   * A module's DWARF with its name index (for lookups by name), loaded once per
   * binary, or undefined when it has none.
   */
  async debugFile(module: LoadedModule): Promise<DebugFile | undefined> {
    const df = await this.codeDebugFile(module);
    await df?.indexNames();
    return df;
  }

  /**
   * A module's DWARF for lookups by address (function, inlined calls, scopes,
   * lines): loaded with unit headers only, so a backtrace never pays for a
   * whole-file name index; {@link debugFile} builds the index on first need.
   * The same object is shared by both.
   */
  async codeDebugFile(module: LoadedModule): Promise<DebugFile | undefined> {
    const bf = await this.binfile(module);
    if (!bf) return undefined;
    let p = debugFiles.get(bf);
    if (!p) {
      const sections = binfileDwarfSections(bf);
      p = sections ? DebugFile.load(sections, { loadOptions: this.loadOptions() }).catch(() => undefined) : Promise.resolve(undefined);
      debugFiles.set(bf, p);
    }
    return p;
  }

  /** The user's load options (`-F`), deferring the name index unless they ask for a full load. */
  private loadOptions(): string[] {
    const given = [...(this.opts.loadOptions ?? [])];
    const flags = given.flatMap((o) => (o.split('||')[0] ?? '').split(',')).map((f) => f.trim().toUpperCase());
    const last = Math.max(flags.lastIndexOf('NONE'), flags.lastIndexOf('*'));
    const active = flags.slice(last + 1);
    return active.includes('FULLSYM') || active.includes('NODWARF') ? given : [...given, 'CUHEADERS'];
  }

  /**
   * Everything known about a runtime code address. With `symbol: 'fallback'`
   * the ELF symbol is looked up only when DWARF does not describe the function
   * (building a large library's symbol index costs more than the DWARF lookup).
   */
  describe(address: Addr, opts: { symbol?: 'always' | 'fallback' } = {}): Promise<CodeLocation> {
    // Remembered until the module list changes: probes describe the same few pcs at every hit.
    const key = `${address}/${opts.symbol ?? 'always'}`;
    let p = this.described.get(key);
    if (!p) {
      if (this.described.size >= 65536) this.described.clear();
      p = this.describeUncached(address, opts);
      this.described.set(key, p);
      // An address outside every module may be in a library loaded later: not remembered.
      p.then((loc) => loc.module || this.described.delete(key), () => this.described.delete(key));
    }
    return p;
  }

  private async describeUncached(address: Addr, opts: { symbol?: 'always' | 'fallback' }): Promise<CodeLocation> {
    const module = await this.moduleAt(address);
    if (!module) return { address };
    const debugFile = await this.codeDebugFile(module);
    const link = address - module.bias;
    const fn = debugFile?.functionAt(link);
    const line = debugFile?.lineAt(link);
    const symbol = fn && opts.symbol === 'fallback' ? undefined : await this.symbolAt(address);
    return {
      address, module,
      ...(symbol ? { symbol } : {}),
      ...(fn ? { function: fn } : {}),
      ...(line ? { line } : {}),
      ...(debugFile ? { debugFile } : {}),
    };
  }

  /**
   * Whether a module's unwind tables describe the code at a runtime address
   * (a kernel ORC entry that is not "undefined", or a DWARF CFI FDE).
   */
  async hasUnwindInfo(address: Addr): Promise<boolean> {
    const module = await this.moduleAt(address);
    if (!module) return false;
    const link = address - module.bias;
    const orc = (await this.orcTable(module))?.entryFor(link);
    if (orc) return orc.type !== 'undefined';
    return (await this.cfiTable(module))?.fdeFor(link) !== undefined;
  }

  /** A module's call frame information (`.eh_frame` and `.debug_frame`), built once per binary. */
  async cfiTable(module: LoadedModule): Promise<CfiTable | undefined> {
    const bf = await this.binfile(module);
    if (!bf) return undefined;
    let t = cfiTables.get(bf);
    if (t === undefined) {
      try {
        t = CfiTable.fromBinfileSections(bf.unwindSections());
      } catch {
        t = null;
      }
      cfiTables.set(bf, t);
    }
    return t ?? undefined;
  }

  /** A kernel image's ORC unwind table, when it has one. */
  async orcTable(module: LoadedModule): Promise<OrcTable | undefined> {
    const bf = await this.binfile(module);
    if (!bf) return undefined;
    let t = orcTables.get(bf);
    if (t === undefined) {
      try {
        t = OrcTable.fromBinfile(bf) ?? null;
      } catch {
        t = null;
      }
      orcTables.set(bf, t);
    }
    return t ?? undefined;
  }

  /** The ELF symbol covering a runtime address (the nearest preceding function when sizes are missing). */
  async symbolAt(address: Addr): Promise<ModuleSymbol | undefined> {
    const module = await this.moduleAt(address);
    if (!module) return undefined;
    const bf = await this.binfile(module);
    const sym = bf?.symbolAt(address - module.bias, { nearest: true });
    if (!sym) return undefined;
    return { name: sym.name, start: sym.value + module.bias, size: sym.size, module, elf: sym };
  }

  /**
   * Runtime addresses of a symbol name. `OBJECT:name` restricts the search to one
   * module by its file name (`libc.so.6:open`); the main program's hits come first.
   */
  async lookupSymbol(spec: string): Promise<ModuleSymbol[]> {
    const colon = spec.lastIndexOf(':');
    const moduleName = colon > 0 ? spec.slice(0, colon) : undefined;
    const name = colon > 0 ? spec.slice(colon + 1) : spec;
    const mods = (await this.modules()).filter((m) => moduleName === undefined || m.name === moduleName || m.path === moduleName);
    if (moduleName !== undefined && mods.length === 0) throw new LookupError(`no loaded object named ${moduleName}`);
    mods.sort((a, b) => Number(b.main === true) - Number(a.main === true));
    const out: ModuleSymbol[] = [];
    for (const m of mods) {
      const bf = await this.binfile(m);
      for (const s of bf?.symbolsNamed(name) ?? []) {
        if (s.shndx === 0 || s.type === 'section' || s.type === 'file') continue;
        out.push({ name: s.name, start: s.value + m.bias, size: s.size, module: m, elf: s });
      }
    }
    return out;
  }
}
