import net from 'node:net';
import { VmError } from './errors.js';

/** The guest's serial shell. */
export interface GuestConsole {
  /**
   * Runs one shell command line in the guest and returns its output (stdout and
   * stderr, `\r\n` turned into `\n`). Rejects with `ERR_VM_CONSOLE` when the command
   * exits non-zero or does not finish within `timeoutMs`. Commands run one at a time.
   */
  run(cmd: string, opts?: { timeoutMs?: number; allowFailure?: boolean }): Promise<string>;
  /** Closes the connection (the guest shell keeps running). */
  close(): void;
}

/*
 * The guest's shell sits on a serial port that QEMU exposes as a UNIX socket. The
 * tty echoes what we type, so each command is framed by markers written with a
 * split quote (`echo "@@B""<n>"`): the echo shows the quotes, the output does not,
 * and only the real output lines match. The end marker carries the exit status.
 */
export function openConsole(socketPath: string): GuestConsole {
  let sock: net.Socket | undefined;
  let buf = '';
  let seq = 0;
  let chain: Promise<unknown> = Promise.resolve();
  let waiter: (() => void) | undefined;

  const connect = (): Promise<net.Socket> => new Promise((resolve, reject) => {
    if (sock && !sock.destroyed) return resolve(sock);
    const s = net.createConnection(socketPath);
    s.once('connect', () => {
      sock = s;
      resolve(s);
    });
    s.once('error', (err) => reject(new VmError('ERR_VM_CONSOLE', `guest console ${socketPath}: ${err.message}`, { cause: err })));
    s.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      waiter?.();
    });
    s.on('close', () => {
      if (sock === s) sock = undefined;
      waiter?.();
    });
  });

  const runOne = async (cmd: string, timeoutMs: number, allowFailure: boolean): Promise<string> => {
    const s = await connect();
    const n = ++seq;
    const begin = `@@B${n}@@`;
    const endRe = new RegExp(`@@E${n}:(\\d+)@@`);
    buf = '';
    s.write(`echo "@@B""${n}@@"; ${cmd}; echo "@@E""${n}:$?@@"\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const b = buf.indexOf(begin + '\r\n');
      const m = b >= 0 ? endRe.exec(buf.slice(b)) : null;
      if (m) {
        const out = buf.slice(b + begin.length + 2, b + m.index).replaceAll('\r\n', '\n');
        buf = '';
        const status = Number(m[1]);
        if (status !== 0 && !allowFailure) throw new VmError('ERR_VM_CONSOLE', `guest command failed with status ${status}: ${cmd}: ${out.trim().split('\n').pop() ?? ''}`);
        return out;
      }
      if (!sock) throw new VmError('ERR_VM_CONSOLE', `guest console closed while running: ${cmd}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new VmError('ERR_VM_CONSOLE', `guest command timed out after ${timeoutMs} ms: ${cmd}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      waiter = undefined;
    }
  };

  return {
    run(cmd, opts = {}) {
      const p = chain.then(() => runOne(cmd, opts.timeoutMs ?? 30_000, opts.allowFailure ?? false));
      chain = p.catch(() => undefined);
      return p;
    },
    close() {
      sock?.destroy();
      sock = undefined;
    },
  };
}
