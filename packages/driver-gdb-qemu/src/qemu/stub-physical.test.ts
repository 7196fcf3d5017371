import test from 'ava';
import { stubHasPhysicalMode, stubReadPhysical, stubWritePhysical, type StubAccess } from './stub-physical.js';

/*
 * A scripted stub with QEMU's PhyMemMode: requests run in call order, one after
 * another (as the RSP connection runs them), `m` reads physical or virtual memory
 * depending on the mode, and pages absent from the physical map are refused
 * with the RSP layer's `ERR_GDB_STUB`. Real QEMU is used in helper-vm.test.ts.
 */
class FakeStub implements StubAccess {
  readonly maxRead = 1000;
  readonly log: string[] = [];
  physical = false;
  failSwitch = false;
  readonly phys = new Map<bigint, number>();
  private queue: Promise<unknown> = Promise.resolve();

  private run<T>(what: string, fn: () => T): Promise<T> {
    this.log.push(what);
    const p = this.queue.then(() => new Promise<T>((resolve, reject) => setTimeout(() => {
      try {
        resolve(fn());
      } catch (err) {
        reject(err);
      }
    }, 1)));
    this.queue = p.catch(() => undefined);
    return p;
  }

  text(payload: string): Promise<string> {
    return this.run(payload.slice(0, 24), () => {
      if (payload === 'qqemu.Supported') return 'sstepbits;sstep;PhyMemMode';
      if (payload.startsWith('Qqemu.PhyMemMode:')) {
        if (this.failSwitch) throw Object.assign(new Error('E01'), { code: 'ERR_GDB_STUB' });
        this.physical = payload.endsWith('1');
        return 'OK';
      }
      const m = /^M([0-9a-f]+),([0-9a-f]+):([0-9a-f]*)$/.exec(payload);
      if (!m) return '';
      const a = BigInt('0x' + m[1]);
      if (!this.physical || !this.phys.has(a & ~0xfffn)) throw Object.assign(new Error('E14'), { code: 'ERR_GDB_STUB' });
      Buffer.from(m[3]!, 'hex').forEach((b, i) => this.phys.set(a + BigInt(i), b));
      return 'OK';
    });
  }

  readMemory(address: bigint, length: number): Promise<Uint8Array> {
    return this.run(`m${address.toString(16)},${length.toString(16)}`, () => {
      if (!this.physical) return new Uint8Array(length).fill(0xee); // what a virtual read would give
      if (!this.phys.has(address & ~0xfffn)) throw Object.assign(new Error('E14'), { code: 'ERR_GDB_STUB' });
      return Uint8Array.from({ length }, (_, i) => this.phys.get(address + BigInt(i)) ?? 0);
    });
  }

  /** Maps physical pages (marks them present, filled with their page number). */
  map(...pages: bigint[]): void {
    for (const p of pages) {
      this.phys.set(p, Number((p >> 12n) & 0xffn));
      for (let i = 1n; i < 0x1000n; i++) this.phys.set(p + i, Number((p >> 12n) & 0xffn));
    }
  }
}

test('reads are bracketed by physical mode, page by page, and stop at the first refused page', async (t) => {
  const stub = new FakeStub();
  stub.map(0x1000n, 0x2000n, 0x4000n);
  t.true(await stubHasPhysicalMode(stub));
  stub.log.length = 0;
  const buf = new Uint8Array(0x2800);
  t.is(await stubReadPhysical(stub, 0x1800n, buf), 0x1800, 'page 0x3000 is missing');
  t.is(buf[0], 1);
  t.is(buf[0x800], 2);
  t.is(stub.log[0], 'Qqemu.PhyMemMode:1');
  t.is(stub.log[stub.log.length - 1], 'Qqemu.PhyMemMode:0');
  t.deepEqual(stub.log.slice(1, 4), ['m1800,3e8', 'm1be8,3e8', 'm1fd0,30'], 'chunks end at page boundaries');
  t.false(stub.physical);
});

test('nothing another caller sends can fall inside the physical-mode bracket', async (t) => {
  const stub = new FakeStub();
  stub.map(0x1000n);
  const [phys, virt] = await Promise.all([
    (async () => {
      const b = new Uint8Array(16);
      await stubReadPhysical(stub, 0x1000n, b);
      return b;
    })(),
    stub.readMemory(0xffffffff81000000n, 16),
  ]);
  t.deepEqual([...phys], new Array(16).fill(1));
  t.deepEqual([...virt], new Array(16).fill(0xee));
});

test('a refused switch fails the read; the switch back is still sent', async (t) => {
  const stub = new FakeStub();
  stub.failSwitch = true;
  await t.throwsAsync(stubReadPhysical(stub, 0x1000n, new Uint8Array(8)), { code: 'ERR_GDB_STUB' } as never);
  t.is(stub.log[stub.log.length - 1], 'Qqemu.PhyMemMode:0');
});

test('writes use M packets inside the bracket', async (t) => {
  const stub = new FakeStub();
  stub.map(0x1000n);
  t.is(await stubWritePhysical(stub, 0x1ffen, Uint8Array.of(9, 8, 7, 6)), 2);
  t.is(stub.phys.get(0x1ffen), 9);
  t.is(stub.phys.get(0x1fffn), 8);
  t.deepEqual(stub.log, ['Qqemu.PhyMemMode:1', 'M1ffe,2:0908', 'M2000,2:0706', 'Qqemu.PhyMemMode:0']);
});
