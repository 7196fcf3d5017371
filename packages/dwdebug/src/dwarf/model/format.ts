/**
 * C declarators for types: `char **argv`, `int (*handler)(int)`,
 * `const struct foo *const p`, `int m[3][4]`, as gdb prints them.
 */
import type { DwarfType } from './types.js';

const QUALIFIER_ORDER = ['const', 'volatile', 'restrict', '_Atomic'];

function tagName(t: DwarfType): string {
  switch (t.kind) {
    case 'void': return 'void';
    case 'struct': case 'union': case 'class': case 'enum':
      // C++ names a class by its name alone.
      return t.cxx && t.name ? t.name : `${t.kind} ${t.name ?? '{...}'}`;
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
      // A run of qualifiers prints in C's customary order, whatever order DWARF nested them in.
      const quals = new Set<string>();
      let target: DwarfType = t;
      for (let i = 0; i < 8 && (target.kind === 'const' || target.kind === 'volatile' || target.kind === 'restrict' || target.kind === 'atomic'); i++) {
        quals.add(target.kind === 'atomic' ? '_Atomic' : target.kind);
        target = target.target;
      }
      // C puts an array's qualifiers on its elements (gcc emits both): say them once.
      if (target.kind === 'array') {
        let e: DwarfType = target.element;
        for (let i = 0; i < 8 && (e.kind === 'const' || e.kind === 'volatile' || e.kind === 'restrict' || e.kind === 'atomic'); i++) {
          quals.delete(e.kind === 'atomic' ? '_Atomic' : e.kind);
          e = e.target;
        }
        if (quals.size === 0) return declarator(target, inner, depth + 1);
      }
      const q = QUALIFIER_ORDER.filter((x) => quals.has(x)).join(' ');
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
