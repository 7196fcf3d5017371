import fs from 'node:fs';
import path from 'node:path';
import { NoSuchThreadError, RegisterSet, modulesFromRegions } from '@stackdb/core';
import type { AddressSpace, LoadedModule, Region, ThreadInfo } from '@stackdb/core';
import { readFully, type CoreNote } from '../core-file.js';
import { loadAtOffset, readImageInfo } from '../elf-image.js';
import { ElfCoreTarget, type ElfCoreTargetInit } from '../elfcore-target.js';
import { CoreFileError, type UnreadableReason } from '../errors.js';
import {
  decodeAuxv, decodeFxsave, decodeNtFile, decodePrpsinfo, decodePrstatus, decodeSiginfo,
  type FpRegisters, type NoteOrigin, type NtFileEntry, type Prpsinfo, type Prstatus, type Siginfo,
} from '../x86-64-notes.js';
import { MappedFiles, type MappedFile } from './mapped-files.js';
import { ProcessMemory } from './process-memory.js';

/** Note types of Linux process cores. */
export const NT = {
  PRSTATUS: 1, FPREGSET: 2, PRPSINFO: 3, AUXV: 6, FILE: 0x46494c45, SIGINFO: 0x53494749, X86_XSTATE: 0x202,
} as const;

/** Auxiliary vector types used here. */
export const AT = { PHDR: 3, ENTRY: 9, SYSINFO_EHDR: 33, EXECFN: 31 } as const;

const VSYSCALL = 0xffffffffff600000n;

/** Everything a process core records about one thread. */
export interface CoreThread {
  readonly tid: number;
  readonly prstatus: Prstatus;
  /** FP and SSE registers (NT_FPREGSET, else the legacy area of NT_X86_XSTATE). */
  readonly fpregs?: FpRegisters;
  /** The raw XSAVE area (NT_X86_XSTATE): AVX and later state for those who need it. */
  readonly xstate?: Uint8Array;
  /** The signal the thread was stopped with (NT_SIGINFO). */
  readonly siginfo?: Siginfo;
}

/** The signal that made the core: from the first thread that was handling one. */
export interface CoreSignal {
  readonly tid: number;
  readonly signo: number;
  readonly code: number;
  /** Faulting address, for fault signals. */
  readonly address?: bigint;
  /** Sender, for signals a process sent. */
  readonly senderPid?: number;
}

/** The main binary of a process core. */
export interface CoreExecutable {
  /** Its path as the core names it (or as `--core-exe` gave it when the core does not say). */
  readonly path: string;
  /** Where it is read here. */
  readonly localPath: string;
}

/** Options of process cores beyond the core file. */
export interface ProcessCoreOptions {
  /** `--core-exe`: the main binary, when the core does not name it or it lives elsewhere here. */
  readonly exe?: string;
  /** `-R`: prefix for every file the core names (mapped files, the executable). */
  readonly rootPrefix?: string;
}

/**
 * A Linux process core (the kernel's, or gdb's `gcore`): threads from
 * NT_PRSTATUS with FP state, the process from NT_PRPSINFO, NT_AUXV and
 * NT_SIGINFO, mapped files from NT_FILE, memory from PT_LOADs with read-only
 * fallback to the mapped files for what the dump left out.
 */
export class ProcessCoreTarget extends ElfCoreTarget {
  private readonly opts: ProcessCoreOptions;
  private readonly memory: ProcessMemory;
  private readonly threadList: CoreThread[] = [];
  private readonly noteProblems: CoreFileError[] = [];
  private psinfo?: Prpsinfo;
  private auxvMap: ReadonlyMap<number, bigint> = new Map();
  private fileEntries: NtFileEntry[] = [];
  private files?: MappedFiles;
  private exe?: CoreExecutable;

  constructor(init: ElfCoreTargetInit & ProcessCoreOptions) {
    super(init, false);
    this.opts = { ...(init.exe ? { exe: init.exe } : {}), ...(init.rootPrefix ? { rootPrefix: init.rootPrefix } : {}) };
    this.memory = new ProcessMemory(init.core);
  }

  override get problems(): readonly CoreFileError[] {
    return [...this.core.problems, ...this.noteProblems];
  }

  /** The process as NT_PRPSINFO describes it (pid, command name and arguments, ids, state). */
  get process(): Prpsinfo | undefined {
    return this.psinfo;
  }

  /** The process id: NT_PRPSINFO's, else the first thread's. */
  get pid(): number | undefined {
    return this.psinfo?.pid ?? this.threadList[0]?.tid;
  }

  /** The signal that made the core, when one did (a kernel core; gcore's have none). */
  get signal(): CoreSignal | undefined {
    const t = this.threadList.find((x) => x.prstatus.signal.current !== 0);
    if (!t) return undefined;
    const si = t.siginfo;
    const base = { tid: t.tid, signo: t.prstatus.signal.current, code: si?.code ?? t.prstatus.signal.code };
    return { ...base, ...(si?.address !== undefined ? { address: si.address } : {}), ...(si?.senderPid !== undefined ? { senderPid: si.senderPid } : {}) };
  }

