#!/usr/bin/env node
// Boots the test VM for manual work and benchmarks, prints its facts as JSON, and
// keeps it running until Ctrl-C / SIGTERM, then stops it.
//   stackdb-test-vm [--kaslr] [--mem MB] [--cpus N] [--qemuhacks] [--run 'guest command']
import { startVm } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const vm = await startVm({
  kaslr: args.includes('--kaslr'),
  memMB: opt('--mem') ? Number(opt('--mem')) : undefined,
  cpus: opt('--cpus') ? Number(opt('--cpus')) : undefined,
  qemuhacks: args.includes('--qemuhacks'),
});
const { pid, gdbPort, qmpPort, ramFile, vmlinux, kernelVersion, pids, bootMs, dir } = vm;
console.log(JSON.stringify({ pid, gdbPort, qmpPort, ramFile, vmlinux, kernelVersion, pids, bootMs, dir }, null, 2));
if (opt('--run')) process.stdout.write(await vm.console.run(opt('--run')));
const stop = async () => { await vm.stop(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => { if (!vm.isRunning()) { console.error('QEMU exited'); process.exit(1); } }, 1000);
