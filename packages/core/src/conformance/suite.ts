import { MemoryError, StackdbError } from '../errors.js';
import type { Target } from '../target/target.js';

/** The slice of ava's `test` the suite needs (core does not depend on ava). */
export interface SuiteTest {
  (title: string, fn: (t: SuiteAssertions) => Promise<void> | void): void;
  serial: (title: string, fn: (t: SuiteAssertions) => Promise<void> | void) => void;
}

/** The assertions the suite uses (a subset of ava's ExecutionContext). */
export interface SuiteAssertions {
  is(actual: unknown, expected: unknown, message?: string): void;
  not(actual: unknown, expected: unknown, message?: string): void;
  true(actual: boolean, message?: string): void;
  deepEqual(actual: unknown, expected: unknown, message?: string): void;
  fail(message?: string): void;
  pass(message?: string): void;
  log(...values: unknown[]): void;
}

/** What a driver's factory returns: a created (not yet opened) target and facts about it. */
export interface ConformanceFixture {
  readonly target: Target;
  /** A readable address and the bytes found there. */
  readonly known?: { readonly address: bigint; readonly bytes: Uint8Array };
  /** An executable address where a breakpoint may be placed without the target reaching it during the test. */
  readonly code?: bigint;
  /** A writable range of the target that the test may change (and restores). */
  readonly scratch?: { readonly address: bigint; readonly length: number };
  /** An address that is not mapped. */
  readonly unmapped?: bigint;
  /** Releases whatever the factory started (the debuggee, a stub). */
  readonly dispose?: () => Promise<void>;
}

async function withFixture(factory: () => Promise<ConformanceFixture>, fn: (f: ConformanceFixture) => Promise<void>): Promise<void> {
  const f = await factory();
  try {
    await f.target.open();
    await fn(f);
  } finally {
    await f.target.close().catch(() => undefined);
    await f.dispose?.();
  }
}

function codeOf(err: unknown): string | undefined {
  return err instanceof StackdbError ? err.code : undefined;
}

/**
 * The shared conformance suite (after abstract-level's): every driver adopts it
 * in one line against its real target, and the capability manifest decides which
 * parts apply. It grows with each capability the core contracts gain.
 *
 * ```ts
 * import test from 'ava';
 * import { suite } from '@stackdb/core/conformance';
 * suite({ test, name: 'ptrace', factory: async () => ({ target, known, scratch }) });
 * ```
 */
export function suite(opts: { test: SuiteTest; name: string; factory: () => Promise<ConformanceFixture> }): void {
  const { test, factory, name } = opts;
  const title = (s: string) => `[conformance ${name}] ${s}`;

  test(title('open pauses the target; threads and registers are there'), (t) => withFixture(factory, async ({ target }) => {
    t.is(target.status, 'paused');
    const threads = await target.threads();
    t.true(threads.length >= 1, 'at least one thread');
    for (const th of threads) {
      const regs = await th.registers();
      t.true(regs.pc !== undefined && regs.pc !== 0n, `thread ${th.tid} has a pc`);
      t.true(regs.sp !== undefined, `thread ${th.tid} has a sp`);
      t.is((await target.thread(th.tid)).tid, th.tid);
    }
    try {
      await target.thread(2 ** 30);
      t.fail('an unknown thread id must throw');
    } catch (err) {
      t.is(codeOf(err), 'ERR_NO_THREAD');
    }
  }));

  test(title('regions are listed and one holds the pc'), (t) => withFixture(factory, async ({ target }) => {
    const regions = await target.regions();
    t.true(regions.length > 0);
    const [th] = await target.threads();
    const pc = await th!.pc();
    t.true(regions.some((r) => r.start <= pc && pc < r.end), `pc 0x${pc.toString(16)} is in a region`);
  }));

  test(title('memory reads return known bytes; unmapped memory is a MemoryError'), (t) => withFixture(factory, async (f) => {
    const { target } = f;
    if (f.known) t.deepEqual(await target.read(f.known.address, f.known.bytes.length), f.known.bytes);
    if (f.unmapped !== undefined) {
      try {
        await target.read(f.unmapped, 16);
        t.fail('reading unmapped memory must throw');
      } catch (err) {
        t.true(err instanceof MemoryError, 'a MemoryError');
        t.is(codeOf(err), 'ERR_MEMORY');
        t.is((err as MemoryError).address, f.unmapped);
      }
    }
    if (f.known && f.unmapped === undefined) t.pass();
  }));

  test(title('memory writes read back, and writes are refused when read-only'), (t) => withFixture(factory, async (f) => {
    const { target } = f;
    if (!f.scratch) return t.pass('no scratch range');
    const before = await target.read(f.scratch.address, f.scratch.length);
    const pattern = Uint8Array.from({ length: f.scratch.length }, (_, i) => (i * 37 + 11) & 0xff);
    if (target.capabilities.readOnly) {
      try {
        await target.write(f.scratch.address, pattern);
        t.fail('a read-only target must refuse writes');
      } catch (err) {
        t.is(codeOf(err), 'ERR_NOT_SUPPORTED');
      }
      return;
    }
    await target.write(f.scratch.address, pattern);
    t.deepEqual(await target.read(f.scratch.address, f.scratch.length), pattern);
    await target.write(f.scratch.address, before);
    t.deepEqual(await target.read(f.scratch.address, f.scratch.length), before);
  }));

  test(title('register writes read back'), (t) => withFixture(factory, async ({ target }) => {
    const [th] = await target.threads();
    if (!target.capabilities.writeRegisters) {
      try {
        await th!.setRegister('rbx', 1n);
        t.fail('writing registers must be refused');
      } catch (err) {
        t.is(codeOf(err), 'ERR_NOT_SUPPORTED');
      }
      return;
    }
    const rbx = await th!.register('rbx');
    await th!.setRegister('rbx', 0x1122334455667788n);
    t.is(await th!.register('rbx'), 0x1122334455667788n);
    await th!.setRegister('rbx', rbx);
    t.is(await th!.register('rbx'), rbx);
  }));

  test(title('software breakpoints are hidden from reads and removed cleanly'), (t) => withFixture(factory, async (f) => {
    const { target } = f;
    if (!target.capabilities.swBreakpoints || f.code === undefined) return t.pass('no software breakpoints');
    const before = await target.read(f.code, 8);
    await target.swBreakpoints.insert(f.code);
    t.deepEqual(await target.read(f.code, 8), before, 'reads show the original bytes');
    await target.swBreakpoints.remove(f.code);
    t.deepEqual(await target.read(f.code, 8), before);
    t.is(target.swBreakpoints.addresses().length, 0);
  }));

  test(title('resume, pause and detach'), (t) => withFixture(factory, async ({ target }) => {
    if (!target.capabilities.execution) {
      try {
        await target.resume();
        t.fail('resume must be refused');
      } catch (err) {
        t.is(codeOf(err), 'ERR_NOT_SUPPORTED');
      }
      return;
    }
    await target.resume();
    t.is(target.status, 'running');
    await target.pause();
    t.is(target.status, 'paused');
    t.true((await target.threads()).length >= 1);
    await target.detach();
    t.is(target.status, 'detached');
  }));
}
