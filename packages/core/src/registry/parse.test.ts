import test from 'ava';
import { UsageError } from '../errors.js';
import type { DiscoveredPlugin, PluginDecl } from './declarations.js';
import { parseCommandLine, splitOverlayPrefix } from './parse.js';

// Declarations as the driver packages publish them (the seed's option sets).
const decl = (d: PluginDecl): DiscoveredPlugin => ({ ...d, packageName: `@test/${d.name}`, packageVersion: '1.0.0', packageDir: '/nonexistent' });
const drivers: DiscoveredPlugin[] = [
  decl({
    kind: 'base-driver', name: 'ptrace', entry: './x.js', program: { key: 'argv', help: 'program' },
    options: [
      { long: 'args', arg: 'LIST', type: 'list', help: 'argv' },
      { long: 'program', short: 'b', arg: 'FILE', type: 'path', help: 'program' },
      { long: 'envvars', short: 'e', arg: 'LIST', type: 'list', help: 'env' },
      { long: 'pid', short: 'p', arg: 'PID', type: 'uint', help: 'pid' },
    ],
  }),
  decl({
    kind: 'base-driver', name: 'xen', entry: './x.js',
    options: [
      { long: 'domain', short: 'm', arg: 'DOMAIN', help: 'domain' },
      { long: 'no-use-multiplexer', short: 'M', help: 'no mux' },
      { long: 'kernel-filename', short: 'K', arg: 'FILE', type: 'path', help: 'kernel' },
    ],
  }),
  decl({
    kind: 'base-driver', name: 'gdb', entry: './x.js',
    options: [
      { long: 'gdb-port', arg: 'PORT', type: 'uint', help: 'port' },
      { long: 'gdb-host', arg: 'HOST', help: 'host' },
      { long: 'main-filename', short: 'M', arg: 'FILE', type: 'path', help: 'main' },
    ],
    helpers: [{ name: 'qemu', options: [{ long: 'qemu', help: 'qemu' }, { long: 'qemu-qmp-port', arg: 'PORT', type: 'uint', help: 'qmp' }] }],
  }),
  decl({ kind: 'overlay-driver', name: 'os-process', entry: './x.js', options: [] }),
  decl({ kind: 'overlay-driver', name: 'php', entry: './x.js', options: [] }),
  decl({ kind: 'personality', name: 'linux', entry: './x.js' }),
];
const toolOptions = [
  { long: 'json', help: 'json' },
  { long: 'thread', arg: 'TID', type: 'uint' as const, help: 'thread' },
];
const parse = (argv: string[]) => parseCommandLine(argv, { drivers, toolOptions });
const usageError = (t: import('ava').ExecutionContext, argv: string[], message: string | RegExp) => {
  const err = t.throws(() => parse(argv), { instanceOf: UsageError });
  if (typeof message === 'string') t.is(err?.message, message);
  else t.regex(err?.message ?? '', message);
  t.is(err?.exitCode, 2);
  t.is(err?.code, 'ERR_USAGE');
};

test('the first unique option selects its driver', (t) => {
  const r = parse(['-p', '1234']);
  t.is(r.targets.length, 1);
  t.is(r.targets[0]!.driver, 'ptrace');
  t.is(r.targets[0]!.selectedBy, '-p');
  t.is(r.targets[0]!.options.pid, 1234);
  t.is(r.targets[0]!.id, 1);
});

test('long options with = and attached short values', (t) => {
  const r = parse(['--gdb-port=1234', '--gdb-host', 'h', '--qemu', '--qemu-qmp-port', '1235']);
  t.is(r.targets[0]!.driver, 'gdb');
  t.deepEqual(r.targets[0]!.options, { gdbPort: 1234, gdbHost: 'h', qemu: true, qemuQmpPort: 1235 });
  t.is(parse(['-p4321']).targets[0]!.options.pid, 4321);
});

test('an option of another driver after a selection names both drivers', (t) => {
  usageError(t, ['-p', '1', '--gdb-port', '2'], '--gdb-port is an option of the gdb driver, but the ptrace driver was selected by -p');
  usageError(t, ['--gdb-port', '2', '-m', 'vm1'], '-m is an option of the xen driver, but the gdb driver was selected by --gdb-port');
});

test('a shared option before any unique one asks for -t', (t) => {
  usageError(t, ['-M', 'vmlinux', '--gdb-port', '1'], '-M is an option of drivers xen and gdb: pass -t or a unique option first');
});

