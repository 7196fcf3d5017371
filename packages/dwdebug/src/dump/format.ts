/**
 * Text forms of types, symbols and locations in the style of the original
 * Stackdb's `dumpdebuginfo` (`func: int main (int argc (line=3,) @@ FB-20)
 * (external,prototyped,line=3,) @@ 0x40056c`).
 */
import { formatLocationShort } from '../loc/format.js';
import { declare, typeName } from '../dwarf/model/format.js';
import { strip, type DwarfType } from '../dwarf/model/types.js';
import type { DwarfSymbol, Scope } from '../dwarf/model/symbols.js';
import type { Location } from '../dwarf/model/dies.js';
import type { AddressRange } from '../dwarf/lists.js';
import { typeOfSymbol } from '../dwarf/debug-file.js';

/** Levels of a dump: `-D` (detail) and `-M` (metadata: locations). */
export interface Levels {
  readonly detail: number;
  readonly metadata: number;
}

/** `0x...` of an address. */
export function hex(a: bigint | number): string {
  return `0x${a.toString(16)}`;
}

/** `[0x1,0x2][0x3,0x4]`. */
export function formatRanges(ranges: readonly AddressRange[]): string {
  return ranges.map((r) => `[${hex(r.start)},${hex(r.end)}]`).join('');
}

/** A location: the seed's short notation (`FB-20`, `R7+8`, `0x601040`, `RUNTIMEDATA(...)`), `LIST(...)` for lists. */
export function formatLocation(loc: Location, sym: DwarfSymbol): string {
  const h = sym.ref.ctx.units[sym.ref.unit]!;
  const unit = { version: h.version, addressSize: h.addressSize, offsetSize: h.offsetSize, littleEndian: sym.ref.ctx.littleEndian };
  if (loc.kind === 'expr') return formatLocationShort(loc.expr, unit);
  return `LIST(${loc.entries.map((e) => `[${e.isDefault ? 'default' : `${hex(e.start)},${hex(e.end)}`}->${formatLocationShort(e.expr, unit)}]`).join(',')})`;
}

/** One line for a type: `int (4 B) (encoding=5)`, `typedef size_t = long unsigned int (8 B) (line=213)`. */
export function formatType(t: DwarfType, lv: Levels): string {
  const size = 'size' in t && t.size !== undefined ? ` (${t.size} B)` : '';
  const line = t.declLine !== undefined ? ` (line=${t.declLine})` : '';
  switch (t.kind) {
    case 'base': return `${t.name ?? '?'}${size} (encoding=${t.encoding})`;
    case 'typedef': return `typedef ${t.name ?? '?'} = ${typeName(t.target)}${size}${line}`;
    case 'struct': case 'union': case 'class': {
      const head = `${typeName(t)}${size}${t.declaration ? ' (decl)' : ''}${line}`;
      if (lv.detail < 1 || t.declaration) return head;
      const members = t.members.map((m) => {
        const bits = m.bitSize !== undefined ? ` : ${m.bitSize}` : '';
        const at = m.isStatic ? ' (static)' : m.bitSize !== undefined ? ` @bit ${m.bitOffset}` : m.offset !== undefined ? ` @${m.offset}` : '';
        return `${m.inheritance ? `inherits ${typeName(m.type)}` : declare(m.type, m.name ?? '')}${bits}${at};`;
      });
      return `${head} { ${members.join(' ')} }`;
    }
    case 'enum': {
      const head = `${typeName(t)}${size}${line}`;
      return lv.detail < 1 ? head : `${head} { ${t.enumerators.map((e) => `${e.name}=${e.value}`).join(', ')} }`;
    }
    case 'void': return 'void';
    default: return `${typeName(t)}${size}`;
  }
}

function props(parts: (string | false | undefined)[]): string {
  const p = parts.filter((x): x is string => !!x);
  return p.length ? ` (${p.map((x) => `${x},`).join('')})` : '';
}

