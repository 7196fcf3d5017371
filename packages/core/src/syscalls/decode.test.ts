import test from 'ava';
import fs from 'node:fs';
import { decodeSyscallReturn, errnoMessage, errnoName, errnoValue, formatFlags, signalName, syscallByName, syscallInfo, syscallName, syscalls } from './decode.js';

const UNISTD = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

test('the table has every system call of unistd_64.h under its number', (t) => {
  if (!fs.existsSync(UNISTD)) return t.pass('no kernel headers here (linux-libc-dev)');
  const header = [...fs.readFileSync(UNISTD, 'utf8').matchAll(/^#define __NR_(\w+)\s+(\d+)$/gm)].map((m) => [Number(m[2]), m[1]] as const);
  t.true(header.length > 300);
  for (const [nr, name] of header) t.is(syscallName(nr), name);
  t.is(syscalls().length, header.length);
});

test('argument names and types come from the kernel\'s declarations', (t) => {
  t.deepEqual(syscallByName('openat')!.args, [
    { name: 'dfd', type: 'int', kind: 'signed' },
    { name: 'filename', type: 'const char *', kind: 'string' },
    { name: 'flags', type: 'int', kind: 'signed' },
    { name: 'mode', type: 'umode_t', kind: 'unsigned' },
  ]);
  // stat is served by sys_newstat, sendfile by sys_sendfile64: the table follows sys_call_table.
  t.is(syscallByName('stat')!.entry, 'newstat');
  t.is(syscallByName('sendfile')!.entry, 'sendfile64');
  t.deepEqual(syscallByName('getpid')!.args, []);
  t.deepEqual(syscallByName('execve')!.args!.map((a) => a.kind), ['string', 'strings', 'strings']);
  t.is(syscallInfo(183)!.entry, null, 'afs_syscall is not implemented');
  t.is(syscallName(100000), 'syscall_100000');
});

test('errno values, names and messages; negative returns become strace\'s -1 ENAME (message)', (t) => {
  t.is(errnoName(2), 'ENOENT');
  t.is(errnoMessage(2), 'No such file or directory');
  t.is(errnoValue('EAGAIN'), 11);
  t.is(errnoName(512), 'ERESTARTSYS');
  t.deepEqual(decodeSyscallReturn(257, -2n), { value: -2n, text: '-1 ENOENT (No such file or directory)', errno: 'ENOENT' });
  t.deepEqual(decodeSyscallReturn(257, 3n), { value: 3n, text: '3' });
  // mmap returns addresses, shown in hex; a huge unsigned value is not an error.
  t.is(decodeSyscallReturn(9, 0x7f0000001000n).text, '0x7f0000001000');
  t.is(decodeSyscallReturn(9, BigInt.asUintN(64, -12n)).text, '-1 ENOMEM (Cannot allocate memory)');
});

test('flags and signals', (t) => {
  t.is(formatFlags(5n, [[1n, 'A'], [4n, 'C']]), 'A|C');
  t.is(formatFlags(0x13n, [[1n, 'A'], [2n, 'B']]), 'A|B|0x10');
  t.is(formatFlags(0n, [[1n, 'A']], 'NONE'), 'NONE');
  t.is(signalName(15), 'SIGTERM');
  t.is(signalName(34), 'SIGRT_2');
});
