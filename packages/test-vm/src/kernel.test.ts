import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { findKernel } from './kernel.js';

function fakeRoot(files: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-test-'));
  for (const f of files) {
    fs.mkdirSync(path.join(root, path.dirname(f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), '');
  }
  return root;
}

test('the newest kernel that has a debug vmlinux wins, compared as versions', (t) => {
  const root = fakeRoot([
    'boot/vmlinuz-6.1.0-9-amd64', 'usr/lib/debug/boot/vmlinux-6.1.0-9-amd64',
    'boot/vmlinuz-6.1.0-10-amd64', 'usr/lib/debug/boot/vmlinux-6.1.0-10-amd64', 'usr/lib/debug/boot/System.map-6.1.0-10-amd64',
    'boot/vmlinuz-6.1.0-11-amd64',
  ]);
  try {
    const k = findKernel(root);
    t.is(k?.version, '6.1.0-10-amd64');
    t.is(k?.vmlinuz, path.join(root, 'boot/vmlinuz-6.1.0-10-amd64'));
    t.is(k?.systemMap, path.join(root, 'usr/lib/debug/boot/System.map-6.1.0-10-amd64'));
    t.is(k?.debugModulesDir, undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('no kernel with debuginfo gives undefined', (t) => {
  const root = fakeRoot(['boot/vmlinuz-6.1.0-11-amd64']);
  try {
    t.is(findKernel(root), undefined);
    t.is(findKernel(path.join(root, 'nowhere')), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
