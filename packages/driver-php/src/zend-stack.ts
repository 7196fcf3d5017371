import type { RegisterSet, ScriptArgument, ScriptFrame } from '@stackdb/core';
import { PhpError } from './errors.js';
import type { ZendMemory } from './zend-values.js';

/** zend_function.type values (Zend/zend_compile.h). */
const ZEND_INTERNAL_FUNCTION = 1;
const ZEND_EVAL_CODE = 4;
/** zval type byte of an object (`$this`). */
const IS_OBJECT = 8;
/** Frames walked before the chain is taken for a loop. */
const MAX_FRAMES = 100_000;

/**
 * The frames of the PHP program a thread runs, innermost first: the chain of
 * `zend_execute_data` from the executor's current frame. A caller's line is
 * the call it saved; the innermost user frame's comes from the VM's opline
 * register (r15 beside the frame in r14, in builds with global VM registers)
 * when the VM is running it, else from the frame.
 */
export async function phpFrames(mem: ZendMemory, executorGlobals: bigint, regs: RegisterSet | undefined, maxDepth: number): Promise<{ frames: ScriptFrame[]; more: boolean }> {
  const t = mem.types;
  const eg = t.of('zend_executor_globals');
  const ex = t.of('zend_execute_data');
  const fn = t.of('zend_function');
  const zval = t.of('zval');
  const slot0 = BigInt(Math.ceil(ex.size / zval.size) * zval.size);

  const frames: ScriptFrame[] = [];
  const seen = new Set<bigint>();
  let e = await mem.pointer(executorGlobals + BigInt(eg.offset('current_execute_data')));
  while (e !== 0n) {
    if (seen.has(e) || seen.size >= MAX_FRAMES) throw new PhpError(`the frame chain loops at 0x${e.toString(16)}`);
    seen.add(e);
    const prev = await mem.pointer(e + BigInt(ex.offset('prev_execute_data')));
    const func = await mem.pointer(e + BigInt(ex.offset('func')));
    if (func === 0n) {
      e = prev;
      continue;
    }
    if (frames.length >= maxDepth) return { frames, more: true };
    const type = await mem.u8(func + BigInt(fn.offset('type')));
    const name = (await mem.zendString(await mem.pointer(func + BigInt(fn.offset('common.function_name')))))?.text;
    const scope = await mem.className(await mem.pointer(func + BigInt(fn.offset('common.scope'))));
    const thisType = await mem.u8(e + BigInt(ex.offset('This') + zval.offset('u1.type_info')));
    const passed = await mem.u32(e + BigInt(ex.offset('This') + zval.offset('u2.num_args')));
    const declared = await mem.u32(func + BigInt(fn.offset('common.num_args')));
    const internal = type === ZEND_INTERNAL_FUNCTION;
    const argAt = (i: number) => e + slot0 + BigInt(i * zval.size);

    const args: ScriptArgument[] = [];
    let file: string | undefined;
    let line: number | undefined;
    if (internal) {
      const info = await mem.pointer(func + BigInt(fn.offset('common.arg_info')));
      const infoSize = t.of('zend_internal_arg_info').size;
      for (let i = 0; i < passed; i++) {
        const argName = i < declared && info !== 0n ? await mem.cString(await mem.pointer(info + BigInt(i * infoSize))) : undefined;
        args.push({ name: `$${argName ?? `arg${i}`}`, value: await mem.zval(argAt(i)) });
      }
    } else {
      file = (await mem.zendString(await mem.pointer(func + BigInt(fn.offset('op_array.filename')))))?.text;
      const opline = await currentOpline(mem, func, e, frames.length === 0 ? regs : undefined);
      if (opline !== 0n) line = await mem.u32(opline + BigInt(t.of('zend_op').offset('lineno')));
      const vars = await mem.pointer(func + BigInt(fn.offset('op_array.vars')));
      for (let i = 0; i < Math.min(passed, declared); i++) {
        const varName = (await mem.zendString(await mem.pointer(vars + BigInt(i * 8))))?.text ?? `arg${i}`;
        args.push({ name: `$${varName}`, value: await mem.zval(argAt(i)) });
      }
    }
    const fnName = name ?? (type === ZEND_EVAL_CODE ? '{eval}' : prev === 0n || !(await hasCaller(mem, prev)) ? '{main}' : '{include}');
    frames.push({
      index: frames.length,
      function: fnName,
      ...(scope !== undefined && name !== undefined ? { class: scope, callType: thisType === IS_OBJECT ? '->' as const : '::' as const } : {}),
      ...(file !== undefined ? { file } : {}),
      ...(line !== undefined ? { line } : {}),
      internal,
      args,
    });
    e = prev;
  }
  return { frames, more: false };
}

/** Whether some frame below `e` runs a function (top-level code has none below it). */
async function hasCaller(mem: ZendMemory, e: bigint): Promise<boolean> {
  const ex = mem.types.of('zend_execute_data');
  for (let depth = 0; e !== 0n && depth < MAX_FRAMES; depth++) {
    if ((await mem.pointer(e + BigInt(ex.offset('func')))) !== 0n) return true;
    e = await mem.pointer(e + BigInt(ex.offset('prev_execute_data')));
  }
  return false;
}

/** The opline a user frame executes: the VM's register when it runs this frame, else the one the frame saved. */
async function currentOpline(mem: ZendMemory, func: bigint, e: bigint, regs: RegisterSet | undefined): Promise<bigint> {
  const t = mem.types;
  const saved = await mem.pointer(e + BigInt(t.of('zend_execute_data').offset('opline')));
  if (!regs || regs.get('r14') !== e) return saved;
  const vmOpline = regs.get('r15');
  const fn = t.of('zend_function');
  const opcodes = await mem.pointer(func + BigInt(fn.offset('op_array.opcodes')));
  const count = await mem.u32(func + BigInt(fn.offset('op_array.last')));
  const end = opcodes + BigInt(count * t.of('zend_op').size);
  return vmOpline !== undefined && vmOpline >= opcodes && vmOpline < end ? vmOpline : saved;
}