  /** The auxiliary vector (AT_* type → value). */
  get auxv(): ReadonlyMap<number, bigint> {
    return this.auxvMap;
  }

  /** The main binary, when the core names it or `--core-exe` does. */
  get executable(): CoreExecutable | undefined {
    return this.exe;
  }

  /** Every thread's notes, the signalled thread first (as the kernel writes them). */
  coreThreads(): readonly CoreThread[] {
    return this.threadList;
  }

  /** The files the process had mapped (NT_FILE), with their build-ids and whether they stand in for omitted memory. */
  mappedFiles(): readonly MappedFile[] {
    return this.files?.files ?? [];
  }

  protected async _open(): Promise<void> {
    this.decodeNotes();
    if (!this.threadList.length) {
      this.noteProblems.push(new CoreFileError('ERR_CORE_NOTE', this.core.path, 'has no NT_PRSTATUS note: no thread or register is available'));
    }
    await this.findExecutable();
    this.files = await MappedFiles.open(this.fileEntries, {
      corePath: this.core.path,
      localPath: (p) => this.localPath(p),
      readCore: (a, b) => this.memory.readCore(a, b),
    });
    this.memory.useFiles(this.files);
  }

  private decodeNotes(): void {
    let current: { -readonly [K in keyof CoreThread]: CoreThread[K] } | undefined;
    const decode = <T>(n: CoreNote, what: string, fn: (d: Uint8Array, o: NoteOrigin) => T): T | undefined => {
      try {
        return fn(n.desc, { file: this.core.path, offset: n.fileOffset, what });
      } catch (err) {
        if (!(err instanceof CoreFileError)) throw err;
        this.noteProblems.push(err);
        return undefined;
      }
    };
    for (const n of this.core.notes) {
      if (n.name === 'CORE' && n.type === NT.PRSTATUS) {
        const prstatus = decode(n, 'NT_PRSTATUS', decodePrstatus);
        current = prstatus && { tid: prstatus.pid, prstatus };
        if (current) this.threadList.push(current);
      } else if (n.name === 'CORE' && n.type === NT.FPREGSET) {
        const fp = decode(n, 'NT_FPREGSET', decodeFxsave);
        if (current && fp) current.fpregs = fp;
      } else if (n.name === 'LINUX' && n.type === NT.X86_XSTATE) {
        if (!current) continue;
        current.xstate = n.desc;
        // Older gcore versions write only the XSAVE area.
        const fp = current.fpregs ?? decode(n, 'NT_X86_XSTATE', decodeFxsave);
        if (fp) current.fpregs = fp;
      } else if (n.name === 'CORE' && n.type === NT.SIGINFO) {
        const si = decode(n, 'NT_SIGINFO', decodeSiginfo);
        if (current && si) current.siginfo = si;
      } else if (n.name === 'CORE' && n.type === NT.PRPSINFO) {
        this.psinfo = decode(n, 'NT_PRPSINFO', decodePrpsinfo) ?? this.psinfo;
      } else if (n.name === 'CORE' && n.type === NT.AUXV) {
        this.auxvMap = decode(n, 'NT_AUXV', decodeAuxv) ?? this.auxvMap;
      } else if (n.name === 'CORE' && n.type === NT.FILE) {
        this.fileEntries = decode(n, 'NT_FILE', decodeNtFile) ?? this.fileEntries;
      }
    }
  }

  /**
   * The main binary: the file mapped over the program headers (AT_PHDR) or the
   * entry point (AT_ENTRY). `--core-exe` replaces it here; when the core has
   * no NT_FILE entry for it, its mappings are rebuilt from its program headers
   * and the load bias the auxiliary vector implies.
   */
  private async findExecutable(): Promise<void> {
    const anchors = [this.auxvMap.get(AT.PHDR), this.auxvMap.get(AT.ENTRY)].filter((a): a is bigint => a !== undefined);
    const named = this.fileEntries.find((e) => anchors.some((a) => e.start <= a && a < e.end))?.path;
    const given = this.opts.exe;
    if (given !== undefined) {
      if (!fs.existsSync(given)) throw new CoreFileError('ERR_CORE_FILE', given, '--core-exe: no such file');
      this.exe = { path: named ?? given, localPath: given };
      if (!named) this.fileEntries.push(...(await this.exeMappings(given)));
    } else if (named) {
      this.exe = { path: named, localPath: this.localPath(named) };
    }
  }

