/**
 * Fixtures and reference tools for the DWARF engine's tests: C/C++ sources in
 * packages/dwdebug/test/dwarf built at test time in several flavours, opened
 * through Binfile like a real consumer would, and gdb/addr2line runs on the
 * same files to compare with.
 */
import path from 'node:path';
import { buildFixture, repoRoot, run } from '@stackdb/test-support';
import { Binfile } from '../../elf/binfile.js';
import { DebugFile, type DebugFileOptions } from '../debug-file.js';
import { binfileDwarfSections } from '../source.js';

/** Where the fixture sources live. */
export const SRC = path.join(repoRoot, 'packages/dwdebug/test/dwarf');
const C_SOURCES = [path.join(SRC, 'main.c'), path.join(SRC, 'other.c')];

/** A flavour of the C fixture. */
export interface Flavour {
  readonly name: string;
  readonly compiler: 'gcc' | 'clang';
  readonly flags: readonly string[];
  readonly post?: readonly (readonly string[])[];
}

/** The compilers, optimisation levels and DWARF versions the C fixture is built with. */
export const FLAVOURS: readonly Flavour[] = [
  { name: 'gcc-O0-dwarf4', compiler: 'gcc', flags: ['-O0', '-gdwarf-4'] },
  { name: 'gcc-O2-dwarf5', compiler: 'gcc', flags: ['-O2', '-gdwarf-5'] },
  { name: 'gcc-O0-dwarf2', compiler: 'gcc', flags: ['-O0', '-gdwarf-2', '-gstrict-dwarf'] },
  { name: 'gcc-O1-dwarf3', compiler: 'gcc', flags: ['-O1', '-gdwarf-3'] },
  { name: 'gcc-O2-dwarf4-nopie', compiler: 'gcc', flags: ['-O2', '-gdwarf-4', '-no-pie'] },
  { name: 'gcc-O0-dwarf5-gz', compiler: 'gcc', flags: ['-O0', '-gdwarf-5', '-gz=zlib'] },
  { name: 'clang-O0-dwarf5', compiler: 'clang', flags: ['-O0', '-gdwarf-5'] },
  { name: 'clang-O2-dwarf4', compiler: 'clang', flags: ['-O2', '-gdwarf-4'] },
];

/** Builds the C fixture in a flavour and returns the executable's path. */
export function buildC(f: Flavour): string {
  return buildFixture({ name: `dwarf-${f.name}`, sources: C_SOURCES, compiler: f.compiler, flags: ['-g', ...f.flags], ...(f.post ? { post: f.post } : {}) });
}

/** The fixture with its debuginfo split into `<name>.debug` (objcopy --only-keep-debug) and a debuglink. */
export function buildSplit(): string {
  return buildFixture({
    name: 'dwarf-split', sources: C_SOURCES, compiler: 'gcc', flags: ['-g', '-O0', '-gdwarf-5'],
    post: [
      ['objcopy', '--only-keep-debug', '$OUT', '$OUT.debug'],
      ['objcopy', '--strip-debug', '--add-gnu-debuglink=$OUT.debug', '$OUT'],
    ],
  });
}

/** `other.c` as a shared library. */
export function buildShared(): string {
  return buildFixture({ name: 'libdwarf-other.so', sources: [path.join(SRC, 'other.c')], compiler: 'gcc', flags: ['-g', '-O0', '-gdwarf-5', '-shared', '-fPIC'] });
}

/** `main.c` as a relocatable object (its DWARF needs relocation). */
export function buildObject(): string {
  return buildFixture({ name: 'dwarf-main.o', sources: [path.join(SRC, 'main.c')], compiler: 'gcc', flags: ['-g', '-O0', '-gdwarf-5', '-c'] });
}

/** Two executables whose common DWARF dwz moved into a supplementary file (`dwarf-dwz.common`). */
export function buildDwz(): string {
  return buildFixture({
    name: 'dwarf-dwz', sources: C_SOURCES, compiler: 'gcc', flags: ['-g', '-O0', '-gdwarf-4'],
    post: [
      ['gcc', '-g', '-O1', '-gdwarf-4', '-o', '$DIR/dwarf-dwz-b', ...C_SOURCES],
      ['dwz', '-m', '$DIR/dwarf-dwz.common', '-M', 'dwarf-dwz.common', '$OUT', '$DIR/dwarf-dwz-b'],
    ],
  });
}

/** The C++ fixture. */
export function buildCxx(): string {
  return buildFixture({ name: 'dwarf-cxx', sources: [path.join(SRC, 'cxx.cpp')], compiler: 'g++', flags: ['-g', '-O0', '-gdwarf-5'] });
}

/** Opens a binary with Binfile (debug file search, dwz, relocation) and loads its DWARF. */
export async function openDebug(file: string, opts: DebugFileOptions = {}): Promise<{ bf: Binfile; df: DebugFile }> {
  const bf = await Binfile.open(file);
  const sections = binfileDwarfSections(bf);
  if (!sections) throw new Error(`${file} has no DWARF`);
  return { bf, df: await DebugFile.load(sections, opts) };
}

/** Runs gdb once over a file with many commands; returns each command's output. */
export function gdb(file: string, commands: readonly string[]): string[] {
  const args = ['-batch', '-nx', '-ex', 'set width 0', '-ex', 'set pagination off'];
  const marker = '@@@STACKDB@@@';
  for (const c of commands) args.push('-ex', `echo ${marker}\\n`, '-ex', c);
  args.push(file);
  const out = run('gdb', args, { timeoutMs: 120_000 });
  return out.split(`${marker}\n`).slice(1).map((s) => s.trimEnd());
}

/** One member line of gdb's `ptype /o`: offset (and bit), size, declaration text. */
export interface GdbMember {
  readonly offset: number;
  readonly bit: number | undefined;
  readonly size: number;
  readonly text: string;
}

/** The top-level members of a `ptype /o` struct or union layout. */
export function parsePtypeO(out: string): GdbMember[] {
  const members: GdbMember[] = [];
  let depth = 0;
  for (const line of out.split('\n')) {
    const m = /^\/\*\s+(\d+)(?::\s*(\d+))?\s*\|\s*(\d+) \*\/ {4}(.*)$/.exec(line);
    const u = /^\/\*\s+\|?\s*(\d+) \*\/ {4}(.*)$/.exec(line);
    const text = m ? m[4]! : u ? u[2]! : undefined;
    if (text !== undefined && depth === 0) {
      members.push({ offset: m ? Number(m[1]) : 0, bit: m?.[2] === undefined ? undefined : Number(m[2]), size: Number(m ? m[3] : u![1]), text: text.trim() });
    }
    if (text !== undefined && text.trimEnd().endsWith('{')) depth++;
    else if (/^\s+}.*;$/.test(line)) depth--;
  }
  return members;
}
