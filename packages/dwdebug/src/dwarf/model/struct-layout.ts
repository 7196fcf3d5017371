import { DwarfError } from '../../errors.js';
import type { DebugFile } from '../debug-file.js';
import { StructType, strip } from './types.js';

/** A struct, or one of its members, that a program's tool needs is not in the debuginfo it was given. */
export class LayoutError extends DwarfError {
  constructor(message: string) {
    super('ERR_LAYOUT', message);
    this.name = 'LayoutError';
  }
}

/**
 * Member offsets of one struct (or union), read from DWARF: what a reader of
 * a program's data structures (a kernel's tasks, an interpreter's frames)
 * needs instead of built-in offsets. `origin` names the debuginfo in errors.
 */
export class StructLayout {
  private readonly offsets = new Map<string, number | undefined>();

  constructor(readonly name: string, private readonly type: StructType, private readonly origin: string) {}

  /** The layout of the struct, union or typedef of one named `name` (`struct task_struct`, `zval`). */
  static of(debug: DebugFile, name: string, origin: string): StructLayout {
    const t = debug.lookupType(name);
    const s = t ? strip(t) : undefined;
    if (!(s instanceof StructType)) throw new LayoutError(`${origin} has no ${name}`);
    return new StructLayout(name, s.complete(), origin);
  }

  get size(): number {
    if (this.type.size === undefined) throw new LayoutError(`${this.name} has no size in ${this.origin}`);
    return this.type.size;
  }

  /** Whether a member (`a.b.c`, through nested structs and anonymous unions) exists. */
  has(path: string): boolean {
    return this.find(path) !== undefined;
  }

  /** Byte offset of a member (`a.b.c`). */
  offset(path: string): number {
    const o = this.find(path);
    if (o === undefined) throw new LayoutError(`${this.name} has no member ${path} in ${this.origin}`);
    return o;
  }

  private find(path: string): number | undefined {
    if (this.offsets.has(path)) return this.offsets.get(path);
    let type: StructType = this.type;
    let total: number | undefined = 0;
    for (const name of path.split('.')) {
      const m = type.member(name);
      if (!m || m.bitOffset === undefined) {
        total = undefined;
        break;
      }
      total! += m.bitOffset / 8;
      const next = strip(m.member.type);
      if (next instanceof StructType) type = next.complete();
    }
    this.offsets.set(path, total);
    return total;
  }
}
