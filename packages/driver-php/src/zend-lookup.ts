import { PhpError } from './errors.js';
import type { ZendMemory } from './zend-values.js';

/** zval type bytes of engine pointers kept in hash tables. */
const IS_PTR = 13, IS_ALIAS_PTR = 14;
const HASH_FLAG_PACKED = 1 << 2;
/** More buckets than any sane function or class table holds. */
const MAX_BUCKETS = 1 << 22;

/** The engine's string hash (DJBX33A, top bit set), as bucket keys store it. */
export function zendHash(key: string): bigint {
  let h = 5381n;
  for (const c of Buffer.from(key, 'utf8')) h = BigInt.asUintN(64, h * 33n + BigInt(c));
  return h | 0x8000000000000000n;
}

/** The pointer a string-keyed hash table holds under `key` (functions, classes), or undefined. */
export async function hashTablePointer(mem: ZendMemory, table: bigint, key: string): Promise<bigint | undefined> {
  const ht = mem.types.of('zend_array');
  const bucket = mem.types.of('Bucket');
  const zval = mem.types.of('zval');
  if ((await mem.u32(table + BigInt(ht.offset('u.flags')))) & HASH_FLAG_PACKED) return undefined;
  const used = await mem.u32(table + BigInt(ht.offset('nNumUsed')));
  if (used > MAX_BUCKETS) throw new PhpError(`hash table 0x${table.toString(16)} claims ${used} buckets`);
  const data = await mem.pointer(table + BigInt(ht.offset('arData')));
  const bytes = await mem.target.read(data, used * bucket.size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const want = zendHash(key);
  for (let i = 0; i < used; i++) {
    const at = i * bucket.size;
    if (view.getBigUint64(at + bucket.offset('h'), true) !== want) continue;
    const type = view.getUint8(at + bucket.offset('val') + zval.offset('u1.type_info'));
    const name = await mem.zendString(view.getBigUint64(at + bucket.offset('key'), true));
    if (name?.text !== key || (type !== IS_PTR && type !== IS_ALIAS_PTR)) continue;
    return view.getBigUint64(at + bucket.offset('val') + zval.offset('value'), true);
  }
  return undefined;
}

/**
 * The `zend_function` a name denotes: `name` in the function table, or
 * `Class::method` (also `Class->method`) in a class's methods. PHP's names of
 * both are case-insensitive.
 */
export async function lookupFunction(mem: ZendMemory, executorGlobals: bigint, spec: string): Promise<bigint> {
  const eg = mem.types.of('zend_executor_globals');
  const m = /^(.+?)(?:::|->)(.+)$/.exec(spec);
  if (!m) {
    const table = await mem.pointer(executorGlobals + BigInt(eg.offset('function_table')));
    const fn = await hashTablePointer(mem, table, spec.toLowerCase());
    if (fn === undefined) throw new PhpError(`no PHP function ${spec} (is the script that declares it compiled yet?)`);
    return fn;
  }
  const [, className, method] = m;
  const classes = await mem.pointer(executorGlobals + BigInt(eg.offset('class_table')));
  const ce = await hashTablePointer(mem, classes, className!.replace(/^\\/, '').toLowerCase());
  if (ce === undefined) throw new PhpError(`no PHP class ${className}`);
  const fn = await hashTablePointer(mem, ce + BigInt(mem.types.of('zend_class_entry').offset('function_table')), method!.toLowerCase());
  if (fn === undefined) throw new PhpError(`class ${className} has no method ${method}`);
  return fn;
}
