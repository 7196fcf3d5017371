#!/usr/bin/env node
// The Debian packages the real-system tests and benchmarks need.
//   system-deps.mjs list     print them
//   system-deps.mjs ensure   install the missing ones when running as root under CI=true
//                            (or STACKDB_INSTALL_SYSTEM_DEPS=1); otherwise name them and go on,
//                            the tests that need them skip with that reason (and fail under CI).
import { spawnSync } from 'node:child_process';

export const packages = [
  'gcc', 'g++', 'make', 'python3', 'binutils', 'procps', 'file',
  'gdb', 'gdbserver', 'elfutils', 'valgrind', 'libc6-dbg', 'clang', 'dwz', 'zstd', 'xz-utils',
  'busybox-static', 'cpio', 'qemu-system-x86', 'linux-image-amd64', 'linux-image-amd64-dbg',
  'php8.2-cli', 'php8.2-dev', 'libxen-dev', 'python3-drgn', 'hyperfine', 'strace', 'seabios',
];

function missing() {
  return packages.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

const cmd = process.argv[2] ?? 'list';
if (cmd === 'list') {
  console.log(packages.join(' '));
} else if (cmd === 'ensure') {
  const absent = missing();
  if (absent.length === 0) process.exit(0);
  const wantInstall = process.env.CI === 'true' || process.env.STACKDB_INSTALL_SYSTEM_DEPS === '1';
  if (wantInstall && process.getuid?.() === 0) {
    console.log(`installing Debian packages: ${absent.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const upd = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const inst = upd.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...absent], { stdio: 'inherit', env });
    if (!inst || inst.status !== 0) {
      console.error(`could not install: ${absent.join(' ')}`);
      process.exit(1);
    }
  } else {
    console.log(`note: Debian packages absent (tests needing them are skipped): ${absent.join(' ')}`);
  }
} else {
  console.error(`usage: system-deps.mjs list|ensure`);
  process.exit(2);
}
