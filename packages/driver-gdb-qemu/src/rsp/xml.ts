/*
 * A small XML reader for the documents stubs send: target descriptions, thread
 * lists, SVR4 library lists. Those are machine-written, attribute-centred and
 * small, so this reads elements, attributes and text, skips the prolog, comments,
 * processing instructions and DOCTYPE, decodes the five predefined entities and
 * character references, and reports malformed input as an error, never a throw
 * from deep inside.
 */

/** One element. */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** Concatenated text directly inside the element. */
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

/** Parses a document; returns its root element or an error message with the offset. */
export function parseXml(text: string): XmlElement | { error: string } {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const err = (what: string) => ({ error: `${what} at offset ${i}` });
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (stack.length) stack[stack.length - 1]!.text += decodeEntities(chunk);
    else if (chunk.trim() !== '') return err('text outside the root element');
    if (lt < 0) break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return err('unterminated comment');
      i = end + 3;
    } else if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return err('unterminated processing instruction');
      i = end + 2;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0 || !stack.length) return err('bad CDATA section');
      stack[stack.length - 1]!.text += text.slice(i + 9, end);
      i = end + 3;
    } else if (text.startsWith('<!', i)) {
      // DOCTYPE, possibly with an internal subset in brackets.
      let depth = 0;
      let j = i + 2;
      for (; j < text.length; j++) {
        const c = text[j];
        if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (c === '>' && depth <= 0) break;
      }
      if (j >= text.length) return err('unterminated declaration');
      i = j + 1;
    } else if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i);
      if (end < 0) return err('unterminated end tag');
      const name = text.slice(i + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name) return err(`unexpected </${name}>`);
      i = end + 1;
    } else {
      const m = /^<([A-Za-z_][\w:.-]*)/.exec(text.slice(i, i + 256));
      if (!m) return err('bad tag');
      const el: XmlElement = { name: m[1]!, attrs: {}, children: [], text: '' };
      i += m[0].length;
      const attrs = el.attrs as Record<string, string>;
      const attrRe = /\s*([A-Za-z_][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')|\s*(\/?>)/y;
      let closed = false;
      let selfClosing = false;
      while (!closed) {
        attrRe.lastIndex = i;
        const a = attrRe.exec(text);
        if (!a) return err(`bad attribute in <${el.name}>`);
        i = attrRe.lastIndex;
        if (a[5]) {
          closed = true;
          selfClosing = a[5] === '/>';
        } else {
          attrs[a[1]!] = decodeEntities(a[3] ?? a[4] ?? '');
        }
      }
      if (stack.length) stack[stack.length - 1]!.children.push(el);
      else if (root) return err('a second root element');
      else root = el;
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length) return { error: `unclosed <${stack[stack.length - 1]!.name}> at the end` };
  if (!root) return { error: 'no root element' };
  return root;
}

/** Every descendant (depth first) with the given name. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.name === name) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}
