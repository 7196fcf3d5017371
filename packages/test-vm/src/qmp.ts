import net from 'node:net';
import { VmError } from './errors.js';

/**
 * The harness's own QMP monitor (a UNIX socket in the VM's directory, separate
 * from the TCP one the code under test uses, because a QMP socket serves one
 * client at a time). One connection per call: the harness needs it rarely.
 * Events are skipped; the first reply after the command is its answer.
 */
export async function qmpCall(socketPath: string, execute: string, args?: Record<string, unknown>, timeoutMs = 60_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    let buf = '';
    let stage: 'greeting' | 'capabilities' | 'command' = 'greeting';
    const timer = setTimeout(() => finish(new VmError('ERR_VM_QMP', `QMP ${execute} timed out after ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error, value?: unknown) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const send = (msg: object) => sock.write(JSON.stringify(msg) + '\n');
    sock.on('error', (err) => finish(new VmError('ERR_VM_QMP', `QMP ${socketPath}: ${err.message}`, { cause: err })));
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; event?: string; return?: unknown; error?: { class: string; desc: string } };
        if (msg.event !== undefined) continue;
        if (stage === 'greeting') {
          stage = 'capabilities';
          send({ execute: 'qmp_capabilities' });
        } else if (msg.error) {
          finish(new VmError('ERR_VM_QMP', `QMP ${stage === 'command' ? execute : 'qmp_capabilities'}: ${msg.error.class}: ${msg.error.desc}`));
        } else if (stage === 'capabilities') {
          stage = 'command';
          send(args === undefined ? { execute } : { execute, arguments: args });
        } else {
          finish(undefined, msg.return);
        }
      }
    });
  });
}
