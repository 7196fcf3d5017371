/**
 * Mutation fuzzing of the binary parsers with a fixed seed: real .eh_frame /
 * .eh_frame_hdr / .debug_frame bytes, ORC tables and ELF headers with
 * flipped, truncated and inserted bytes. Every failure must be a typed
 * DwarfError (ElfError included); every run must finish.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { DwarfError } from '../errors.js';
import { Binfile } from '../elf/binfile.js';
import { ElfFile } from '../elf/elf-file.js';
import { helloDebugFrame, helloPie } from '../elf/test-support/fixtures.js';
import { OrcTable } from './orc.js';
import { CfiTable } from './table.js';
import { mutate, prng } from './test-support/fuzz.js';

/** Runs fn; a thrown error must be a DwarfError. Returns whether it threw. */
function typedOnly(t: ExecutionContext, fn: () => void, what: string): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (!(err instanceof DwarfError)) t.fail(`${what}: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return true;
  }
}

test('mutated .eh_frame, .eh_frame_hdr and .debug_frame: typed errors only', async (t) => {
  const rnd = prng(0x5eed);
  let errors = 0;
  let runs = 0;
  for (const file of [helloPie(), helloDebugFrame()]) {
    const bin = await Binfile.open(file, { noDebugSearch: true });
    const s = bin.unwindSections();
    const eh = s.section('.eh_frame')!;
    const hdr = s.section('.eh_frame_hdr')!;
    const df = s.section('.debug_frame');
    const ehAddr = s.sectionAddress('.eh_frame')!;
    const hdrAddr = s.sectionAddress('.eh_frame_hdr')!;
    const pcs = [...CfiTable.fromBinfileSections(s).fdes('.eh_frame')].flatMap((f) => [f.start, (f.start + f.end) / 2n, f.end - 1n]);
    for (let i = 0; i < 1500; i++) {
      const which = i % 3;
      const table = () =>
        CfiTable.fromSections({
          littleEndian: true,
          addressSize: 8,
          ehFrame: { data: which === 0 ? mutate(eh, rnd) : eh, address: ehAddr },
          ehFrameHdr: { data: which === 1 ? mutate(hdr, rnd) : hdr, address: hdrAddr },
          ...(df ? { debugFrame: which === 2 ? mutate(df, rnd) : df } : {}),
        });
      runs++;
      if (typedOnly(t, () => {
        const tb = table();
        for (const pc of pcs) tb.rowFor(pc);
        for (const sec of ['.eh_frame', '.debug_frame'] as const) for (const f of tb.fdes(sec)) tb.rowsOf(f);
      }, `${file} run ${i}`)) errors++;
    }
    bin.close();
  }
  t.log(`${runs} mutated tables, ${errors} rejected with DwarfError`);
  t.true(errors > 0);
});

test('mutated ORC tables: typed errors only', (t) => {
  const rnd = prng(42);
  const ips = new DataView(new ArrayBuffer(400));
  const ent = new Uint8Array(600).map((_, i) => (i * 37) & 0xff);
  for (let i = 0; i < 100; i++) ips.setInt32(i * 4, 0x1000 + i * 16 - i * 4, true);
  for (let i = 0; i < 300; i++) {
    const ip = mutate(new Uint8Array(ips.buffer), rnd);
    const un = mutate(ent, rnd);
    typedOnly(t, () => {
      const orc = OrcTable.fromSections({ unwindIp: { data: ip, address: 0x5000n }, unwind: un, littleEndian: true, version: ((i % 3) + 1) as 1 | 2 | 3 });
      for (let pc = 0x5000n; pc < 0x7000n; pc += 0x40n) orc.entryFor(pc);
    }, `orc run ${i}`);
  }
  t.pass();
});

test('mutated ELF headers and section tables: typed errors only', async (t) => {
  const rnd = prng(7);
  const bin = await Binfile.open(helloPie(), { noDebugSearch: true });
  const bytes = bin.elf.readRaw(0, 1 << 20);
  const shoff = bin.elf.sections.length ? Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true)) : 0;
  bin.close();
  let rejected = 0;
  for (let i = 0; i < 400; i++) {
    const m = new Uint8Array(bytes);
    // Aim at the ELF header, the program headers and the section header table.
    const region = i % 3 === 0 ? [0, 64] : i % 3 === 1 ? [64, 64 + 13 * 56] : [shoff, m.length];
    for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) m[region[0]! + Math.floor(rnd() * (region[1]! - region[0]!))] = Math.floor(rnd() * 256);
    if (typedOnly(t, () => {
      const elf = ElfFile.fromBytes(m);
      for (const s of elf.sections) elf.sectionData(s);
    }, `elf run ${i}`)) rejected++;
  }
  t.log(`${rejected} of 400 mutated files rejected with typed errors`);
  t.pass();
});
