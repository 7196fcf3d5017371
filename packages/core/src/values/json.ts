import { typeName } from '@stackdb/dwdebug';
import { formatValue, type FormatContext, type FormatOptions } from './format.js';
import type { Value } from './value.js';

/** A value as JSON: its type name, status, raw bytes (hex, little-endian), location, and the debugger rendering. */
export interface ValueJson {
  readonly type: string;
  readonly status: Value['status'];
  readonly reason?: string;
  /** The value's bytes as hex, in memory order. */
  readonly raw?: string;
  /** Memory address or register, when the value has one. */
  readonly address?: string;
  readonly register?: string;
  /** Some bits of an ok value are missing (members optimized out): `raw` has zeros there. */
  readonly partial?: boolean;
  /** What the text form shows. */
  readonly text: string;
}

/** The JSON form of a value. */
export async function valueToJson(v: Value, ctx: FormatContext, opts: FormatOptions = {}): Promise<ValueJson> {
  const loc = v.location;
  return {
    type: typeName(v.type),
    status: v.status,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.bytes && v.status === 'ok' ? { raw: Buffer.from(v.bytes).toString('hex') } : {}),
    ...(loc?.kind === 'memory' ? { address: `0x${loc.address.toString(16)}` } : {}),
    ...(loc?.kind === 'register' ? { register: loc.register } : {}),
    ...(v.gaps ? { partial: true } : {}),
    text: await formatValue(v, ctx, opts),
  };
}
