import test from 'ava';
import { VirshMonitor, virshHmpArgs, virshQmpArgs, type Runner } from './virsh.js';

// libvirt is not installed on our machines: these check the command lines and the
// parsing of virsh's output only; nothing here has run against a real libvirt.

test('command construction', (t) => {
  t.deepEqual(virshQmpArgs('vm1', 'query-status'), ['qemu-monitor-command', 'vm1', '{"execute":"query-status"}']);
  t.deepEqual(virshQmpArgs('vm1', 'human-monitor-command', { 'command-line': 'info registers', 'cpu-index': 1 }, 'qemu:///system'), [
    '-c', 'qemu:///system', 'qemu-monitor-command', 'vm1', '{"execute":"human-monitor-command","arguments":{"command-line":"info registers","cpu-index":1}}',
  ]);
  t.deepEqual(virshHmpArgs('vm 2', 'info mtree -f'), ['qemu-monitor-command', 'vm 2', '--hmp', 'info mtree -f']);
});

function fakeVirsh(answers: Record<string, { stdout?: string; stderr?: string; code?: number }>): { run: Runner; calls: string[][] } {
  const calls: string[][] = [];
  const run: Runner = async (file, args) => {
    calls.push([file, ...args]);
    const a = answers[args[args.length - 1]!] ?? { code: 1, stderr: 'error: unexpected' };
    return { stdout: a.stdout ?? '', stderr: a.stderr ?? '', code: a.code ?? 0 };
  };
  return { run, calls };
}

test('QMP replies, errors and HMP through virsh', async (t) => {
  const { run, calls } = fakeVirsh({
    '{"execute":"query-status"}': { stdout: '{"return":{"status":"running","singlestep":false,"running":true},"id":"libvirt-41"}\n' },
    '{"execute":"bogus"}': { stdout: '{"id":"libvirt-42","error":{"class":"CommandNotFound","desc":"The command bogus has not been found"}}\n' },
    'info registers': { stdout: 'RAX=0000000000000001 RBX=0000000000000002\r\n' },
    '{"execute":"human-monitor-command","arguments":{"command-line":"info registers","cpu-index":1}}': { stdout: '{"return":"RAX=0000000000000003\\r\\n","id":"libvirt-43"}' },
    '{"execute":"query-kvm"}': { code: 1, stderr: "error: failed to get domain 'vm1'\n" },
  });
  const m = new VirshMonitor('vm1', { run, virsh: '/usr/bin/virsh' });
  t.is(m.where, 'libvirt domain vm1');
  t.deepEqual(await m.execute('query-status'), { status: 'running', singlestep: false, running: true });
  t.like(await t.throwsAsync(m.execute('bogus')), { code: 'ERR_QMP_COMMAND', errorClass: 'CommandNotFound' });
  t.is(await m.hmp('info registers'), 'RAX=0000000000000001 RBX=0000000000000002\n');
  t.is(await m.hmp('info registers', 1), 'RAX=0000000000000003\n');
  const failed = await t.throwsAsync(m.execute('query-kvm'), { code: 'ERR_QEMU_VIRSH' } as never);
  t.regex(failed!.message, /failed to get domain 'vm1'/);
  t.deepEqual(calls[0], ['/usr/bin/virsh', 'qemu-monitor-command', 'vm1', '{"execute":"query-status"}']);
  t.deepEqual(calls[2], ['/usr/bin/virsh', 'qemu-monitor-command', 'vm1', '--hmp', 'info registers']);
  const missing = new VirshMonitor('vm1', { virsh: '/nonexistent/virsh' });
  t.like(await t.throwsAsync(missing.execute('query-status')), { code: 'ERR_QEMU_VIRSH' });
});
