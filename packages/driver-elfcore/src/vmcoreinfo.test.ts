import test from 'ava';
import { VmcoreInfo } from './vmcoreinfo.js';

const TEXT = [
  'OSRELEASE=6.1.0-56-amd64',
  'BUILD-ID=3A1b2c',
  'PAGESIZE=4096',
  'SYMBOL(init_uts_ns)=ffffffff8fa13f80',
  'SYMBOL(init_top_pgt)=ffffffff8fa0a000',
  'OFFSET(list_head.next)=0',
  'OFFSET(task_struct.comm)=1992',
  'SIZE(page)=64',
  'LENGTH(zone.free_area)=11',
  'NUMBER(phys_base)=-1048576',
  'NUMBER(pgtable_l5_enabled)=0',
  'KERNELOFFSET=e600000',
  'CRASHTIME=1700000000',
  '',
].join('\n');

test('VMCOREINFO keys and typed values', (t) => {
  const v = VmcoreInfo.fromNote(new TextEncoder().encode(TEXT + '\0\0\0'));
  t.is(v.osRelease, '6.1.0-56-amd64');
  t.is(v.buildId, '3a1b2c');
  t.is(v.pageSize, 4096);
  t.is(v.symbol('init_uts_ns'), 0xffffffff8fa13f80n);
  t.is(v.symbol('nothing'), undefined);
  t.is(v.offset('task_struct.comm'), 1992);
  t.is(v.offset('list_head.next'), 0);
  t.is(v.size('page'), 64);
  t.is(v.length('zone.free_area'), 11);
  t.is(v.physBase, -1048576n);
  t.is(v.fiveLevelPaging, false);
  t.is(v.kernelOffset, 0xe600000n);
  t.is(v.get('CRASHTIME'), '1700000000');
  t.is(v.entries.size, 13);
});

test('absent KERNELOFFSET means no KASLR offset', (t) => {
  const v = new VmcoreInfo('OSRELEASE=5.10\n');
  t.is(v.kernelOffset, 0n);
  t.is(v.physBase, undefined);
  t.is(v.fiveLevelPaging, undefined);
});