  /** NT_FILE-like entries for an executable the core does not list, placed by the auxiliary vector. */
  private async exeMappings(file: string): Promise<NtFileEntry[]> {
    const handle = await fs.promises.open(file, 'r');
    try {
      const info = await readImageInfo(async (offset, length) => {
        const b = new Uint8Array(length);
        return (await readFully(handle, Number(offset), b)) === length ? b : undefined;
      });
      if (!info) throw new CoreFileError('ERR_CORE_FILE', file, '--core-exe: not an x86-64 ELF file');
      const phdr = this.auxvMap.get(AT.PHDR);
      const entry = this.auxvMap.get(AT.ENTRY);
      const bias = phdr !== undefined && info.phdrVaddr !== undefined ? phdr - info.phdrVaddr : entry !== undefined ? entry - info.entry : undefined;
      if (bias === undefined) {
        this.noteProblems.push(new CoreFileError('ERR_CORE_NOTE', this.core.path, `has no NT_FILE entry for the executable and no AT_PHDR/AT_ENTRY to place ${file}`));
        return [];
      }
      const page = (x: bigint) => x & ~0xfffn;
      return info.loads.map((l) => ({
        start: page(bias + l.vaddr),
        end: (bias + l.vaddr + l.filesz + 0xfffn) & ~0xfffn,
        offset: page(l.offset),
        path: file,
      }));
    } finally {
      await handle.close();
    }
  }

  private localPath(p: string): string {
    if (this.exe && p === this.exe.path && this.opts.exe) return this.opts.exe;
    return this.opts.rootPrefix ? path.join(this.opts.rootPrefix, p) : p;
  }

  protected async _listThreads(): Promise<ThreadInfo[]> {
    const pid = this.pid;
    return this.threadList.map((t) => {
      const name = t.tid === pid ? this.psinfo?.fname : undefined;
      return {
        tid: t.tid,
        state: 'stopped' as const,
        ...(name ? { name } : {}),
        ...(pid !== undefined ? { pid } : {}),
        ...(t.prstatus.ppid ? { ptid: t.prstatus.ppid } : {}),
      };
    });
  }

  async _getRegisters(tid: number): Promise<RegisterSet> {
    const t = this.threadList.find((x) => x.tid === tid);
    if (!t) throw new NoSuchThreadError(tid);
    const regs = new RegisterSet(this.arch, t.prstatus.regs);
    if (t.fpregs) for (const [k, v] of t.fpregs) regs.set(k, v);
    return regs;
  }

  protected async _read(_space: AddressSpace, address: bigint, buf: Uint8Array): Promise<number> {
    return this.memory.read(address, buf);
  }

  protected async explain(_space: AddressSpace, address: bigint): Promise<{ reason: UnreadableReason; detail: string }> {
    return this.memory.explain(address);
  }

  /**
   * The process's memory map: every PT_LOAD, plus the parts of NT_FILE mappings
   * the dump dropped from its program headers (gcore does), with permissions
   * from the mapped file's own program headers.
   */
  protected async _regions(_space: AddressSpace): Promise<Region[]> {
    const out: Region[] = [];
    const fileAt = (a: bigint) => this.files?.find(a);
    const named = (start: bigint, fallback?: string) => {
      const m = fileAt(start);
      return m ? { path: m.entry.path, offset: m.entry.offset + (start - m.entry.start) } : { offset: 0n, ...(fallback ? { path: fallback } : {}) };
    };
    const specials = this.specialNames();
    for (const s of this.memory.segments.all) {
      out.push({ start: s.start, end: s.end, readable: s.readable, writable: s.writable, executable: s.executable, ...named(s.start, specials.get(s.start)) });
    }
    for (const e of this.files?.entries ?? []) {
      for (const [start, end] of this.uncovered(e.start, e.end)) {
        const file = fileAt(start)!.file;
        const offset = e.offset + (start - e.start);
        const load = file.image && loadAtOffset(file.image, offset);
        out.push({ start, end, readable: load?.readable ?? true, writable: load?.writable ?? false, executable: load?.executable ?? false, offset, path: e.path });
      }
    }
    return out.sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  /** Pieces of [start, end) no PT_LOAD covers. */
  private uncovered(start: bigint, end: bigint): [bigint, bigint][] {
    const out: [bigint, bigint][] = [];
    let a = start;
    while (a < end) {
      const seg = this.memory.segments.find(a);
      if (seg) {
        a = seg.end;
        continue;
      }
      const next = this.memory.segments.after(a)?.start;
      const b = next === undefined || next > end ? end : next;
      out.push([a, b]);
      a = b;
    }
    return out;
  }

  /** `[vdso]`, `[vsyscall]` and the main thread's `[stack]`, by start address. */
  private specialNames(): Map<bigint, string> {
    const names = new Map<bigint, string>();
    const vdso = this.auxvMap.get(AT.SYSINFO_EHDR);
    if (vdso !== undefined) names.set(vdso, '[vdso]');
    names.set(VSYSCALL, '[vsyscall]');
    const main = this.threadList.find((t) => t.tid === this.pid) ?? this.threadList[0];
    const sp = main?.prstatus.regs.get('rsp');
    const stack = sp === undefined ? undefined : this.memory.segments.find(sp);
    if (stack) names.set(stack.start, '[stack]');
    return names;
  }

  protected async _modules(): Promise<LoadedModule[]> {
    const regions = await this._regions(this.defaultSpace);
    return modulesFromRegions(regions, { ...(this.exe ? { mainPath: this.exe.path } : {}), openPath: (p) => this.localPath(p) });
  }

  protected async _close(): Promise<void> {
    await this.files?.close();
    await this.core.close();
  }
}
