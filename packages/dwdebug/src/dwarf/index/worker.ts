/**
 * Worker-thread entry of the name indexer: runs the job it is given and posts
 * the scan output back, transferring its typed arrays.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runIndexJob, type IndexJob } from './task.js';

const job = workerData as IndexJob;
try {
  const out = runIndexJob(job);
  // The arrays were made by slice(), so they own plain ArrayBuffers.
  const f = out.functions;
  const buffers = [out.keys, out.hashes, out.nameOf, out.die, out.tag, out.flags, out.declKey, f.die, f.kind, f.a, f.b, f.units].map((a) => a.buffer as ArrayBuffer);
  parentPort!.postMessage({ ok: true, out }, buffers);
} catch (err) {
  const e = err as { code?: string; message?: string; section?: string; offset?: number; file?: string };
  parentPort!.postMessage({ ok: false, error: { code: e.code ?? 'ERR_DWARF_INDEX', message: e.message ?? String(err), section: e.section, offset: e.offset, file: e.file } });
}
