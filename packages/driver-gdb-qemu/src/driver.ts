import { StackdbError, UsageError, type BaseDriverModule, type OptionValue, type TargetSpec } from '@stackdb/core';
import { GdbTarget } from './gdb-target.js';
import type { StubHelper } from './helper.js';
import { RspClient } from './rsp/client.js';
import type { TransportOptions } from './rsp/transport.js';

/** Where `--gdb-host/--gdb-port/--gdb-sockfile/--gdb-udp` point (default `tcp localhost:1234`). */
export function transportFromOptions(o: Readonly<Record<string, OptionValue>>): TransportOptions {
  if (typeof o.gdbSockfile === 'string') {
    if (o.gdbUdp === true || o.gdbHost !== undefined || o.gdbPort !== undefined) throw new UsageError('--gdb-sockfile cannot be combined with --gdb-host, --gdb-port or --gdb-udp');
    return { kind: 'unix', path: o.gdbSockfile };
  }
  const host = typeof o.gdbHost === 'string' ? o.gdbHost : 'localhost';
  const port = typeof o.gdbPort === 'number' ? o.gdbPort : 1234;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--gdb-port expects a port number from 1 to 65535 (got ${String(o.gdbPort)})`);
  return { kind: o.gdbUdp === true ? 'udp' : 'tcp', host, port };
}

/** The shape the QEMU helper module exports. */
interface QemuHelperModule {
  createQemuHelper(options: Readonly<Record<string, OptionValue>>, client: RspClient): Promise<StubHelper> | StubHelper;
}

/** Loads the QEMU helper (`./qemu/index.js`) only when `--qemu` asks for it. */
async function loadQemuHelper(options: Readonly<Record<string, OptionValue>>, client: RspClient): Promise<StubHelper> {
  // A variable specifier keeps the helper out of the static module graph.
  const specifier = './qemu/index.js';
  let mod: Partial<QemuHelperModule>;
  try {
    mod = (await import(specifier)) as Partial<QemuHelperModule>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') throw new StackdbError('ERR_GDB_NO_HELPER', '--qemu: the QEMU helper is not part of this build of @stackdb/driver-gdb-qemu (its module qemu/index.js is missing)', { cause: err });
    throw new StackdbError('ERR_GDB_NO_HELPER', `--qemu: the QEMU helper failed to load: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.createQemuHelper !== 'function') throw new StackdbError('ERR_GDB_NO_HELPER', '--qemu: the QEMU helper module does not export createQemuHelper()');
  return mod.createQemuHelper(options, client);
}

/** Creates (but does not open) a gdb target from parsed options: connects, negotiates, loads a helper. */
export async function createGdbTargetFromSpec(spec: TargetSpec): Promise<GdbTarget> {
  const o = spec.options;
  const memcache = o.memcacheMmapSize;
  const where = transportFromOptions(o);
  // Datagrams can be lost: keep acknowledgments, and resend what was not acknowledged.
  const client = await RspClient.connect(where, where.kind === 'udp' ? { keepAcks: true, retransmitAfterMs: 500 } : {});
  try {
    const helper = o.qemu === true ? await loadQemuHelper(o, client) : undefined;
    return new GdbTarget({
      client,
      spec,
      ...(helper ? { helper } : {}),
      ...(typeof o.mainFilename === 'string' ? { mainFilename: o.mainFilename } : {}),
      ...(typeof memcache === 'number' ? { memcacheSize: memcache } : {}),
      ...(spec.common.debugfileRootPrefix ? { rootPrefix: spec.common.debugfileRootPrefix } : {}),
      softBreakpoints: spec.common.softBreakpoints,
    });
  } catch (err) {
    await client.release();
    throw err;
  }
}

/** The `gdb` base driver (the entry module the registry loads). */
export const driver: BaseDriverModule = {
  createTarget: (spec) => createGdbTargetFromSpec(spec),
};