/** One line for a symbol, with parameters and (at metadata level 1) locations. */
export function formatSymbol(s: DwarfSymbol, lv: Levels): string {
  const line = s.declLine !== undefined ? `line=${s.declLine}` : undefined;
  const at = (loc: Location | undefined) => (loc && lv.metadata > 0 ? ` @@ ${formatLocation(loc, s)}` : '');
  switch (s.kind) {
    case 'function': {
      const ps = s.params.map((p) => `${declare(p.type, p.name ?? '')}${props([p.declLine !== undefined && `line=${p.declLine}`])}${at(p.location)}`);
      if (s.variadic) ps.push('...');
      const entry = s.entryPc;
      return `func: ${declare(s.returnType, s.name ?? '')} (${ps.join(', ')})${props([
        s.external && 'external', s.prototyped && 'prototyped', s.declaration && 'decl', s.inline !== undefined && `inline=${s.inline}`,
        lv.metadata > 0 && s.frameBase && `frame_base=${formatLocation(s.frameBase, s)}`, line,
      ])}${entry !== undefined ? ` @@ ${hex(entry)}` : ''}`;
    }
    case 'variable': case 'parameter': {
      const cv = s.constValue;
      const constText = cv === undefined ? undefined : typeof cv === 'bigint' ? `const=${cv}` : `const=[${[...cv].map((b) => b.toString(16)).join(' ')}]`;
      return `${s.kind === 'variable' ? 'var' : 'param'}: ${declare(s.type, s.name ?? '')}${props([s.external && 'external', s.declaration && 'decl', constText, line])}${at(s.location)}`;
    }
    case 'label': {
      const a = s.address;
      return `label: ${s.name ?? ''}${props([line])}${a !== undefined ? ` @@ ${hex(a)}` : ''}`;
    }
    case 'enumerator': return `enumerator: ${s.name ?? ''} = ${s.value} (${typeName(s.type)})`;
    case 'inlined': {
      const o = s.origin;
      return `inlined: ${o ? declare(o.returnType, s.name ?? '') : s.name ?? ''}${props([s.callFile && `call=${s.callFile.split('/').pop()}:${s.callLine ?? 0}`])} @@ ${formatRanges(s.ranges)}`;
    }
    case 'call-site': {
      const pc = s.returnPc;
      return `call: ${s.callee?.name ?? '(indirect)'}${props([s.tailCall && 'tail'])}${pc !== undefined ? ` return ${hex(pc)}` : ''}`;
    }
  }
}

/** The type of a symbol as `declare` would print it, for JSON. */
export function symbolTypeName(s: DwarfSymbol): string | undefined {
  const t = typeOfSymbol(s);
  return t ? typeName(t) : undefined;
}

/** Writes a scope and everything below it, indented (the seed's `scope(name @@ addr) RANGES(...) { symbols: { } subscopes: { } }`). */
export function writeScope(out: string[], scope: Scope, indent: string, lv: Levels, depth = 0): void {
  const entry = scope.ranges[0]?.start;
  const head = `${indent}scope(${scope.name ?? ''}${entry !== undefined ? ` @@ ${hex(entry)}` : ''})${scope.ranges.length ? ` RANGES(${formatRanges(scope.ranges)})` : ''}`;
  const symbols = scope.symbols;
  const types = scope.kind === 'unit' && lv.detail < 1 ? [] : scope.types;
  const subs: Scope[] = [...scope.scopes];
  if (scope.kind === 'unit' || scope.kind === 'namespace') {
    // A unit's functions are scopes of their own below it.
    for (const s of symbols) if (s.kind === 'function' && s.ranges.length) subs.push(s.scope);
  }
  if (!symbols.length && !types.length && !subs.length) {
    out.push(`${head} { }`);
    return;
  }
  out.push(`${head} {`);
  if (symbols.length || types.length) {
    out.push(`${indent}  symbols: {`);
    for (const t of types) out.push(`${indent}    type: ${formatType(t, lv)}`);
    for (const s of symbols) out.push(`${indent}    ${formatSymbol(s, lv)}`);
    out.push(`${indent}  }`);
  }
  if (subs.length && depth < 64) {
    out.push(`${indent}  subscopes: {`);
    for (const c of subs) writeScope(out, c, `${indent}    `, lv, depth + 1);
    out.push(`${indent}  }`);
  }
  out.push(`${indent}}`);
}

/** Whether a type is worth listing among a dump's global types (named, not a pointer or qualifier). */
export function isNamedType(t: DwarfType): boolean {
  const s = strip(t);
  return t.name !== undefined && s.kind !== 'void';
}