test('a shared option is resolved by the driver already selected', (t) => {
  const g = parse(['--gdb-port', '1', '-M', '/boot/vmlinux']);
  t.is(g.targets[0]!.driver, 'gdb');
  t.is(g.targets[0]!.options.mainFilename, '/boot/vmlinux');
  const x = parse(['-m', 'vm1', '-M']);
  t.is(x.targets[0]!.driver, 'xen');
  t.is(x.targets[0]!.options.noUseMultiplexer, true);
  // -M as xen's flag inside a short-option cluster.
  t.is(parse(['-m', 'vm1', '-sM']).targets[0]!.options.noUseMultiplexer, true);
});

test('-t selects the driver wherever it appears before an ambiguous option', (t) => {
  const r = parse(['-M', '/vmlinux', '-t', 'gdb']);
  t.is(r.targets[0]!.driver, 'gdb');
  t.is(r.targets[0]!.selectedBy, '-t');
  t.is(r.targets[0]!.options.mainFilename, '/vmlinux');
  const x = parse(['--target-type=xen', '-M', '-m', 'dom1']);
  t.is(x.targets[0]!.driver, 'xen');
  t.is(x.targets[0]!.options.noUseMultiplexer, true);
  usageError(t, ['-t', 'gdb', '-p', '1'], '-p is an option of the ptrace driver, but the gdb driver was selected by -t');
  usageError(t, ['-t', 'gdb', '-t', 'xen'], '-t xen conflicts with the gdb driver selected by -t');
  usageError(t, ['-t', 'nope'], '-t nope: no such driver is installed (installed: ptrace, xen, gdb, os-process, php)');
});

test('a driver without options of its own needs -t, and overlays need a base', (t) => {
  usageError(t, ['-s'], /^--soft-breakpoints needs a target, but no driver was selected: pass -t or an option of one driver$/);
  usageError(t, ['-t', 'os-process'], /os-process driver is an overlay driver/);
});

test('-- ends options and gives ptrace its program', (t) => {
  const r = parse(['--json', '--', './prog', '-p', 'x']);
  t.is(r.targets[0]!.driver, 'ptrace');
  t.is(r.targets[0]!.selectedBy, '--');
  t.deepEqual(r.targets[0]!.program, ['./prog', '-p', 'x']);
  t.is(r.tool.json, true);
  const g = parse(['--gdb-port', '1', '--', 'sym1', '-x']);
  t.deepEqual(g.positionals, ['sym1', '-x']);
  t.is(g.targets[0]!.program, undefined);
});

test('tool options, positionals and common options are kept apart', (t) => {
  const r = parse(['-p', '5', '--thread', '7', 'main', '-s', '-R', '/mirror', '-F', 'PARTIALSYM', '-F', 'X', '-i', '10', '-a', 'thread_entry,memory']);
  t.deepEqual(r.tool, { thread: 7 });
  t.deepEqual(r.positionals, ['main']);
  const c = r.targets[0]!.common;
  t.is(c.softBreakpoints, true);
  t.is(c.debugfileRootPrefix, '/mirror');
  t.deepEqual(c.debugfileLoadOpts, ['PARTIALSYM', 'X']);
  t.deepEqual(c.activeProbing, ['thread_entry', 'memory']);
  t.is(r.targets[0]!.id, 10);
});

test('-d and -w take optional attached levels or count up', (t) => {
  t.deepEqual(parse(['-d20', '-w20']).logging, { debug: 20, warn: 20 });
  t.deepEqual(parse(['-d', '-d', '--warn=3']).logging, { debug: 2, warn: 3 });
  t.deepEqual(parse(['-l', 'T_LUP,d_dwarf']).logging, { flags: ['T_LUP', 'd_dwarf'] });
});

test('bad values, unknown options and missing values are one clear line', (t) => {
  usageError(t, ['--gdb-port', 'abc'], "--gdb-port: expected a number, got 'abc'");
  usageError(t, ['-p', '-3'], "-p: expected a non-negative number, got '-3'");
  usageError(t, ['--frobnicate'], "unknown option --frobnicate (see 'stackdb <tool> --help')");
  usageError(t, ['-p'], '-p needs a value (PID)');
  usageError(t, ['-a', 'bogus'], "-a: unknown active probing flag 'bogus' (expected thread_entry, thread_exit, memory, other)");
  usageError(t, ['-l', 'Z_FOO'], "-l: unknown log flag 'Z_FOO' (expected names like T_LUP, D_DWARF, P_ALL)");
  usageError(t, ['--qemu=yes', '--gdb-port', '1'], '--qemu takes no value');
});

