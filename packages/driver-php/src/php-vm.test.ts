import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Registry, openTargets, parseCommandLine, scriptRuntimeOf } from '@stackdb/core';
import { repoRoot, systemTest, type Need } from '@stackdb/test-support';
import { sharedVm, vmNeeds } from '@stackdb/test-vm';

/*
 * The PHP program of a process inside a VM: the gdb driver with the QEMU
 * helper and the Linux personality below, the os-process overlay for the
 * guest's php process, the php overlay on that. The guest runs the host's
 * PHP (with its libraries, at the same paths) on the waiter script, which
 * writes PHP's own debug_backtrace into the guest's /tmp.
 */

const NEEDS: Need[] = [...vmNeeds, { command: 'php', package: 'php8.2-cli' }, { command: 'php-config', package: 'php8.2-dev' }, { command: 'ldd', package: 'libc-bin' }];
const WAITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-support/waiter.php');
const PHP = '/usr/bin/php8.2';
const registry = Registry.discover([path.join(repoRoot, 'node_modules')]);
const getVm = sharedVm(test, { cpus: 2, extraPrograms: [{ name: 'php-waiter', hostPath: PHP, atHostPath: true, libraries: true, files: [WAITER], args: ['-n', WAITER, '/tmp/trace.json'] }] });

systemTest(test, 'a PHP program in a VM: gdb + linux personality, os-process, php overlays give its PHP stack as its own debug_backtrace says', NEEDS, async (t) => {
  const vm = await getVm();
  const pid = vm.pids['php-waiter']!;
  let trace = '';
  for (let i = 0; i < 100 && !trace.startsWith('['); i++) {
    trace = (await vm.console.run('cat /tmp/trace.json 2>/dev/null; true')).trim();
    if (!trace.startsWith('[')) await new Promise((r) => setTimeout(r, 200));
  }
  const theirs = JSON.parse(trace) as { function: string; class: string | null; line: number }[];
  const argv = ['-t', 'gdb', '--qemu', '--gdb-port', String(vm.gdbPort), '--qemu-qmp-port', String(vm.qmpPort), '--qemu-mem-path', vm.ramFile, '-M', vm.vmlinux,
    '--personality', 'linux', '--overlay', `${pid}:-t os-process`, '--overlay', `2:${pid}:-t php`];
  const targets = await openTargets(parseCommandLine(argv, { drivers: registry.drivers }).targets, registry);
  try {
    t.deepEqual(targets.map((x) => x.driver), ['gdb', 'os-process', 'php']);
    const php = targets[2]!;
    const bt = await scriptRuntimeOf(php)!.scriptBacktrace((await php.threads()).find((th) => th.tid === pid)!);
    t.is(bt.end, 'bottom', bt.error);
    t.deepEqual(bt.frames.map((f) => [f.function, f.class ?? null, f.file ?? null]), [
      ['usleep', null, null],
      ...theirs.map((f) => [f.function, f.class, WAITER]),
      ['{main}', null, WAITER],
    ]);
    t.deepEqual(bt.frames.slice(2).map((f) => f.line), theirs.map((f) => f.line), 'each caller at the line PHP says it called from');
    t.deepEqual(bt.frames[2]!.args.map((a) => `${a.name}=${a.value.text}`), ['$who="world"', '$ratio=4.5', '$nothing=NULL', '$flag=true']);
  } finally {
    for (const x of [...targets].reverse()) await x.close();
  }
}, { serial: true });

systemTest(test, 'a probe on a PHP function of a PHP program in a VM: probetargets on the php overlay over os-process over gdb', NEEDS, async (t) => {
  const vm = await getVm();
  const pid = vm.pids['php-waiter']!;
  const argv = ['probetargets', '-t', 'gdb', '--qemu', '--gdb-port', String(vm.gdbPort), '--qemu-qmp-port', String(vm.qmpPort), '--qemu-mem-path', vm.ramFile, '-M', vm.vmlinux,
    '--personality', 'linux', '--overlay', `${pid}:-t os-process`, '--overlay', `2:${pid}:-t php`, '--count', '3', '3:usleep'];
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'packages/cli/bin/stackdb.js'), ...argv], { encoding: 'utf8', timeout: 180_000 });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), Array.from({ length: 3 }, () => `[3] usleep (PHP) (thread ${pid}) $microseconds = 20000`));
}, { serial: true });
