import { EventEmitter } from 'node:events';
import { PT } from '@stackdb/dwdebug';
import { StackdbError } from '../errors.js';
import { getLogger } from '../log/logger.js';
import { ProbeManager } from '../probe/manager.js';
import type { Probe } from '../probe/probe.js';
import type { Target } from '../target/target.js';
import type { Addr, LoadedModule } from '../target/types.js';
import type { ProgramSymbols } from './program.js';

const log = getLogger('T_SYMBOL');

/*
 * Library tracking through the dynamic loader's own list (the System V
 * `r_debug` protocol, as gdb's solib-svr4 and StackwalkerAPI's LibraryState
 * use it). The loader keeps `struct r_debug` at the address the main
 * program's DT_DEBUG entry holds once the loader has run (ld.so also exports
 * it as `_r_debug`): r_map heads the list of `struct link_map` (l_addr: load
 * bias, l_name, l_ld: dynamic section, l_next), r_brk is a function the loader
 * calls around every change (`_dl_debug_state`), r_state says whether the list
 * is being changed (RT_ADD, RT_DELETE) or consistent again (RT_CONSISTENT).
 * glibc 2.35+ chains one r_debug per dlmopen namespace through r_next
 * (r_version 2). A breakpoint on r_brk, whose handler re-reads the list when
 * r_state is RT_CONSISTENT, keeps the list and the program's symbols current
 * while the target runs under monitor().
 */

/** Layout of `struct r_debug` and `struct link_map` (LP64). */
const R_VERSION = 0n;
const R_MAP = 8n;
const R_BRK = 16n;
const R_STATE = 24n;
const R_NEXT = 40n;
const L_ADDR = 0n;
const L_NAME = 8n;
const L_LD = 16n;
const L_NEXT = 24n;
const DT_NULL = 0n;
const DT_DEBUG = 21n;
/** r_state values. */
const RT_CONSISTENT = 0;
/** Bounds against corrupt lists. */
const MAX_LIBRARIES = 4096;
const MAX_NAMESPACES = 64;
const MAX_DYNAMIC = 1024;

/** One loaded object as the dynamic loader lists it (StackwalkerAPI's LibAddrPair, with more). */
export interface Library {
  /** The path the loader opened (the main program's own path for the main program, whose l_name is empty). */
  readonly path: string;
  /** Load bias: runtime address minus link-time address (l_addr). */
  readonly base: Addr;
  /** Runtime address of its dynamic section (l_ld). */
  readonly dynamic: Addr;
  /** Address of its `struct link_map`. */
  readonly linkMap: Addr;
  /** dlmopen namespace (0 for the default one). */
  readonly namespace: number;
  /** The main program. */
  readonly main?: boolean;
}

/** What changed in the list between two consistent states. */
export interface LibraryChange {
  readonly added: readonly Library[];
  readonly removed: readonly Library[];
}

/** Events of a {@link LibraryState}. */
export interface LibraryStateEvents {
  /** The loader's list changed (emitted while the target is paused at the loader's notification). */
  change: [LibraryChange];
}

function sameLibrary(a: Library, b: Library): boolean {
  return a.linkMap === b.linkMap && a.path === b.path && a.base === b.base;
}

/**
 * The loaded objects of a process target as its dynamic loader lists them,
 * refreshed on the loader's notifications once {@link track} placed its probe.
 * Use {@link LibraryState.for} to share one per target.
 */
export class LibraryState extends EventEmitter<LibraryStateEvents> {
  private static readonly states = new WeakMap<Target, LibraryState>();
  private cached?: Library[];
  private probe?: Probe;
  private rDebugAddress?: Addr;
  private readonly changeHandlers = new Set<(change: LibraryChange) => Promise<void>>();

  constructor(readonly target: Target, readonly program: ProgramSymbols) {
    super();
    target.on('exec', () => {
      // A new image has a new loader; the probe went with the old one.
      this.cached = undefined;
      this.rDebugAddress = undefined;
      this.probe = undefined;
    });
  }

  /** The target's library state (created on first use with these symbols). */
  static for(target: Target, program: ProgramSymbols): LibraryState {
    let s = LibraryState.states.get(target);
    if (!s) {
      s = new LibraryState(target, program);
      LibraryState.states.set(target, s);
    }
    return s;
  }

