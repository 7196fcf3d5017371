import test from 'ava';
import { cacheLineFor } from '../gdb-target.js';
import { parseProcMaps } from '@stackdb/core';
import { parseAuxv, parseSvr4 } from '../images.js';
import { buildLayout, defaultX86_64Layout, layoutFromDescription } from './register-layout.js';
import { gdbToLinuxSignal, linuxToGdbSignal } from './signals.js';
import { isStopReply, parseStopReply } from './stop-reply.js';
import { formatThreadId, parseThreadId } from './thread-id.js';
import { parseXml, type XmlElement } from './xml.js';

test('stop replies: T with registers, thread, core and reasons', (t) => {
  const s = parseStopReply('T0506:0000000000000000;07:40e7ffffff7f0000;10:704bfef7ff7f0000;thread:p2827.2828;core:1;');
  t.is(s?.kind, 'signal');
  if (s?.kind !== 'signal') return;
  t.is(s.signal, 5);
  t.deepEqual(s.thread, { pid: 0x2827, tid: 0x2828 });
  t.is(s.core, 1);
  t.deepEqual([...s.registers.keys()], [6, 7, 0x10]);
  t.deepEqual(s.registers.get(0x10), Uint8Array.of(0x70, 0x4b, 0xfe, 0xf7, 0xff, 0x7f, 0, 0));
  t.deepEqual(parseStopReply('T05watch:404040;thread:1f;')?.kind === 'signal' && parseStopReply('T05watch:404040;thread:1f;'), { kind: 'signal', signal: 5, registers: new Map(), thread: { tid: 0x1f }, reason: { kind: 'watch', address: 0x404040n } });
  const sw = parseStopReply('T05swbreak:;thread:p1.1;');
  t.is(sw?.kind === 'signal' ? sw.reason?.kind : undefined, 'swbreak');
  const aw = parseStopReply('T05awatch:10;');
  t.deepEqual(aw?.kind === 'signal' ? aw.reason : undefined, { kind: 'awatch', address: 0x10n });
  // Unknown fields are skipped; unavailable expedited registers are left out.
  const u = parseStopReply('T02frobnicate:1;06:xxxxxxxxxxxxxxxx;thread:3;');
  t.deepEqual(u?.kind === 'signal' ? [u.signal, u.registers.size, u.thread?.tid] : undefined, [2, 0, 3]);
});

test('stop replies: S, W, X, w, N and malformed ones', (t) => {
  t.deepEqual(parseStopReply('S0b'), { kind: 'signal', signal: 11, registers: new Map() });
  t.deepEqual(parseStopReply('W00'), { kind: 'exited', code: 0 });
  // gdbserver writes exit statuses without padding.
  t.deepEqual(parseStopReply('W7;process:b60'), { kind: 'exited', code: 7, pid: 0xb60 });
  t.deepEqual(parseStopReply('Xb'), { kind: 'killed', signal: 11 });
  t.true(isStopReply('W7;process:b60'));
  t.deepEqual(parseStopReply('W01;process:2a'), { kind: 'exited', code: 1, pid: 42 });
  t.deepEqual(parseStopReply('X09'), { kind: 'killed', signal: 9 });
  t.deepEqual(parseStopReply('w00;p1.2'), { kind: 'thread-exited', code: 0, thread: { pid: 1, tid: 2 } });
  t.deepEqual(parseStopReply('N'), { kind: 'no-resumed' });
  for (const bad of ['', 'T', 'Tzz', 'W', 'W01;bogus', 'Wzz', 'S05x', 'Q05', 'T05thread:zz;']) t.is(parseStopReply(bad), undefined, bad);
  t.true(isStopReply('T05thread:1;'));
  t.false(isStopReply('OK'));
  t.false(isStopReply('E01'));
});

test('thread ids with and without the multiprocess extension', (t) => {
  t.deepEqual(parseThreadId('p1f.2a'), { pid: 0x1f, tid: 0x2a });
  t.deepEqual(parseThreadId('2a'), { tid: 0x2a });
  t.deepEqual(parseThreadId('-1'), { tid: -1 });
  t.deepEqual(parseThreadId('p1.-1'), { pid: 1, tid: -1 });
  t.deepEqual(parseThreadId('p7'), { pid: 7, tid: -1 });
  t.is(parseThreadId('pz.1'), undefined);
  t.is(parseThreadId(''), undefined);
  t.is(formatThreadId({ pid: 0x1f, tid: 0x2a }, true), 'p1f.2a');
  t.is(formatThreadId({ pid: 0x1f, tid: 0x2a }, false), '2a');
  t.is(formatThreadId({ tid: -1 }, false), '-1');
  t.is(formatThreadId({ tid: 0 }, true), 'p0.0');
});

test('GDB and Linux signal numbers', (t) => {
  for (const [gdb, linux] of [[5, 5], [2, 2], [10, 7], [11, 11], [12, 31], [17, 19], [19, 18], [20, 17], [30, 10], [31, 12], [45, 33], [77, 32]]) {
    t.is(gdbToLinuxSignal(gdb!), linux, `gdb ${gdb}`);
    t.is(linuxToGdbSignal(linux!), gdb, `linux ${linux}`);
  }
});

test('XML: elements, attributes, entities, comments, DOCTYPE; errors are reported', (t) => {
  const doc = parseXml('<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<!-- c --><target a=\'1\'><architecture>i386:x86-64</architecture><reg name="x&amp;y" bitsize="64"/><![CDATA[<raw>]]></target>');
  if ('error' in doc) return t.fail(doc.error);
  t.is(doc.name, 'target');
  t.is(doc.attrs.a, '1');
  t.is(doc.children[0]!.text, 'i386:x86-64');
  t.is(doc.children[1]!.attrs.name, 'x&y');
  t.true(doc.text.includes('<raw>'));
  for (const bad of ['<a><b></a>', '<a', '<a x=1/>', 'text', '<a/><b/>', '<a><!-- x</a>']) t.true('error' in parseXml(bad), bad);
});

