import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { run, systemTest } from '@stackdb/test-support';
import { Binfile } from './binfile.js';
import { ET } from './constants.js';
import { ElfFile } from './elf-file.js';
import { relocationsFor } from './relocate.js';
import { lib32Object, helloObject, m32Missing } from './test-support/fixtures.js';

const VMLINUX_DIR = '/usr/lib/debug/boot';
const vmlinux = () => (fs.existsSync(VMLINUX_DIR) ? fs.readdirSync(VMLINUX_DIR).find((f) => f.startsWith('vmlinux-')) : undefined);
const MODULES = '/usr/lib/debug/lib/modules';
function smallModule(): string | undefined {
  if (!fs.existsSync(MODULES)) return undefined;
  for (const k of fs.readdirSync(MODULES)) {
    const p = path.join(MODULES, k, 'kernel/fs/binfmt_misc.ko');
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

const DEBUG_SECTIONS = ['.debug_info', '.debug_line', '.debug_loclists', '.debug_rnglists', '.debug_aranges', '.debug_loc', '.debug_ranges', '.debug_frame', '.debug_str_offsets', '.debug_addr'];

/**
 * The oracle: readelf relocates ET_REL debug sections itself when dumping
 * them. Replace each debug section of a copy with our relocated bytes and
 * drop its relocations; the copy must then dump exactly like the original.
 */
async function checkAgainstReadelf(t: ExecutionContext, file: string): Promise<void> {
  const bin = await Binfile.open(file, { noDebugSearch: true });
  t.teardown(() => bin.close());
  t.is(bin.type, ET.REL);
  const dw = bin.dwarf()!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdebug-reloc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const args: string[] = [];
  let relocated = 0;
  for (const name of DEBUG_SECTIONS) {
    const sec = bin.elf.section(name);
    if (!sec || !bin.elf.hasContents(sec)) continue;
    if (relocationsFor(bin.elf, sec).length > 0) relocated++;
    const f = path.join(dir, name.slice(1));
    fs.writeFileSync(f, dw.section(name)!);
    args.push('--update-section', `${name}=${f}`);
  }
  t.true(relocated >= 2, 'the object has relocated debug sections');
  const copy = path.join(dir, 'copy.o');
  // Compressed inputs are decompressed first so the updated sections stay plain.
  run('objcopy', ['--decompress-debug-sections', '--remove-relocations=.debug_*', ...args, file, copy]);
  const dump = (f: string) => run('readelf', ['--debug-dump=info,lines,aranges,loc,Ranges', '-W', f]).replace(/^.*File: .*$/m, '');
  t.is(dump(copy), dump(file));
}

test('ET_REL x86-64 object: relocated debug sections dump like readelf relocates them', async (t) => {
  await checkAgainstReadelf(t, helloObject());
});

systemTest(test, 'ET_REL i386 object (REL, implicit addends)', [{ check: m32Missing, what: '32-bit compiler' }], async (t) => {
  const file = lib32Object();
  const elf = ElfFile.open(file);
  t.false(elf.is64);
  elf.close();
  await checkAgainstReadelf(t, file);
});

systemTest(test, 'kernel module debug file (.ko) is relocated', [{ check: () => (smallModule() ? undefined : 'no module debuginfo'), what: 'linux-image-amd64-dbg' }, { command: 'objcopy' }], async (t) => {
  await checkAgainstReadelf(t, smallModule()!);
});

systemTest(test, 'ET_EXEC vmlinux: its .rela.debug_* are never applied', [{ check: () => (vmlinux() ? undefined : 'no debug vmlinux'), what: 'linux-image-amd64-dbg' }], (t) => {
  const elf = ElfFile.open(path.join(VMLINUX_DIR, vmlinux()!));
  t.teardown(() => elf.close());
  t.is(elf.type, ET.EXEC);
  t.truthy(elf.section('.rela.debug_info'));
  t.deepEqual(relocationsFor(elf, elf.section('.debug_info')!), []);
});