  /**
   * The address of the loader's `struct r_debug`: from the main program's
   * DT_DEBUG entry, else ld.so's exported `_r_debug`; undefined for a static
   * program or before the loader is mapped.
   */
  async rDebug(): Promise<Addr | undefined> {
    if (this.rDebugAddress !== undefined) return this.rDebugAddress;
    const found = (await this.fromDtDebug()) ?? (await this.fromSymbol());
    // DT_DEBUG stays 0 until the loader has run: only a final answer is kept.
    if (found !== undefined) this.rDebugAddress = found;
    return found;
  }

  private async fromDtDebug(): Promise<Addr | undefined> {
    const main = (await this.program.modules()).find((m) => m.main);
    const bf = main ? await this.program.binfile(main) : undefined;
    const dyn = bf?.elf.segments.find((s) => s.type === PT.DYNAMIC);
    if (!main || !dyn) return undefined;
    const start = dyn.vaddr + main.bias;
    const count = Math.min(MAX_DYNAMIC, Math.floor(Number(dyn.memsz) / 16));
    const bytes = new Uint8Array(count * 16);
    const n = await this.target.readInto(start, bytes).catch(() => 0);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n - (n % 16));
    for (let off = 0; off + 16 <= dv.byteLength; off += 16) {
      const tag = dv.getBigInt64(off, true);
      if (tag === DT_NULL) break;
      if (tag === DT_DEBUG) {
        const v = dv.getBigUint64(off + 8, true);
        return v === 0n ? undefined : v;
      }
    }
    return undefined;
  }

  private async fromSymbol(): Promise<Addr | undefined> {
    const syms = await this.program.lookupSymbol('_r_debug').catch(() => []);
    return syms.find((s) => s.elf.type === 'object')?.start;
  }

  /**
   * Where the loader reports changes: r_brk, or before the loader has
   * initialised r_debug, its `_dl_debug_state` (StackwalkerAPI's
   * getLibTrapAddress). Undefined for a static program.
   */
  async trapAddress(): Promise<Addr | undefined> {
    const r = await this.rDebug();
    const brk = r === undefined ? 0n : await this.target.readPointer(r + R_BRK).catch(() => 0n);
    if (brk !== 0n) return brk;
    const syms = await this.program.lookupSymbol('_dl_debug_state').catch(() => []);
    return syms.find((s) => s.elf.type === 'func')?.start;
  }

  /**
   * The loaded objects, main program first, as the loader lists them now
   * (re-read unless `refresh` is false and a list was read before). Empty
   * before the loader has published its list.
   */
  async libraries(opts: { refresh?: boolean } = {}): Promise<Library[]> {
    if (this.cached && opts.refresh === false) return this.cached;
    this.cached = await this.read();
    return this.cached;
  }

  private async read(): Promise<Library[]> {
    const first = await this.rDebug();
    if (first === undefined) return [];
    const mainPath = (await this.program.modules()).find((m) => m.main)?.path;
    const out: Library[] = [];
    const seenDebug = new Set<Addr>();
    let rd: Addr = first;
    for (let ns = 0; ns < MAX_NAMESPACES && rd !== 0n && !seenDebug.has(rd); ns++) {
      seenDebug.add(rd);
      const version = await this.target.readUnsigned(rd + R_VERSION, 4).catch(() => 0n);
      const seen = new Set<Addr>();
      let lm = await this.target.readPointer(rd + R_MAP).catch(() => 0n);
      while (lm !== 0n && !seen.has(lm) && out.length < MAX_LIBRARIES) {
        seen.add(lm);
        const [base, namePtr, dynamic, next] = await Promise.all([L_ADDR, L_NAME, L_LD, L_NEXT].map((o) => this.target.readPointer(lm + o)));
        const name = namePtr ? await this.target.readString(namePtr!, 4096).catch(() => '') : '';
        const isMain = ns === 0 && out.length === 0 && name === '';
        out.push({ path: isMain ? (mainPath ?? '') : name, base: base!, dynamic: dynamic!, linkMap: lm, namespace: ns, ...(isMain ? { main: true } : {}) });
        lm = next!;
      }
      rd = version >= 2n ? await this.target.readPointer(rd + R_NEXT).catch(() => 0n) : 0n;
    }
    return out;
  }

  /** The library loaded over an address (StackwalkerAPI's getLibraryAtAddr). */
  async libraryAt(address: Addr): Promise<Library | undefined> {
    const m = await this.program.moduleAt(address);
    if (!m) return undefined;
    return (await this.libraries({ refresh: false })).find((l) => matches(l, m)) ?? (await this.libraries()).find((l) => matches(l, m));
  }

  /** The main program (StackwalkerAPI's getAOut). */
  async aOut(): Promise<Library | undefined> {
    return (await this.libraries({ refresh: false })).find((l) => l.main);
  }

  /** The C library (getLibc). */
  async libc(): Promise<Library | undefined> {
    return (await this.libraries({ refresh: false })).find((l) => /\/libc(\.so|-[\d.]+\.so)/.test(l.path));
  }

  /** The thread library, where it is a library of its own (getLibthread); glibc 2.34+ has it inside libc. */
  async libthread(): Promise<Library | undefined> {
    const libs = await this.libraries({ refresh: false });
    return libs.find((l) => /\/libpthread[.-]/.test(l.path)) ?? libs.find((l) => /\/libc(\.so|-[\d.]+\.so)/.test(l.path));
  }

  /** Whether {@link track} has its probe in place. */
  get tracking(): boolean {
    return this.probe !== undefined && !this.probe.isRemoved;
  }

  /**
   * Places a probe on the loader's notification address; from then on every
   * change is read when the loader says the list is consistent again, the
   * program's module list is refreshed, and `change` is emitted (with the
   * target paused). Reads the current list first.
   */
  async track(): Promise<void> {
    if (this.tracking) return;
    const at = await this.trapAddress();
    if (at === undefined) throw new LibraryTrackingError('the program has no dynamic loader to track (static, or not started)');
    await this.libraries();
    this.probe = await ProbeManager.for(this.target).breakpoint(at, { pre: () => this.onNotification() }, { name: 'LibraryState r_brk' });
    log.debug(3, 'tracking the loader at 0x%s', at.toString(16));
  }

  /**
   * Runs `handler` at every change while the target is still paused at the
   * loader's notification: unlike `change` listeners it is awaited, so it may
   * place or remove probes. Returns a function that stops it.
   */
  onChange(handler: (change: LibraryChange) => Promise<void>): () => void {
    this.changeHandlers.add(handler);
    return () => this.changeHandlers.delete(handler);
  }

  /** Removes the probe. */
  async untrack(): Promise<void> {
    const p = this.probe;
    this.probe = undefined;
    await p?.remove();
  }

  /**
   * The loader said its list changed (StackwalkerAPI's notifyOfUpdate): re-read
   * it when consistent; returns what changed.
   */
  async notifyOfUpdate(): Promise<LibraryChange | undefined> {
    const r = await this.rDebug();
    if (r === undefined) return undefined;
    const state = Number(await this.target.readUnsigned(r + R_STATE, 4).catch(() => -1n));
    if (state !== RT_CONSISTENT) return undefined;
    const before = this.cached ?? [];
    const after = await this.libraries();
    const change = {
      added: after.filter((a) => !before.some((b) => sameLibrary(a, b))),
      removed: before.filter((b) => !after.some((a) => sameLibrary(a, b))),
    };
    if (!change.added.length && !change.removed.length) return change;
    this.program.invalidate();
    log.debug(2, 'libraries: +%d -%d', change.added.length, change.removed.length);
    this.emit('change', change);
    for (const h of this.changeHandlers) await h(change);
    return change;
  }

  private async onNotification(): Promise<undefined> {
    try {
      await this.notifyOfUpdate();
    } catch (err) {
      log.warnopt(1, 'cannot read the loader list: %s', (err as Error).message);
    }
    return undefined;
  }
}

function matches(l: Library, m: LoadedModule): boolean {
  return l.base === m.bias && (l.path === m.path || (l.main === true && m.main === true));
}

/** The program has no dynamic loader to track (code `ERR_NO_LOADER`). */
export class LibraryTrackingError extends StackdbError {
  constructor(message: string) {
    super('ERR_NO_LOADER', message);
  }
}