test('register layout: description order, regnum gaps, g offsets, core names', async (t) => {
  const files: Record<string, string> = {
    'target.xml': '<target><architecture>i386:x86-64</architecture><xi:include href="core.xml"/><xi:include href="sys.xml"/></target>',
    'core.xml': '<feature name="org.gnu.gdb.i386.core"><reg name="rax" bitsize="64"/><reg name="rbx" bitsize="64"/><reg name="rip" bitsize="64" regnum="16"/><reg name="rsp" bitsize="64" regnum="7"/><reg name="eflags" bitsize="32" regnum="17"/><reg name="st0" bitsize="80"/></feature>',
    'sys.xml': '<feature name="org.gnu.gdb.i386.sys"><reg name="k_gs_base" bitsize="64"/><reg name="ymm0h" bitsize="128"/></feature>',
  };
  const fetch = async (annex: string): Promise<XmlElement> => {
    const d = parseXml(files[annex]!);
    if ('error' in d) throw new Error(d.error);
    return d;
  };
  const layout = await layoutFromDescription(await fetch('target.xml'), fetch);
  t.deepEqual(layout.registers.map((r) => [r.name, r.regnum, r.offset, r.size]), [
    ['rax', 0, 0, 8], ['rbx', 1, 8, 8], ['rsp', 7, 16, 8], ['rip', 16, 24, 8], ['eflags', 17, 32, 4], ['st0', 18, 36, 10], ['k_gs_base', 19, 46, 8], ['ymm0h', 20, 54, 16],
  ]);
  t.is(layout.byArchName('kernel_gs_base')?.name, 'k_gs_base');
  t.is(layout.byNumber(20)?.archName, undefined, 'ymm halves have no core register');
  t.is(layout.gSize, 70);
  await t.throwsAsync(layoutFromDescription((await fetch('target.xml')) && parseXml('<target><architecture>aarch64</architecture><reg name="x0" bitsize="64"/></target>') as XmlElement, fetch), { message: /aarch64/ });
  await t.throwsAsync(layoutFromDescription(parseXml('<target><reg name="rax" bitsize="64"/></target>') as XmlElement, fetch), { message: /no rip/ });
});

test('the default x86-64 layout is GDB\'s built-in amd64 g packet', (t) => {
  const l = defaultX86_64Layout();
  t.is(l.gSize, 536);
  t.is(l.byArchName('rip')?.offset, 128);
  t.is(l.byArchName('eflags')?.offset, 136);
  t.is(l.byArchName('xmm0')?.offset, 276);
  t.is(l.byArchName('mxcsr')?.offset, 532);
  t.is(buildLayout('x', [{ name: 'rip', bits: 64 }]).registers[0]?.archName, 'rip');
});

test('/proc/PID/maps, auxv and SVR4 library lists', (t) => {
  const maps = parseProcMaps('555555554000-555555555000 r--p 00000000 fe:00 2147050                    /tmp/x y\n7ffff7fc2000-7ffff7fc6000 r-xp 00001000 00:00 0 [vdso]\n7ffff7fc7000-7ffff7fc8000 rw-p 00000000 00:00 0\nbogus\n');
  t.deepEqual(maps, [
    { start: 0x555555554000n, end: 0x555555555000n, readable: true, writable: false, executable: false, offset: 0n, path: '/tmp/x y' },
    { start: 0x7ffff7fc2000n, end: 0x7ffff7fc6000n, readable: true, writable: false, executable: true, offset: 0x1000n, path: '[vdso]' },
    { start: 0x7ffff7fc7000n, end: 0x7ffff7fc8000n, readable: true, writable: true, executable: false, offset: 0n },
  ]);
  const auxv = new Uint8Array(48);
  const dv = new DataView(auxv.buffer);
  dv.setBigUint64(0, 9n, true);
  dv.setBigUint64(8, 0x401000n, true);
  dv.setBigUint64(16, 7n, true);
  dv.setBigUint64(24, 0x7f0000000000n, true);
  t.deepEqual([...parseAuxv(auxv)], [[9n, 0x401000n], [7n, 0x7f0000000000n]]);
  t.deepEqual(parseSvr4('<library-list-svr4 version="1.0" main-lm="0x1"><library name="/lib/x86_64-linux-gnu/libc.so.6" lm="0x2" l_addr="0x7ffff7d00000" l_ld="0x3" lmid="0x0"/><library name="linux-vdso.so.1" lm="0x4" l_addr="0x7ffff7fc8000" l_ld="0x5"/></library-list-svr4>'), [
    { path: '/lib/x86_64-linux-gnu/libc.so.6', bias: 0x7ffff7d00000n },
    { path: 'linux-vdso.so.1', bias: 0x7ffff7fc8000n },
  ]);
});

test('the memory cache line fits one reply and --memcache-mmap-size', (t) => {
  const MB = 1024 * 1024;
  t.is(cacheLineFor(9199, 128 * MB), 1024, 'gdbserver: the preferred line');
  t.is(cacheLineFor(2032, 128 * MB), 1024, 'QEMU');
  t.is(cacheLineFor(500, 128 * MB), 256, 'a small stub: one reply');
  t.is(cacheLineFor(9199, MB), 256, '4096 lines in 1 MB');
  t.is(cacheLineFor(9199, 0), 0, 'disabled');
  t.is(cacheLineFor(9199, 32 * 1024), 0, 'lines too small to be worth it');
});
