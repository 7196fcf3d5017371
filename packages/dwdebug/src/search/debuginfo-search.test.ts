import test from 'ava';
import { buildIdPath, debugLinkCandidates, hostPath } from './debuginfo-search.js';

test('hostPath applies the root prefix to absolute and relative target paths', (t) => {
  t.is(hostPath('/usr/bin/x'), '/usr/bin/x');
  t.is(hostPath('/usr/bin/x', '/srv/root'), '/srv/root/usr/bin/x');
  t.is(hostPath('usr/bin/x', '/srv/root'), '/srv/root/usr/bin/x');
  t.is(hostPath('/../etc/x', '/srv/root'), '/srv/root/etc/x');
});

test('build-id path layout', (t) => {
  t.is(buildIdPath('/usr/lib/debug', '93ac61ec5a8eb1396f9fbd350e3169a558528a40'), '/usr/lib/debug/.build-id/93/ac61ec5a8eb1396f9fbd350e3169a558528a40.debug');
});

test('debuglink candidates in gdb order, under the root prefix', (t) => {
  t.deepEqual(debugLinkCandidates('/opt/app/bin/prog', 'prog.debug', { rootPrefix: '/nonexistent-root', debugDirs: ['/usr/lib/debug'] }), [
    '/nonexistent-root/opt/app/bin/prog.debug',
    '/nonexistent-root/opt/app/bin/.debug/prog.debug',
    '/nonexistent-root/usr/lib/debug/opt/app/bin/prog.debug',
  ]);
});
