import { ProbeManager } from '@stackdb/core';
import type { Probe, ProbeHit, ProbeOptions, ScriptCallHandler, Target } from '@stackdb/core';
import { PhpError } from './errors.js';
import { lookupFunction } from './zend-lookup.js';
import { phpFrames } from './zend-stack.js';
import type { ZendMemory } from './zend-values.js';

const ZEND_INTERNAL_FUNCTION = 1;
const ZEND_USER_FUNCTION = 2;
const ZEND_ACC_HAS_TYPE_HINTS = 1 << 8;

/**
 * A probe on the calls of one PHP function, placed on the process target
 * that runs PHP. An internal function is its C handler's entry. A user
 * function has no code of its own: the VM enters it at its first opline, or
 * past the `RECV`s of the arguments passed when it declares no types, so the
 * probe sits on the VM handlers of those oplines and takes a hit only where
 * the VM's opline register (r15) is the entry opline of a frame (r14) of this
 * function; the other functions' oplines sharing those handlers are passed by.
 */
export async function phpFunctionProbe(base: Target, mem: ZendMemory, executorGlobals: bigint, spec: string, handler: ScriptCallHandler, opts: ProbeOptions = {}): Promise<Probe> {
  const fnLayout = mem.types.of('zend_function');
  const fn = await lookupFunction(mem, executorGlobals, spec);
  const type = await mem.u8(fn + BigInt(fnLayout.offset('type')));
  const callee = async (hit: ProbeHit) => {
    const { frames } = await phpFrames(mem, executorGlobals, await hit.thread.registers(), 1);
    if (!frames[0]) throw new PhpError(`a call of ${spec} has no PHP frame`);
    return handler({ hit, frame: frames[0] });
  };
  const manager = ProbeManager.for(base);
  const name = opts.name ?? `php:${spec}`;
  if (type === ZEND_INTERNAL_FUNCTION) {
    const entry = await mem.pointer(fn + BigInt(mem.types.of('zend_internal_function').offset('handler')));
    return manager.breakpoint(entry, { pre: callee }, { ...opts, name });
  }
  if (type !== ZEND_USER_FUNCTION) throw new PhpError(`${spec} is no function that can be probed (type ${type})`);

  const opSize = BigInt(mem.types.of('zend_op').size);
  const opcodes = await mem.pointer(fn + BigInt(fnLayout.offset('op_array.opcodes')));
  const count = await mem.u32(fn + BigInt(fnLayout.offset('op_array.last')));
  const declared = await mem.u32(fn + BigInt(fnLayout.offset('common.num_args')));
  const typed = ((await mem.u32(fn + BigInt(fnLayout.offset('common.fn_flags')))) & ZEND_ACC_HAS_TYPE_HINTS) !== 0;
  const entries = typed ? [0] : Array.from({ length: Math.min(declared + 1, count) }, (_, k) => k);
  const handlerOffset = BigInt(mem.types.of('zend_op').offset('handler'));
  const addresses = await Promise.all(entries.map((k) => mem.pointer(opcodes + BigInt(k) * opSize + handlerOffset)));

  const ex = mem.types.of('zend_execute_data');
  const numArgs = ex.offset('This') + mem.types.of('zval').offset('u2.num_args');
  const isEntry = async (hit: ProbeHit): Promise<boolean> => {
    const regs = await hit.thread.registers();
    const e = regs.get('r14');
    const opline = regs.get('r15');
    if (e === undefined || opline === undefined || opline < opcodes || (opline - opcodes) % opSize !== 0n) return false;
    const k = Number((opline - opcodes) / opSize);
    if (!entries.includes(k) || (await mem.pointer(e + BigInt(ex.offset('func')))) !== fn) return false;
    const passed = await mem.u32(e + BigInt(numArgs));
    return k === (typed || passed > declared ? 0 : passed);
  };
  const userFilter = opts.filter;
  return manager.breakpoints(addresses, { pre: callee }, {
    ...opts,
    name,
    filter: async (hit) => (await isEntry(hit)) && (userFilter ? userFilter(hit) : true),
  });
}
