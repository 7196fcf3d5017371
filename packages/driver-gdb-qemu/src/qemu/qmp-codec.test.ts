import test from 'ava';
import { QmpDecoder, classify, encodeCommand } from './qmp-codec.js';

const enc = new TextEncoder();

test('messages split across chunks and joined in one chunk come out whole', (t) => {
  const d = new QmpDecoder();
  const greeting = '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}\r\n';
  t.deepEqual(d.push(enc.encode(greeting.slice(0, 20))), []);
  const [g] = d.push(enc.encode(greeting.slice(20)));
  t.deepEqual(g, { kind: 'greeting', version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian' }, capabilities: ['oob'] });
  const two = d.push(enc.encode('{"return": {}, "id": "a"}\r\n{"timestamp": {"seconds": 10, "microseconds": 500000}, "event": "STOP"}\r\n'));
  t.deepEqual(two, [{ kind: 'return', id: 'a', value: {} }, { kind: 'event', event: { name: 'STOP', timestamp: 10.5 } }]);
});

test('multi-byte UTF-8 split between chunks survives', (t) => {
  const d = new QmpDecoder();
  const bytes = enc.encode('{"return": "é"}\n');
  const cut = bytes.indexOf(0xc3) + 1;
  t.deepEqual(d.push(bytes.subarray(0, cut)), []);
  t.deepEqual(d.push(bytes.subarray(cut)), [{ kind: 'return', value: 'é' }]);
});

test('errors and malformed input', (t) => {
  t.deepEqual(classify({ error: { class: 'CommandNotFound', desc: 'The command bogus has not been found' }, id: 7 }), {
    kind: 'error', id: 7, error: { class: 'CommandNotFound', desc: 'The command bogus has not been found' },
  });
  t.throws(() => new QmpDecoder().push(enc.encode('{"return": \n')), { code: 'ERR_QMP_PROTOCOL' } as never);
  t.throws(() => classify([1, 2]), { code: 'ERR_QMP_PROTOCOL' } as never);
  t.throws(() => classify({ something: 1 }), { code: 'ERR_QMP_PROTOCOL' } as never);
});

test('commands carry their id and arguments', (t) => {
  t.is(encodeCommand('query-status', undefined, 'x1'), '{"execute":"query-status","id":"x1"}\n');
  t.is(encodeCommand('human-monitor-command', { 'command-line': 'info registers', 'cpu-index': 1 }, 'x2'),
    '{"execute":"human-monitor-command","arguments":{"command-line":"info registers","cpu-index":1},"id":"x2"}\n');
});
