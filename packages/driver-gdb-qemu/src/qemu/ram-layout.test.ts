import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { RamLayout, layoutFromFlatView, parseFlatView, pcMachineType, pcRamLayout, pcRamSplit } from './ram-layout.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/qemu/fixtures');
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8');
const MiB = 1n << 20n;
const GiB = 1n << 30n;

test('the flat view of the test VM (pc, 512 MiB): RAM and read-only shadows of pc.ram', (t) => {
  const { block, layout } = layoutFromFlatView(parseFlatView(fixture('mtree-pc-512M.txt')));
  t.is(block, 'pc.ram');
  t.is(layout.fileBytes, 512n * MiB);
  t.deepEqual(layout.locate(0x1000000n), { offset: 0x1000000n, contiguous: 512n * MiB - 0x1000000n, writable: true });
  t.deepEqual(layout.locate(0xc3000n), { offset: 0xc3000n, contiguous: 0xe8000n - 0xc3000n, writable: false });
  t.is(layout.locate(512n * MiB), undefined);
  t.is(layout.locate(0xfffc0000n), undefined, 'the BIOS ROM is not pc.ram');
});

test('q35 with 3 GiB: RAM above 2 GiB is moved above 4 GiB', (t) => {
  const { layout } = layoutFromFlatView(parseFlatView(fixture('mtree-q35-3G.txt')));
  t.is(layout.fileBytes, 3n * GiB);
  t.deepEqual(layout.locate(0x7fffffffn), { offset: 0x7fffffffn, contiguous: 1n, writable: true });
  t.is(layout.locate(0x80000000n), undefined);
  t.deepEqual(layout.locate(4n * GiB + 0x1234n), { offset: 2n * GiB + 0x1234n, contiguous: GiB - 0x1234n, writable: true });
});

test('the flat view is found by its address space, not its number; VGA and ROM lines are skipped', (t) => {
  const text = [
    'FlatView #0', ' AS "I/O", root: io', ' Root memory region: io', '  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan', '',
    'FlatView #1', ' AS "memory", root: system', ' Root memory region: system',
    '  0000000000000000-000000000009ffff (prio 0, ram): pc.ram',
    '  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem',
    '  00000000000c0000-00000000000c9fff (prio 0, rom): pc.ram @00000000000c0000',
    '  0000000000100000-000000001fffffff (prio 0, ram): pc.ram @0000000000100000',
    '  00000000fd000000-00000000fdffffff (prio 1, ram): vga.vram',
    '  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios',
  ].join('\n');
  const { layout } = layoutFromFlatView(parseFlatView(text));
  t.deepEqual(layout.segments.map((s) => [s.start, s.end, s.offset]), [[0n, 0xa0000n, 0n], [0xc0000n, 0xca000n, 0xc0000n], [0x100000n, 0x20000000n, 0x100000n]]);
  t.is(layout.locate(0xfd000000n), undefined, 'video RAM is another block');
  t.throws(() => parseFlatView('FlatView #0\n AS "I/O", root: io\n'), { code: 'ERR_QEMU_RAM_LAYOUT' } as never);
});

test('PC split rules, as measured on QEMU 7.2 with info mtree -f', (t) => {
  // [chipset, RAM, options, below 4 GiB, above 4 GiB]
  const cases: ['pc' | 'q35', bigint, object, bigint, bigint][] = [
    ['pc', 512n * MiB, {}, 512n * MiB, 0n],
    ['pc', 3583n * MiB, {}, 3583n * MiB, 0n],
    ['pc', 3584n * MiB, {}, 3n * GiB, 512n * MiB],
    ['pc', 4n * GiB, {}, 3n * GiB, GiB],
    ['pc', 3584n * MiB, { gigabyteAlign: false }, 3584n * MiB, 0n],
    ['pc', 2n * GiB, { maxRamBelow4g: GiB }, GiB, GiB],
    ['q35', 2815n * MiB, {}, 2815n * MiB, 0n],
    ['q35', 2816n * MiB, {}, 2n * GiB, 768n * MiB],
    ['q35', 4n * GiB, {}, 2n * GiB, 2n * GiB],
  ];
  for (const [chipset, ramBytes, opts, below4g, above4g] of cases) {
    t.deepEqual(pcRamSplit({ chipset, ramBytes, ...opts }), { below4g, above4g }, `${chipset} ${ramBytes / MiB} MiB ${Object.keys(opts).join(',')}`);
  }
  const layout = pcRamLayout({ chipset: 'pc', ramBytes: 4n * GiB });
  t.is(layout.locate(0xa0000n), undefined, 'the legacy window is left to QEMU');
  t.deepEqual(layout.locate(0xbfffffffn), { offset: 0xbfffffffn, contiguous: 1n, writable: true });
  t.deepEqual(layout.locate(4n * GiB), { offset: 3n * GiB, contiguous: GiB, writable: true });
  t.is(layout.fileBytes, 4n * GiB);
});

test('machine type names', (t) => {
  t.deepEqual(pcMachineType('pc-i440fx-7.2-machine'), { chipset: 'pc', gigabyteAlign: true });
  t.deepEqual(pcMachineType('pc-i440fx-1.6'), { chipset: 'pc', gigabyteAlign: false });
  t.deepEqual(pcMachineType('pc-q35-2.0-machine'), { chipset: 'q35', gigabyteAlign: true });
  t.deepEqual(pcMachineType('q35'), { chipset: 'q35', gigabyteAlign: true });
  t.is(pcMachineType('microvm-machine'), undefined);
});

test('overlapping segments are refused', (t) => {
  t.throws(() => new RamLayout([{ start: 0n, end: 0x2000n, offset: 0n, writable: true }, { start: 0x1000n, end: 0x3000n, offset: 0x1000n, writable: true }]), { code: 'ERR_QEMU_RAM_LAYOUT' } as never);
});
