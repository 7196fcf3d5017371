import type { Region } from '@stackdb/core';
import { LinuxPersonalityError } from './errors.js';
import type { KernelInfo, KernelMemory } from './kernel.js';
import { mapleEntries } from './maple-tree.js';

/** `vm_flags` bits. */
const VM_READ = 1n;
const VM_WRITE = 2n;
const VM_EXEC = 4n;
const PAGE_SHIFT = 12n;
const MAX_PATH_DEPTH = 256;

/** The direct map's base without KASLR (`__PAGE_OFFSET_BASE_L4`). */
const DEFAULT_PAGE_OFFSET = 0xffff888000000000n;

/** Physical address of a direct-mapped kernel virtual address (`__pa`). */
export async function directMapToPhysical(kernel: KernelInfo, mem: KernelMemory, address: bigint): Promise<bigint> {
  const v = await kernel.optionalSymbol('page_offset_base');
  const base = v === undefined ? DEFAULT_PAGE_OFFSET : await mem.u64(v);
  if (address < base) throw new LinuxPersonalityError(`0x${address.toString(16)} is not in the kernel's direct map (from 0x${base.toString(16)})`);
  return address - base;
}

/** Physical address of an mm's top page table (`mm->pgd`). */
export async function pageTableRoot(kernel: KernelInfo, mem: KernelMemory, mm: bigint): Promise<bigint> {
  return directMapToPhysical(kernel, mem, await mem.u64(mm + BigInt(kernel.struct('mm_struct').offset('pgd'))));
}

/** The VMAs of an mm (its maple tree on 6.1 and later, its `mmap` list before), as regions with their files' paths. */
export async function vmaRegions(kernel: KernelInfo, mem: KernelMemory, mm: bigint): Promise<Region[]> {
  const mms = kernel.struct('mm_struct');
  const vmas: bigint[] = [];
  if (mms.has('mm_mt')) {
    const entries = await mapleEntries(mem, mm + BigInt(mms.offset('mm_mt')), kernel.struct('maple_tree').offset('ma_root'));
    for (const e of entries) vmas.push(e.value);
  } else {
    const next = BigInt(kernel.struct('vm_area_struct').offset('vm_next'));
    const seen = new Set<bigint>();
    for (let v = await mem.u64(mm + BigInt(mms.offset('mmap'))); v !== 0n; v = await mem.u64(v + next)) {
      if (seen.has(v)) throw new LinuxPersonalityError(`the VMA list of mm 0x${mm.toString(16)} loops`);
      seen.add(v);
      vmas.push(v);
    }
  }
  const marks = await pseudoMarks(kernel, mem, mm);
  const out: Region[] = [];
  for (const v of vmas) out.push(await vmaRegion(kernel, mem, v, marks));
  return out;
}

/** What names anonymous VMAs as /proc/PID/maps does: the heap's and stack's bounds, and special mappings' ops. */
interface PseudoMarks {
  readonly startBrk: bigint;
  readonly brk: bigint;
  readonly startStack: bigint;
  readonly specialOps?: bigint;
}

async function pseudoMarks(kernel: KernelInfo, mem: KernelMemory, mm: bigint): Promise<PseudoMarks> {
  const mms = kernel.struct('mm_struct');
  const at = (m: string) => mem.u64(mm + BigInt(mms.offset(m)));
  const specialOps = await kernel.optionalSymbol('special_mapping_vmops');
  return { startBrk: await at('start_brk'), brk: await at('brk'), startStack: await at('start_stack'), ...(specialOps !== undefined ? { specialOps } : {}) };
}

/** `[heap]`, `[stack]`, or a special mapping's own name (`[vdso]`, `[vvar]`), as /proc/PID/maps shows them. */
async function pseudoName(kernel: KernelInfo, mem: KernelMemory, vma: bigint, start: bigint, end: bigint, marks: PseudoMarks): Promise<string | undefined> {
  const vs = kernel.struct('vm_area_struct');
  if (marks.specialOps !== undefined && (await mem.u64(vma + BigInt(vs.offset('vm_ops')))) === marks.specialOps) {
    const special = await mem.u64(vma + BigInt(vs.offset('vm_private_data')));
    const name = special ? await mem.u64(special + BigInt(kernel.struct('vm_special_mapping').offset('name'))) : 0n;
    if (name) return mem.string(name, 64);
  }
  if (start <= marks.brk && end >= marks.startBrk) return '[heap]';
  if (start <= marks.startStack && marks.startStack <= end) return '[stack]';
  return undefined;
}

async function vmaRegion(kernel: KernelInfo, mem: KernelMemory, vma: bigint, marks: PseudoMarks): Promise<Region> {
  const vs = kernel.struct('vm_area_struct');
  const at = (m: string) => vma + BigInt(vs.offset(m));
  const flags = await mem.u64(at('vm_flags'));
  const file = await mem.u64(at('vm_file'));
  const start = await mem.u64(at('vm_start'));
  const end = await mem.u64(at('vm_end'));
  const path = file ? await filePath(kernel, mem, file) : await pseudoName(kernel, mem, vma, start, end, marks);
  return {
    start,
    end,
    readable: (flags & VM_READ) !== 0n,
    writable: (flags & VM_WRITE) !== 0n,
    executable: (flags & VM_EXEC) !== 0n,
    offset: file ? (await mem.u64(at('vm_pgoff'))) << PAGE_SHIFT : 0n,
    ...(path !== undefined ? { path } : {}),
  };
}

/**
 * The path of an open file (`d_path` of `file->f_path`): dentry names up to
 * each mount's root, then on through the mount point in the parent mount.
 */
export async function filePath(kernel: KernelInfo, mem: KernelMemory, file: bigint): Promise<string> {
  const fs = kernel.struct('file');
  const ds = kernel.struct('dentry');
  const ms = kernel.struct('mount');
  const pathOff = BigInt(fs.offset('f_path'));
  const ps = kernel.struct('path');
  let dentry = await mem.u64(file + pathOff + BigInt(ps.offset('dentry')));
  const vfsmnt = await mem.u64(file + pathOff + BigInt(ps.offset('mnt')));
  let mount = vfsmnt - BigInt(ms.offset('mnt'));
  const mntRoot = BigInt(ms.offset('mnt.mnt_root'));
  const names: string[] = [];
  for (let i = 0; i < MAX_PATH_DEPTH; i++) {
    if (dentry === (await mem.u64(mount + mntRoot))) {
      const parent = await mem.u64(mount + BigInt(ms.offset('mnt_parent')));
      if (parent === mount) return `/${names.reverse().join('/')}`;
      dentry = await mem.u64(mount + BigInt(ms.offset('mnt_mountpoint')));
      mount = parent;
      continue;
    }
    const parent = await mem.u64(dentry + BigInt(ds.offset('d_parent')));
    if (parent === dentry) return `/${names.reverse().join('/')}`;
    names.push(await mem.string(await mem.u64(dentry + BigInt(ds.offset('d_name.name'))), 256));
    dentry = parent;
  }
  throw new LinuxPersonalityError(`the path of file 0x${file.toString(16)} is deeper than ${MAX_PATH_DEPTH} names`);
}