test('nested --base and --overlay build a tree of specs with ids', (t) => {
  const r = parse([
    '--base', '-t xen -m vm1 -i 10', '--base', "-t xen -m 'vm 2' -i 20",
    '--overlay', '10:bash:-t os-process', '--overlay', '20:php:-t os-process -i 40', '--overlay', 'init:-t os-process',
  ]);
  t.deepEqual(r.targets.map((b) => [b.id, b.driver, b.options.domain]), [[10, 'xen', 'vm1'], [20, 'xen', 'vm 2']]);
  t.deepEqual(r.targets[0]!.overlays.map((o) => [o.id, o.driver, o.on]), [[1, 'os-process', { baseId: 10, thread: 'bash' }], [2, 'os-process', { baseId: 10, thread: 'init' }]]);
  t.deepEqual(r.targets[1]!.overlays.map((o) => [o.id, o.on]), [[40, { baseId: 20, thread: 'php' }]]);
});

test('an overlay sits on an overlay named before it (php on an os-process)', (t) => {
  const r = parse(['-p', '1', '--overlay', '103:-t os-process', '--overlay', '2:103:-t php']);
  const proc = r.targets[0]!.overlays[0]!;
  t.deepEqual([proc.id, proc.driver, proc.on], [2, 'os-process', { baseId: 1, thread: '103' }]);
  t.deepEqual(proc.overlays.map((o) => [o.id, o.driver, o.on]), [[3, 'php', { baseId: 2, thread: '103' }]]);
  usageError(t, ['-p', '1', '--overlay', '3:103:-t php', '--overlay', '103:-t os-process'], "--overlay '3:103:-t php': no target has id 3 (a target an overlay sits on is named before it)");
});

test('the primary target comes first and overlays default to it', (t) => {
  const r = parse(['-p', '100', '--base', '--gdb-port 1 -i 7', '--overlay', '1234:-t php']);
  t.deepEqual(r.targets.map((b) => [b.id, b.driver]), [[1, 'ptrace'], [7, 'gdb']]);
  t.deepEqual(r.targets[0]!.overlays[0]!.on, { baseId: 1, thread: '1234' });
});

test('nested specs report errors with their context', (t) => {
  usageError(t, ['--base', '-m vm1 --gdb-port 3'], "--base '-m vm1 --gdb-port 3': --gdb-port is an option of the gdb driver, but the xen driver was selected by -m");
  usageError(t, ['--base', '-t xen -m a -i 3', '--base', '-t xen -m b -i 3'], '-i 3: two targets have this id');
  usageError(t, ['--overlay', 'bash:-t os-process'], '--overlay needs a base target: give target options or --base');
  usageError(t, ['-p', '1', '--overlay', '9:bash:-t os-process'], "--overlay '9:bash:-t os-process': no target has id 9 (a target an overlay sits on is named before it)");
  usageError(t, ['-p', '1', '--overlay', 'bash:-t gdb --gdb-port 1'], 'the gdb driver is a base driver, not an overlay driver');
  usageError(t, ['--base', '-t xen -m a --base x'], "--base '-t xen -m a --base x': unknown option --base");
  usageError(t, ['--base', '-p 1 stray'], "--base '-p 1 stray': unexpected argument 'stray'");
  usageError(t, ['--base', '-p 1 > f'], "--base '-p 1 > f': shell operators are not allowed in a target spec");
});

test('overlay prefixes', (t) => {
  t.deepEqual(splitOverlayPrefix('10:bash:-t os-process'), { baseId: 10, thread: 'bash', rest: '-t os-process' });
  t.deepEqual(splitOverlayPrefix('bash:-t os-process'), { thread: 'bash', rest: '-t os-process' });
  t.deepEqual(splitOverlayPrefix('1234:-t php'), { thread: '1234', rest: '-t php' });
  t.deepEqual(splitOverlayPrefix('10:1234:-t php -R a:b'), { baseId: 10, thread: '1234', rest: '-t php -R a:b' });
  t.throws(() => splitOverlayPrefix('-t php'), { instanceOf: UsageError });
});

test('--help is recognised anywhere, and tools without targets reject target options', (t) => {
  t.true(parse(['-p', '1', '--help']).help);
  const r = parseCommandLine(['-d', 'file', '-l', 'D_DWARF'], { drivers, toolOptions: [{ long: 'detail', short: 'D', help: 'd' }], targets: false });
  t.deepEqual(r.positionals, ['file']);
  t.is(r.targets.length, 0);
  t.throws(() => parseCommandLine(['-p', '1'], { drivers, targets: false }), { message: "unknown option -p (see 'stackdb <tool> --help')" });
});

test('count options add up, alone or in clusters', (t) => {
  const r = parseCommandLine(['-DM', '-D', 'file', '-DDD'], { drivers, toolOptions: [{ long: 'detail', short: 'D', type: 'count', help: 'd' }, { long: 'meta', short: 'M', type: 'count', help: 'm' }], targets: false });
  t.deepEqual(r.tool, { detail: 5, meta: 1 });
  t.deepEqual(r.positionals, ['file']);
});
