import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { qemuEnv, qemuhacksPath, ramFilesUnder } from './index.js';

test('qemuhacksPath names the built library, or fails with a code', (t) => {
  const saved = process.env.STACKDB_QEMUHACKS_LIB;
  try {
    delete process.env.STACKDB_QEMUHACKS_LIB;
    const lib = qemuhacksPath();
    t.true(path.isAbsolute(lib));
    t.true(lib.endsWith('/libqemuhacks.so'));
    process.env.STACKDB_QEMUHACKS_LIB = '/nonexistent/libqemuhacks.so';
    t.throws(() => qemuhacksPath(), { code: 'ERR_QEMUHACKS_NOT_BUILT' } as never);
  } finally {
    if (saved === undefined) delete process.env.STACKDB_QEMUHACKS_LIB;
    else process.env.STACKDB_QEMUHACKS_LIB = saved;
  }
});

test('qemuEnv preloads the library first and keeps other preloads', (t) => {
  const lib = qemuhacksPath();
  t.deepEqual(qemuEnv('/dev/shm/vm/', {}), { LD_PRELOAD: lib, QEMU_MEMPATH_PREFIX: '/dev/shm/vm/' });
  const env = qemuEnv('/dev/shm/vm/qemu', { LD_PRELOAD: `/usr/lib/other.so ${lib}:/x.so` });
  t.is(env.LD_PRELOAD, `${lib}:/usr/lib/other.so:/x.so`);
  t.is(env.QEMU_MEMPATH_PREFIX, '/dev/shm/vm/qemu');
  t.is(qemuEnv('relative/dir/', {}).QEMU_MEMPATH_PREFIX, path.resolve('relative/dir') + '/');
});

test('ramFilesUnder lists the RAM files under a prefix', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qemuhacks-'));
  try {
    for (const n of ['qemu_back_mem.pc.ram.abc123', 'qemu_back_mem.pc.ram.zzz', 'other']) fs.writeFileSync(path.join(dir, n), '');
    t.deepEqual(ramFilesUnder(dir + '/'), [path.join(dir, 'qemu_back_mem.pc.ram.abc123'), path.join(dir, 'qemu_back_mem.pc.ram.zzz')]);
    t.deepEqual(ramFilesUnder(path.join(dir, 'qemu_back_mem.pc.ram.a')), [path.join(dir, 'qemu_back_mem.pc.ram.abc123')]);
    t.deepEqual(ramFilesUnder(path.join(dir, 'missing/')), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
