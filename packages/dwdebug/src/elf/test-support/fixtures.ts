/**
 * Test fixtures for the ELF, search, CFI and location tests: real binaries
 * built from the C sources in packages/dwdebug/test/bin by buildFixture.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildFixture, commandExists, repoRoot, run } from '@stackdb/test-support';

const BIN = 'packages/dwdebug/test/bin';
const src = (name: string) => `${BIN}/${name}`;

/** A -D flag carrying the hash of files a fixture uses but does not compile directly (headers, post-step inputs), so the cache key sees them. */
function depsFlag(files: readonly string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(fs.readFileSync(path.join(repoRoot, f)));
  return `-DFIXTURE_DEPS_${h.digest('hex').slice(0, 12)}`;
}

/** hello.c, PIE, -O2, DWARF 5. */
export const helloPie = () => buildFixture({ name: 'hello-pie', sources: [src('hello.c')], flags: ['-g', '-O2', '-fPIE', '-pie'] });

/** hello.c, non-PIE (ET_EXEC), -O2. */
export const helloNoPie = () => buildFixture({ name: 'hello-nopie', sources: [src('hello.c')], flags: ['-g', '-O2', '-fno-pie', '-no-pie'] });

/** hello.c, -O0 with frame pointers, DWARF 4 (fbreg locations, .debug_frame too). */
export const helloO0 = () => buildFixture({ name: 'hello-O0', sources: [src('hello.c')], flags: ['-g', '-O0', '-gdwarf-4', '-fno-omit-frame-pointer'] });

/** A shared library. */
export const libShared = () => buildFixture({ name: 'libshared.so', sources: [src('libshared.c')], flags: ['-g', '-O2', '-shared', '-fPIC'] });

/**
 * hello.c stripped, with its DWARF in `hello-stripped.debug` next to it
 * (objcopy --only-keep-debug, --add-gnu-debuglink).
 */
export function helloStripped(opts: { buildId?: boolean } = {}): { binary: string; debug: string } {
  const name = opts.buildId === false ? 'hello-stripped-noid' : 'hello-stripped';
  const binary = buildFixture({
    name,
    sources: [src('hello.c')],
    flags: ['-g', '-O2', ...(opts.buildId === false ? ['-Wl,--build-id=none'] : ['-Wl,--build-id'])],
    post: [
      ['objcopy', '--only-keep-debug', '$OUT', `$DIR/${name}.debug`],
      ['objcopy', '--strip-debug', '--strip-unneeded', `--add-gnu-debuglink=$DIR/${name}.debug`, '$OUT'],
    ],
  });
  return { binary, debug: `${binary}.debug` };
}

/** hello.c with zlib-compressed debug sections (`-gz=zlib`, SHF_COMPRESSED). */
export const helloZlib = () => buildFixture({ name: 'hello-zlib', sources: [src('hello.c')], flags: ['-g', '-O2', '-gz=zlib'] });

/** True when objcopy can write zstd-compressed sections (binutils >= 2.40 built with zstd). */
export function objcopyHasZstd(): string | undefined {
  if (!commandExists('objcopy')) return 'objcopy not found';
  return run('objcopy', ['--help']).includes('zstd') ? undefined : 'objcopy lacks --compress-debug-sections=zstd';
}

/**
 * hello.c with zstd-compressed debug sections. gcc 12 has no `-gz=zstd`, so
 * objcopy compresses them after the link.
 */
export const helloZstd = () =>
  buildFixture({ name: 'hello-zstd', sources: [src('hello.c')], flags: ['-g3', '-O2'], post: [['objcopy', '--compress-debug-sections=zstd', '$OUT']] });

/** hello.c compiled, not linked: ET_REL, DWARF full of relocations. */
export const helloObject = () => buildFixture({ name: 'hello.o', sources: [src('hello.c')], flags: ['-c', '-g', '-O2'] });

/** The reason `gcc -m32 -c` does not work here, or undefined. */
export function m32Missing(): string | undefined {
  try {
    run('gcc', ['-m32', '-nostdlib', '-static', '-Wl,-e,f', '-x', 'c', '-o', '/dev/null', '-'], { input: 'int f(void) { return 0; }\n' });
    return undefined;
  } catch {
    return 'gcc -m32 cannot compile and link freestanding code';
  }
}

/** libshared.c as a 32-bit relocatable object (i386, REL relocations, TLS). It includes no headers, so no 32-bit libc is needed. */
export const lib32Object = () => buildFixture({ name: 'lib32.o', sources: [src('libshared.c')], flags: ['-m32', '-c', '-g', '-O2'] });

/** libshared.c as a freestanding 32-bit executable (ELF32, ET_EXEC), linked without any libc. */
export const lib32Exec = () =>
  buildFixture({ name: 'lib32-exec', sources: [src('libshared.c')], flags: ['-m32', '-fno-pic', '-g', '-O2', '-nostdlib', '-static', '-Wl,-e,exported_func'] });

/** Big-endian ELF64 and ELF32 executables (headers and symbols; see bigendian.c). */
export const bigEndian64 = () =>
  buildFixture({ name: 'be64', sources: [src('bigendian.c')], flags: ['-O2', '-nostdlib', '-static', '-fno-asynchronous-unwind-tables', '-Wl,--oformat=elf64-big', '-Wl,-e,f'] });
export const bigEndian32 = () =>
  buildFixture({ name: 'be32', sources: [src('bigendian.c')], flags: ['-m32', '-fno-pic', '-O2', '-nostdlib', '-static', '-fno-asynchronous-unwind-tables', '-Wl,--oformat=elf32-big', '-Wl,-e,f'] });

/** hello.c stripped, carrying MiniDebugInfo (`.gnu_debugdata`) built as Fedora does. */
export const helloMini = () =>
  buildFixture({
    name: 'hello-mini',
    sources: [src('hello.c')],
    flags: ['-g', '-O2', depsFlag([src('minidebuginfo.sh')])],
    post: [['sh', path.join(repoRoot, src('minidebuginfo.sh')), '$OUT']],
  });

/**
 * Two programs whose common DWARF dwz moved into `common.debug`
 * (`.gnu_debugaltlink` names it relative to them). Returns the first program.
 */
export const dwzPair = () =>
  buildFixture({
    name: 'dwz-a',
    sources: [src('dwz-a.c')],
    flags: ['-g', '-O2', depsFlag([src('dwz-b.c'), src('shapes.h')])],
    post: [
      ['gcc', '-g', '-O2', '-o', '$DIR/dwz-b', path.join(repoRoot, src('dwz-b.c'))],
      ['dwz', '-m', '$DIR/common.debug', '-M', 'common.debug', '$OUT', '$DIR/dwz-b'],
    ],
  });

/** hello.c with only `.debug_frame` (no unwind tables), CIE version 4 (address and segment sizes in the CIE). */
export const helloDebugFrame = () =>
  buildFixture({ name: 'hello-debug-frame', sources: [src('hello.c')], flags: ['-g', '-O2', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables', '-Wa,--gdwarf-cie-version=4'] });

/** hello.c whose `.eh_frame` CIEs are version 3 (ULEB128 return address column). */
export const helloCie3 = () => buildFixture({ name: 'hello-cie3', sources: [src('hello.c')], flags: ['-g', '-O0', '-Wa,--gdwarf-cie-version=3'] });
