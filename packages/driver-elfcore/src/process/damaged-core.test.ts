import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { systemTest, type Need } from '@stackdb/test-support';
import { CoreFile } from '../core-file.js';
import { createCoreTarget } from '../create.js';
import { CoreFileError, CoreMemoryError } from '../errors.js';
import { KERNEL_CORES, makeKernelCore, threadsFixture, type TestCore } from '../test-support/cores.js';
import { ProcessCoreTarget } from './process-core-target.js';

/*
 * Damaged copies of a real kernel core: truncated in its memory, in its notes
 * and in its program headers, with a corrupt NT_FILE note, and files that are
 * not ELF cores at all. Whatever survives must still be readable; what is lost
 * must be named.
 */

const NEEDS: Need[] = [{ command: 'gcc', package: 'gcc' }, KERNEL_CORES];

let made: Promise<TestCore> | undefined;
const coreOnce = () => (made ??= makeKernelCore(threadsFixture()));

test.after.always(async () => {
  const c = await made?.catch(() => undefined);
  if (c) fs.rmSync(c.dir, { recursive: true, force: true });
});

/** A copy of the first `length` bytes of the core, optionally patched. */
async function damaged(name: string, length: (c: CoreFile) => number, patch?: (bytes: Buffer, c: CoreFile) => void): Promise<string> {
  const src = await coreOnce();
  const c = await CoreFile.open(src.core);
  try {
    const out = path.join(src.dir, name);
    const bytes = fs.readFileSync(src.core).subarray(0, length(c));
    patch?.(bytes, c);
    fs.writeFileSync(out, bytes);
    return out;
  } finally {
    await c.close();
  }
}

async function openProcess(file: string): Promise<ProcessCoreTarget> {
  const t = await createCoreTarget(file);
  if (!(t instanceof ProcessCoreTarget)) throw new Error('not a process core');
  await t.open();
  return t;
}

systemTest(test, 'a core truncated in its memory keeps threads, registers and the memory before the cut', NEEDS, async (t) => {
  const src = await coreOnce();
  // Cut in the middle of the largest segment (a thread stack).
  let cutSeg = -1;
  const file = await damaged('cut-memory', (c) => {
    const big = [...c.segments].sort((a, b) => b.filesz - a.filesz)[0]!;
    cutSeg = big.index;
    return big.offset + big.filesz / 2;
  });
  const whole = await openProcess(src.core);
  const cut = await openProcess(file);
  try {
    t.deepEqual(cut.problems.map((p) => p.code), ['ERR_CORE_TRUNCATED']);
    t.regex(cut.problems[0]!.message, /truncated: it has \d+ bytes, its segments need \d+; \d+ of \d+ memory segments are incomplete/);
    t.deepEqual((await cut.threads()).map((th) => th.tid), (await whole.threads()).map((th) => th.tid));
    for (const th of await cut.threads()) t.deepEqual((await th.registers()).toObject(), (await (await whole.thread(th.tid)).registers()).toObject());

    const seg = cut.core.segments.find((s) => s.index === cutSeg)!;
    const before = seg.vaddr + BigInt(seg.available) - 64n;
    t.deepEqual(await cut.read(before, 64), await whole.read(before, 64), 'the bytes before the cut');
    const err = await t.throwsAsync(cut.read(before, 128), { instanceOf: CoreMemoryError, code: 'ERR_MEMORY' });
    t.is(err?.reason, 'truncated');
    t.is(err?.address, before + 64n);
    t.is(err?.transferred, 64);
    t.regex(err?.message ?? '', new RegExp(`PT_LOAD segment ${cutSeg} .* needs file offset 0x[0-9a-f]+ but .*cut-memory ends at 0x[0-9a-f]+ \\(truncated core\\)`));
    // Text the core never held still comes from the mapped files.
    const [th] = await cut.threads();
    const pc = await th!.pc();
    t.deepEqual(await cut.read(pc, 16), await whole.read(pc, 16));
  } finally {
    await cut.close();
    await whole.close();
  }
});

