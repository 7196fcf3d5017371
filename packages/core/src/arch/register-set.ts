import { RegisterError } from '../errors.js';
import type { Arch, RegisterDesc } from './x86-64.js';

/**
 * A set of register values for one thread (or one unwound frame). Values are
 * unsigned bigints of the register's width; an absent value means "unknown"
 * (not fetched, or not recoverable in an unwound frame).
 */
export class RegisterSet {
  private readonly values: (bigint | undefined)[];

  constructor(readonly arch: Arch, values?: Iterable<[string | number, bigint]>) {
    this.values = new Array(arch.registers.length);
    if (values) for (const [id, v] of values) this.set(id, v);
  }

  /** The value, or undefined when unknown. */
  get(id: string | number | RegisterDesc): bigint | undefined {
    return this.values[this.desc(id).index];
  }

  /** The value; throws a RegisterError naming the register when it is unknown. */
  require(id: string | number | RegisterDesc): bigint {
    const d = this.desc(id);
    const v = this.values[d.index];
    if (v === undefined) throw new RegisterError(`register ${d.name} is not available`);
    return v;
  }

  has(id: string | number | RegisterDesc): boolean {
    return this.get(id) !== undefined;
  }

  set(id: string | number | RegisterDesc, value: bigint | undefined): void {
    const d = this.desc(id);
    this.values[d.index] = value === undefined ? undefined : BigInt.asUintN(d.size * 8, value);
  }

  get pc(): bigint | undefined {
    return this.values[this.arch.pc.index];
  }
  get sp(): bigint | undefined {
    return this.values[this.arch.sp.index];
  }
  get fp(): bigint | undefined {
    return this.values[this.arch.fp.index];
  }

  /** Names and values of the known registers, in architecture order. */
  *entries(): IterableIterator<[RegisterDesc, bigint]> {
    for (const r of this.arch.registers) {
      const v = this.values[r.index];
      if (v !== undefined) yield [r, v];
    }
  }

  clone(): RegisterSet {
    const c = new RegisterSet(this.arch);
    for (let i = 0; i < this.values.length; i++) c.values[i] = this.values[i];
    return c;
  }

  /** A plain object `{ name: value }` of the known registers. */
  toObject(): Record<string, bigint> {
    const o: Record<string, bigint> = {};
    for (const [r, v] of this.entries()) o[r.name] = v;
    return o;
  }

  private desc(id: string | number | RegisterDesc): RegisterDesc {
    return typeof id === 'object' ? id : this.arch.register(id);
  }
}
