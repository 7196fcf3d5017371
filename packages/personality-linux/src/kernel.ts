import { StructLayout, type DebugFile } from '@stackdb/dwdebug';
import type { LoadedModule, ProgramSymbols, Target } from '@stackdb/core';
import { LinuxPersonalityError } from './errors.js';

/**
 * What the personality needs of one kernel build: its image module, struct
 * layouts from its DWARF, and global addresses from its symbol table
 * (KASLR applied; per-CPU variables kept as offsets into each CPU's area).
 */
export class KernelInfo {
  private readonly layouts = new Map<string, StructLayout>();

  private constructor(readonly target: Target, readonly program: ProgramSymbols, readonly image: LoadedModule, private readonly dwarf: DebugFile, private readonly perCpuEnd: bigint) {}

  static async load(target: Target, program: ProgramSymbols): Promise<KernelInfo> {
    const mods = await program.modules();
    const image = mods.find((m) => m.main) ?? mods[0];
    if (!image) throw new LinuxPersonalityError(`${target.name} names no kernel image (give the vmlinux with -M or --core-exe)`);
    const dwarf = await program.debugFile(image);
    if (!dwarf) throw new LinuxPersonalityError(`${image.path} has no DWARF debuginfo (install the kernel's -dbg package, or give its debug vmlinux)`);
    const end = (await program.lookupSymbol('__per_cpu_end'))[0];
    return new KernelInfo(target, program, image, dwarf, end ? end.elf.value : 0n);
  }

  /** A struct's layout (`task_struct`). */
  struct(name: string): StructLayout {
    let l = this.layouts.get(name);
    if (!l) {
      l = StructLayout.of(this.dwarf, `struct ${name}`, "the kernel's debuginfo");
      this.layouts.set(name, l);
    }
    return l;
  }

  /** Runtime address of a global (for a per-CPU variable: its offset in each CPU's area). */
  async symbol(name: string): Promise<bigint> {
    const s = await this.optionalSymbol(name);
    if (s === undefined) throw new LinuxPersonalityError(`the kernel has no symbol ${name}`);
    return s;
  }

  async optionalSymbol(name: string): Promise<bigint | undefined> {
    // By path: the program re-reads its modules after the machine ran, as new objects.
    const hit = (await this.program.lookupSymbol(name)).find((s) => s.module.path === this.image.path);
    if (!hit) return undefined;
    return hit.elf.value < this.perCpuEnd ? hit.elf.value : hit.start;
  }
}

/** Typed reads of kernel memory (the target's default virtual space). */
export class KernelMemory {
  constructor(private readonly target: Target) {}

  async u64(address: bigint): Promise<bigint> {
    return this.target.readUnsigned(address, 8);
  }

  async u32(address: bigint): Promise<number> {
    return Number(await this.target.readUnsigned(address, 4));
  }

  async i32(address: bigint): Promise<number> {
    return (await this.u32(address)) | 0;
  }

  /** `count` 64-bit words. */
  async words(address: bigint, count: number): Promise<bigint[]> {
    const b = await this.target.read(address, count * 8);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return Array.from({ length: count }, (_, i) => v.getBigUint64(i * 8, true));
  }

  /** A NUL-terminated string of at most `max` bytes kept in a fixed array (`comm`). */
  async fixedString(address: bigint, max: number): Promise<string> {
    const b = await this.target.read(address, max);
    const end = b.indexOf(0);
    return Buffer.from(b.subarray(0, end < 0 ? max : end)).toString('utf8');
  }

  string(address: bigint, max = 4096): Promise<string> {
    return this.target.readString(address, max);
  }
}
