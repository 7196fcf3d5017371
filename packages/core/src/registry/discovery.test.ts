import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configureLogging } from '../log/logger.js';
import { discoverPlugins } from './discovery.js';
import { formatHelp } from './help.js';
import { Registry } from './registry.js';

function tree(files: Record<string, unknown>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-disc-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

const ptraceDecl = { kind: 'base-driver', name: 'ptrace', entry: './driver.js', options: [{ long: 'pid', short: 'p', arg: 'PID', type: 'uint', help: 'A process to attach to' }] };
const gdbDecl = { kind: 'base-driver', name: 'gdb', entry: './driver.js', options: [{ long: 'gdb-port', arg: 'PORT', help: 'stub port' }] };

test('installed declarations are found without importing anything', (t) => {
  const root = tree({
    'node_modules/@stackdb/driver-ptrace/package.json': { name: '@stackdb/driver-ptrace', version: '1.2.3', stackdb: ptraceDecl },
    // The entry would throw if imported: discovery must not load it.
    'node_modules/@stackdb/driver-ptrace/driver.js': 'throw new Error("imported!")',
    'node_modules/third-party-gdb/package.json': { name: 'third-party-gdb', version: '0.1.0', stackdb: [gdbDecl, { kind: 'personality', name: 'bsd', entry: './p.js' }] },
    'node_modules/left-pad/package.json': { name: 'left-pad', version: '1.0.0' },
    'node_modules/.bin/x': '',
  });
  const found = discoverPlugins([path.join(root, 'node_modules')]);
  t.deepEqual(found.map((p) => [p.kind, p.name, p.packageName, p.packageVersion]).sort(), [
    ['base-driver', 'gdb', 'third-party-gdb', '0.1.0'],
    ['base-driver', 'ptrace', '@stackdb/driver-ptrace', '1.2.3'],
    ['personality', 'bsd', 'third-party-gdb', '0.1.0'],
  ]);
});

test('an absent driver package removes its group from --help', (t) => {
  const withBoth = tree({
    'node_modules/@stackdb/driver-ptrace/package.json': { name: '@stackdb/driver-ptrace', stackdb: ptraceDecl },
    'node_modules/@stackdb/driver-gdb-qemu/package.json': { name: '@stackdb/driver-gdb-qemu', stackdb: gdbDecl },
  });
  const onlyPtrace = tree({ 'node_modules/@stackdb/driver-ptrace/package.json': { name: '@stackdb/driver-ptrace', stackdb: ptraceDecl } });
  const help = (root: string) => formatHelp({ usage: 'stackdb x', drivers: Registry.discover([path.join(root, 'node_modules')]).plugins });
  t.regex(help(withBoth), /gdb driver \(@stackdb\/driver-gdb-qemu\)[\s\S]*--gdb-port=PORT/);
  t.regex(help(onlyPtrace), /ptrace driver \(@stackdb\/driver-ptrace\)\n {2}-p, --pid=PID/);
  t.notRegex(help(onlyPtrace), /gdb/);
  t.regex(formatHelp({ usage: 'stackdb x', drivers: [] }), /No driver packages are installed/);
});

test('bad declarations are ignored with a warning, the first of a name wins', (t) => {
  const lines: string[] = [];
  configureLogging({ sink: (l) => lines.push(l) });
  const root = tree({
    'node_modules/bad/package.json': { name: 'bad', stackdb: { kind: 'driver', name: 'Bad Name' } },
    'node_modules/a-ptrace/package.json': { name: 'a-ptrace', stackdb: ptraceDecl },
    'node_modules/b-ptrace/package.json': { name: 'b-ptrace', stackdb: ptraceDecl },
  });
  const found = discoverPlugins([path.join(root, 'node_modules')]);
  t.deepEqual(found.map((p) => p.packageName), ['a-ptrace']);
  t.is(lines.length, 1);
  t.regex(lines[0]!, /ignoring the stackdb declaration of bad: kind must be/);
  configureLogging({ sink: (l) => process.stderr.write(l + '\n') });
});

test('a node_modules directory is remembered: unchanged, only packages that mention stackdb are read again; added, removed and edited packages are seen', (t) => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackdb-disc-cache-'));
  const root = tree({
    'node_modules/@stackdb/driver-ptrace/package.json': { name: '@stackdb/driver-ptrace', version: '1.0.0', stackdb: ptraceDecl },
    'node_modules/left-pad/package.json': { name: 'left-pad', version: '1.0.0' },
  });
  const nm = path.join(root, 'node_modules');
  // Directories changed seconds ago are not recorded (their times could hide a change made within the same tick).
  const settle = () => {
    const past = new Date(Date.now() - 60_000);
    for (const d of [nm, path.join(nm, '@stackdb')]) fs.utimesSync(d, past, past);
  };
  const names = () => discoverPlugins([nm], cacheDir).map((p) => `${p.name}@${p.packageVersion}`).sort();
  const records = () => (fs.existsSync(path.join(cacheDir, 'plugins')) ? fs.readdirSync(path.join(cacheDir, 'plugins')).length : 0);
  t.deepEqual(names(), ['ptrace@1.0.0']);
  t.is(records(), 0, 'nothing recorded while the directories are fresh');
  settle();
  t.deepEqual(names(), ['ptrace@1.0.0']);
  t.is(records(), 1);

  // Edited in place: a package that mentioned stackdb is read again; one that did not is not.
  fs.writeFileSync(path.join(nm, '@stackdb/driver-ptrace/package.json'), JSON.stringify({ name: '@stackdb/driver-ptrace', version: '1.0.1', stackdb: ptraceDecl }));
  fs.writeFileSync(path.join(nm, 'left-pad/package.json'), JSON.stringify({ name: 'left-pad', version: '1.0.1', stackdb: { kind: 'personality', name: 'pad', entry: './p.js' } }));
  t.deepEqual(names(), ['ptrace@1.0.1']);
  t.deepEqual(discoverPlugins([nm], undefined).map((p) => p.name).sort(), ['pad', 'ptrace'], 'without the cache everything is read');

  // Installed, scoped or not, and removed: the directories' times change.
  fs.mkdirSync(path.join(nm, 'third-party-gdb'));
  fs.writeFileSync(path.join(nm, 'third-party-gdb/package.json'), JSON.stringify({ name: 'third-party-gdb', version: '0.1.0', stackdb: gdbDecl }));
  t.deepEqual(names(), ['gdb@0.1.0', 'pad@1.0.1', 'ptrace@1.0.1']);
  settle();
  names();
  fs.rmSync(path.join(nm, '@stackdb/driver-ptrace'), { recursive: true });
  t.deepEqual(names(), ['gdb@0.1.0', 'pad@1.0.1']);
});

