import type { ScriptValue, Target } from '@stackdb/core';
import type { ZendTypes } from './zend-types.js';

/** zval type bytes (Zend/zend_types.h). */
const IS_UNDEF = 0, IS_NULL = 1, IS_FALSE = 2, IS_TRUE = 3, IS_LONG = 4, IS_DOUBLE = 5, IS_STRING = 6, IS_ARRAY = 7, IS_OBJECT = 8, IS_RESOURCE = 9, IS_REFERENCE = 10;

/** Longest string shown in full. */
const STRING_SHOWN = 256;
/** Elements shown of an array; nested arrays deeper than this show their size only. */
const ELEMENTS_SHOWN = 16;
const ARRAY_DEPTH = 2;
const HASH_FLAG_PACKED = 1 << 2;

/** Reads the engine's strings and values out of a PHP process. */
export class ZendMemory {
  constructor(readonly target: Target, readonly types: ZendTypes) {}

  pointer(address: bigint): Promise<bigint> {
    return this.target.readPointer(address);
  }

  async u32(address: bigint): Promise<number> {
    return Number(await this.target.readUnsigned(address, 4));
  }

  async u8(address: bigint): Promise<number> {
    return Number(await this.target.readUnsigned(address, 1));
  }

  /** A `zend_string`'s text (at most `max` bytes of it), or undefined for a null pointer. */
  async zendString(address: bigint, max = 4096): Promise<{ text: string; length: number } | undefined> {
    if (address === 0n) return undefined;
    const s = this.types.of('zend_string');
    const length = Number(await this.target.readUnsigned(address + BigInt(s.offset('len')), 8));
    const bytes = await this.target.read(address + BigInt(s.offset('val')), Math.min(length, max));
    return { text: Buffer.from(bytes).toString('utf8'), length };
  }

  async cString(address: bigint): Promise<string | undefined> {
    return address === 0n ? undefined : this.target.readString(address, 256);
  }

  /** The name of a class entry. */
  async className(ce: bigint): Promise<string | undefined> {
    if (ce === 0n) return undefined;
    return (await this.zendString(await this.pointer(ce + BigInt(this.types.of('zend_class_entry').offset('name')))))?.text;
  }

  /** A zval as PHP shows it in a backtrace. */
  async zval(address: bigint, depth = 0): Promise<ScriptValue> {
    const z = this.types.of('zval');
    const type = await this.u8(address + BigInt(z.offset('u1.type_info')));
    const value = address + BigInt(z.offset('value'));
    switch (type) {
      case IS_UNDEF:
        return { type: 'undef', text: '<undef>', json: null };
      case IS_NULL:
        return { type: 'null', text: 'NULL', json: null };
      case IS_FALSE:
      case IS_TRUE:
        return { type: 'bool', text: type === IS_TRUE ? 'true' : 'false', json: type === IS_TRUE };
      case IS_LONG: {
        const n = BigInt.asIntN(64, await this.target.readUnsigned(value, 8));
        return { type: 'int', text: n.toString(), json: Number.isSafeInteger(Number(n)) ? Number(n) : n.toString() };
      }
      case IS_DOUBLE: {
        const b = await this.target.read(value, 8);
        const d = new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
        return { type: 'float', text: formatFloat(d), json: Number.isFinite(d) ? d : String(d) };
      }
      case IS_STRING: {
        const s = (await this.zendString(await this.pointer(value), STRING_SHOWN))!;
        const shown = JSON.stringify(s.text);
        return { type: 'string', text: s.length > STRING_SHOWN ? `${shown.slice(0, -1)}..."` : shown, json: s.text };
      }
      case IS_ARRAY:
        return this.array(await this.pointer(value), depth);
      case IS_OBJECT: {
        const obj = await this.pointer(value);
        const o = this.types.of('zend_object');
        const name = (await this.className(await this.pointer(obj + BigInt(o.offset('ce'))))) ?? '?';
        const handle = await this.u32(obj + BigInt(o.offset('handle')));
        return { type: name, text: `object(${name})#${handle}`, json: { object: name, handle } };
      }
      case IS_RESOURCE: {
        const handle = await this.u32(await this.pointer(value) + BigInt(this.types.of('zend_resource').offset('handle')));
        return { type: 'resource', text: `resource(${handle})`, json: { resource: handle } };
      }
      case IS_REFERENCE:
        // A reference's value is never itself a reference.
        return this.zval(await this.pointer(value) + BigInt(this.types.of('zend_reference').offset('val')), depth);
      default:
        return { type: `type ${type}`, text: `<zval type ${type}>`, json: null };
    }
  }

  /** An array's first elements, `[1, 2]` or `["a" => 1, 7 => "x"]`; deeper ones as `array(N)`. */
  private async array(ht: bigint, depth: number): Promise<ScriptValue> {
    const a = this.types.of('zend_array');
    const count = await this.u32(ht + BigInt(a.offset('nNumOfElements')));
    if (depth >= ARRAY_DEPTH) return { type: 'array', text: `array(${count})`, json: { array: count } };
    const packed = ((await this.u32(ht + BigInt(a.offset('u.flags')))) & HASH_FLAG_PACKED) !== 0;
    const used = await this.u32(ht + BigInt(a.offset('nNumUsed')));
    const data = await this.pointer(ht + BigInt(a.offset('arData')));
    const zval = this.types.of('zval');
    const bucket = this.types.of('Bucket');
    const step = BigInt(packed ? zval.size : bucket.size);
    const elements: { key: number | string; value: ScriptValue }[] = [];
    for (let i = 0; i < used && elements.length < ELEMENTS_SHOWN; i++) {
      const at = data + BigInt(i) * step;
      if ((await this.u8(at + BigInt(zval.offset('u1.type_info')))) === IS_UNDEF) continue;
      let key: number | string = i;
      if (!packed) {
        const name = await this.zendString(await this.pointer(at + BigInt(bucket.offset('key'))));
        key = name ? name.text : Number(BigInt.asIntN(64, await this.target.readUnsigned(at + BigInt(bucket.offset('h')), 8)));
      }
      elements.push({ key, value: await this.zval(at + BigInt(packed ? 0 : bucket.offset('val')), depth + 1) });
    }
    const list = elements.every((e, i) => e.key === i);
    const more = count > elements.length ? ', ...' : '';
    const text = list
      ? `[${elements.map((e) => e.value.text).join(', ')}${more}]`
      : `[${elements.map((e) => `${typeof e.key === 'string' ? JSON.stringify(e.key) : e.key} => ${e.value.text}`).join(', ')}${more}]`;
    const json = count > elements.length ? { array: count, first: elements.map((e) => ({ key: e.key, value: e.value.json })) } : list ? elements.map((e) => e.value.json) : Object.fromEntries(elements.map((e) => [e.key, e.value.json]));
    return { type: 'array', text, json };
  }
}

/** As PHP prints a float: integral values keep a `.0`, others their shortest form. */
function formatFloat(d: number): string {
  if (Number.isNaN(d)) return 'NAN';
  if (!Number.isFinite(d)) return d > 0 ? 'INF' : '-INF';
  const s = String(d);
  return Number.isInteger(d) && !s.includes('e') ? `${s}.0` : s;
}
