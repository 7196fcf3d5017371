import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { systemTest } from '@stackdb/test-support';
import { startVm, vmNeeds } from './index.js';

systemTest(test, 'with KASLR and qemuhacks RAM: live memory in the kept file; stop() leaves nothing behind', vmNeeds, async (t) => {
  const vm = await startVm({ memMB: 256, kaslr: true, qemuhacks: true });
  try {
    t.false((await vm.console.run('cat /proc/cmdline')).includes('nokaslr'));
    t.regex(vm.ramFile, /\/qemu_back_mem\.pc\.ram\.[A-Za-z0-9]{6}$/);
    const banner = (await vm.console.run('cat /proc/version')).trim();
    t.true(fs.readFileSync(vm.ramFile).includes(banner), 'the -mem-path file mirrors guest RAM');
  } finally {
    await vm.stop();
  }
  t.false(vm.isRunning());
  t.throws(() => process.kill(vm.pid, 0));
  t.false(fs.existsSync(vm.ramFile));
  t.false(fs.existsSync(vm.dir));
  await vm.stop();
});

systemTest(test, 'a test process killed by SIGKILL does not leave its VM behind (watchdog)', vmNeeds, async (t) => {
  const script = fileURLToPath(new URL('../bin/test-vm.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, '--mem', '128'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 1800 && !out.includes('}'); i++) await new Promise((r) => setTimeout(r, 100));
  const facts = JSON.parse(out) as { pid: number; ramFile: string; dir: string };
  t.notThrows(() => process.kill(facts.pid, 0));
  child.kill('SIGKILL');
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(facts.pid, 0);
    } catch {
      gone = true;
    }
  }
  t.true(gone, 'QEMU is gone');
  // The watchdog removes the RAM file, then the directory, once QEMU is gone.
  for (let i = 0; i < 50 && (fs.existsSync(facts.dir) || fs.existsSync(facts.ramFile)); i++) await new Promise((r) => setTimeout(r, 100));
  t.false(fs.existsSync(facts.ramFile));
  t.false(fs.existsSync(facts.dir));
});