systemTest(test, 'a core truncated inside its notes keeps the notes before the cut', NEEDS, async (t) => {
  const file = await damaged('cut-notes', (c) => {
    // Just after the second NT_PRSTATUS's header: one whole thread survives.
    const second = c.notes.filter((n) => n.name === 'CORE' && n.type === 1)[1]!;
    return second.fileOffset + 40;
  });
  const cut = await openProcess(file);
  try {
    const codes = cut.problems.map((p) => p.code);
    t.true(codes.includes('ERR_CORE_TRUNCATED'));
    t.regex(cut.problems.find((p) => /note segment/.test(p.message))!.message, /note segment \d+ is cut short by the end of the file \(\d+ of \d+ bytes\); notes after the first \d+ are lost/);
    const threads = await cut.threads();
    t.is(threads.length, 1);
    t.truthy((await threads[0]!.registers()).pc);
    t.is(cut.process?.fname, 'elfcore-threads');
  } finally {
    await cut.close();
  }
});

systemTest(test, 'a core truncated inside its program headers is refused naming the truncation', NEEDS, async (t) => {
  const file = await damaged('cut-phdrs', () => 64 + 56 * 3 + 10);
  const err = await t.throwsAsync(createCoreTarget(file), { instanceOf: CoreFileError, code: 'ERR_CORE_TRUNCATED' });
  t.regex(err?.message ?? '', /cut-phdrs: the file has 242 bytes but its program headers end at \d+: it is truncated/);
});

systemTest(test, 'a corrupt NT_FILE note is reported and the rest still works', NEEDS, async (t) => {
  const file = await damaged('bad-ntfile', (c) => c.size, (bytes, c) => {
    const nt = c.notes.find((n) => n.type === 0x46494c45)!;
    // The count word: far more entries than the note can hold.
    bytes.writeBigUInt64LE(1n << 40n, nt.fileOffset + 20);
  });
  const t2 = await openProcess(file);
  try {
    t.deepEqual(t2.problems.map((p) => p.code), ['ERR_CORE_NOTE']);
    t.regex(t2.problems[0]!.message, /bad-ntfile at offset 0x[0-9a-f]+: NT_FILE note claims 1099511627776 files but has room for \d+/);
    t.deepEqual(t2.mappedFiles(), []);
    t.is((await t2.threads()).length, 4);
    // Without NT_FILE the text the kernel left out is unavailable, and says so.
    const pc = await (await t2.threads())[0]!.pc();
    const err = await t.throwsAsync(t2.read(pc, 8), { instanceOf: CoreMemoryError });
    t.is(err?.reason, 'omitted');
  } finally {
    await t2.close();
  }
});

test('files that are not x86-64 ELF cores are refused with ERR_CORE_FORMAT', async (t) => {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'elfcore-bad-'));
  try {
    const text = path.join(dir, 'text');
    fs.writeFileSync(text, 'not a core at all, just some text that is long enough for a header.....\n');
    await t.throwsAsync(createCoreTarget(text), { instanceOf: CoreFileError, code: 'ERR_CORE_FORMAT', message: /text: not a readable ELF core: not an ELF file/ });

    await t.throwsAsync(createCoreTarget(process.execPath), { instanceOf: CoreFileError, code: 'ERR_CORE_FORMAT', message: /not a core file \(ELF type [23], expected ET_CORE 4\)/ });

    const kdump = path.join(dir, 'kdump');
    fs.writeFileSync(kdump, Buffer.concat([Buffer.from('KDUMP   '), Buffer.alloc(4096)]));
    await t.throwsAsync(createCoreTarget(kdump), { instanceOf: CoreFileError, code: 'ERR_CORE_FORMAT', message: /compressed kdump/ });

    await t.throwsAsync(createCoreTarget(path.join(dir, 'absent')), { instanceOf: CoreFileError, code: 'ERR_CORE_FILE', message: /absent: cannot open: ENOENT/ });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