test('personalities load from an installed package, a file, or fail clearly', async (t) => {
  const root = tree({
    'node_modules/my-os/package.json': { name: 'my-os', type: 'module', stackdb: { kind: 'personality', name: 'myos', entry: './p.js' } },
    'node_modules/my-os/p.js': 'export const personality = { name: "myos", attach: async () => ({}) };',
    'lib/good.mjs': 'export const personality = { name: "fromfile", attach: async () => ({}) };',
    'lib/bad.mjs': 'export const nothing = 1;',
    'lib/broken.mjs': 'throw new Error("boom");',
  });
  const reg = Registry.discover([path.join(root, 'node_modules')]);
  t.is((await reg.loadPersonality('myos')).name, 'myos');
  await t.throwsAsync(reg.loadPersonality('linux'), { code: 'ERR_REGISTRY', message: 'no personality named linux is installed (installed: myos)' });
  t.is((await reg.loadPersonalityLib(path.join(root, 'lib/good.mjs'))).name, 'fromfile');
  t.is((await reg.loadPersonalityLib(path.join(root, 'node_modules/my-os'))).name, 'myos');
  const bad = path.join(root, 'lib/bad.mjs');
  await t.throwsAsync(reg.loadPersonalityLib(bad), { code: 'ERR_REGISTRY', message: `--personality-lib ${bad} does not export a personality (an object with name and attach())` });
  await t.throwsAsync(reg.loadPersonalityLib(path.join(root, 'lib/broken.mjs')), { code: 'ERR_REGISTRY', message: /cannot load it: boom/ });
  await t.throwsAsync(reg.loadPersonalityLib('no-such-package-anywhere'), { message: '--personality-lib no-such-package-anywhere: no such file or package' });
});

test('a declared driver whose package has no implementation fails clearly when used', async (t) => {
  const root = tree({ 'node_modules/@stackdb/driver-xen/package.json': { name: '@stackdb/driver-xen', stackdb: { kind: 'base-driver', name: 'xen', entry: './dist/driver.js' } } });
  const reg = Registry.discover([path.join(root, 'node_modules')]);
  await t.throwsAsync(reg.loadBaseDriver('xen'), { code: 'ERR_REGISTRY', message: /^the xen driver \(@stackdb\/driver-xen\) is not implemented in this version: its entry \.\/dist\/driver\.js is missing$/ });
  await t.throwsAsync(reg.loadBaseDriver('ptrace'), { message: 'no base driver named ptrace is installed' });
});
