import type { Addr } from '@stackdb/core';
import type { RspClient } from '../rsp/client.js';

/** The part of the RSP client the helper uses. */
export type StubAccess = Pick<RspClient, 'text' | 'readMemory' | 'maxRead'>;

const PAGE = 0x1000n;

/** A stub's `Exx` refusal (the RSP layer's `ERR_GDB_STUB`): the memory is not there. */
function refused(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ERR_GDB_STUB';
}

/** True when the stub offers QEMU's physical-memory mode (`qqemu.Supported` lists `PhyMemMode`). */
export async function stubHasPhysicalMode(stub: StubAccess): Promise<boolean> {
  try {
    return (await stub.text('qqemu.Supported', { allowEmpty: true })).split(';').includes('PhyMemMode');
  } catch {
    return false;
  }
}

/*
 * Physical memory through QEMU's gdbstub: `Qqemu.PhyMemMode:1` makes `m`/`M`/`X`
 * use guest physical addresses until `Qqemu.PhyMemMode:0`. The mode is global to
 * the stub, so the whole exchange is queued in one go: the RSP connection runs
 * requests in call order, and nothing the driver sends can fall between the two
 * switches. Chunks stop at page ends so a refusal marks the first missing page.
 */
async function inPhysicalMode<T>(stub: StubAccess, requests: () => Promise<T>[]): Promise<T[]> {
  const on = stub.text('Qqemu.PhyMemMode:1');
  const work = requests();
  const off = stub.text('Qqemu.PhyMemMode:0');
  const [onResult, ...results] = await Promise.allSettled([on, ...work]);
  await off;
  if (onResult!.status === 'rejected') throw onResult!.reason;
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
}

/** Reads guest physical memory through the stub; returns the bytes read before the first refused page. */
export async function stubReadPhysical(stub: StubAccess, address: Addr, buf: Uint8Array): Promise<number> {
  const pieces: { at: number; n: number }[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const a = address + BigInt(pos);
    const n = Math.min(stub.maxRead, buf.length - pos, Number(PAGE - (a % PAGE)));
    pieces.push({ at: pos, n });
    pos += n;
  }
  const got = await inPhysicalMode(stub, () => pieces.map((p) => stub.readMemory(address + BigInt(p.at), p.n).catch((err: unknown) => {
    if (refused(err)) return undefined;
    throw err;
  })));
  let done = 0;
  for (let i = 0; i < pieces.length; i++) {
    const bytes = got[i];
    if (!bytes) break;
    buf.set(bytes, pieces[i]!.at);
    done += bytes.length;
    if (bytes.length < pieces[i]!.n) break;
  }
  return done;
}

/**
 * Writes guest physical memory through the stub with hex `M` packets (one packet
 * each, so no fallback can land after physical mode is switched off); returns the
 * bytes written before the first refused page.
 */
export async function stubWritePhysical(stub: StubAccess, address: Addr, data: Uint8Array): Promise<number> {
  const pieces: { at: number; n: number }[] = [];
  for (let pos = 0; pos < data.length; ) {
    const a = address + BigInt(pos);
    const n = Math.min(stub.maxRead, data.length - pos, Number(PAGE - (a % PAGE)));
    pieces.push({ at: pos, n });
    pos += n;
  }
  const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
  const ok = await inPhysicalMode(stub, () => pieces.map((p) => {
    const a = address + BigInt(p.at);
    return stub.text(`M${a.toString(16)},${p.n.toString(16)}:${hex(data.subarray(p.at, p.at + p.n))}`).then((r) => r === 'OK', (err: unknown) => {
      if (refused(err)) return false;
      throw err;
    });
  }));
  let done = 0;
  for (let i = 0; i < pieces.length && ok[i]; i++) done += pieces[i]!.n;
  return done;
}
