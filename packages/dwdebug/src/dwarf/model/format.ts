/**
 * C declarators for types: `char **argv`, `int (*handler)(int)`,
 * `const struct foo *const p`, `int m[3][4]`, as gdb prints them.
 */
import type { DwarfType } from './types.js';

function tagName(t: DwarfType): string {
  switch (t.kind) {
    case 'void': return 'void';
    case 'struct': case 'union': case 'class': case 'enum':
      return `${t.kind} ${t.name ?? '{...}'}`;
    default: return t.name ?? (t.kind === 'unspecified' ? 'void' : `<${t.kind}>`);
  }
}

function needsParens(t: DwarfType): boolean {
  return t.kind === 'array' || t.kind === 'function';
}

function params(t: DwarfType & { kind: 'function' }, depth: number): string {
  const ps = t.params.map((p) => declarator(p, '', depth + 1));
  if (t.variadic) ps.push('...');
  if (ps.length === 0 && t.prototyped) return 'void';
  return ps.join(', ');
}

function declarator(t: DwarfType, inner: string, depth: number): string {
  if (depth > 64) return `<...> ${inner}`.trim();
  switch (t.kind) {
    case 'pointer': case 'reference': case 'rvalue-reference': {
      const sym = t.kind === 'pointer' ? '*' : t.kind === 'reference' ? '&' : '&&';
      const s = sym + inner;
      return declarator(t.target, needsParens(t.target) ? `(${s})` : s, depth + 1);
    }
    case 'ptr-to-member': {
      const s = `${tagName(t.containingType)}::*${inner}`;
      return declarator(t.target, needsParens(t.target) ? `(${s})` : s, depth + 1);
    }
    case 'const': case 'volatile': case 'restrict': case 'atomic': {
      const q = t.kind === 'atomic' ? '_Atomic' : t.kind;
      const target = t.target;
      if (target.kind === 'pointer' || target.kind === 'reference' || target.kind === 'rvalue-reference' || target.kind === 'ptr-to-member') {
        return declarator(target, ` ${q}${inner ? ' ' + inner : ''}`, depth + 1);
      }
      return `${q} ${declarator(target, inner, depth + 1)}`;
    }
    case 'array': {
      const dims = t.dimensions.map((d) => `[${d.count === undefined ? '' : d.count}]`).join('');
      return declarator(t.element, inner + dims, depth + 1);
    }
    case 'function':
      return declarator(t.returnType, `${inner}(${params(t, depth)})`, depth + 1);
    default: {
      const base = tagName(t);
      if (!inner) return base;
      return inner.startsWith(' ') ? base + inner : `${base} ${inner}`;
    }
  }
}

/** The C name of a type (`struct task_struct *`, `int [10]`, `void (*)(int)`). */
export function typeName(t: DwarfType): string {
  return declarator(t, '', 0);
}

/** A C declaration of `name` with type `t` (`char **argv`, `int (*fp)(int)`). */
export function declare(t: DwarfType, name: string): string {
  return declarator(t, name, 0);
}
