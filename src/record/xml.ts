/**
 * The little XML that XDF headers and footers need: escaping on the way out, and a small
 * element-tree parser on the way in (elements, text, entities; attributes, comments,
 * processing instructions and CDATA are accepted and attributes ignored). Not a general XML
 * library: enough for `<info>` documents written by Reflex, LabRecorder and pyxdf's writers.
 */

export interface XmlElement {
  name: string;
  children: XmlElement[];
  /** Concatenated direct text content, entities decoded. */
  text: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESC[c]!);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ent: string) => {
    if (!ent.startsWith('#')) return ENTITIES[ent] ?? whole;
    const code = ent.startsWith('#x') ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
    // fromCodePoint throws a RangeError past U+10FFFF; that is malformed input, not a crash.
    if (!(code <= 0x10ffff)) throw new XmlSyntaxError(`character reference &${ent}; is outside Unicode`);
    return String.fromCodePoint(code);
  });
}

export class XmlSyntaxError extends Error {}

/** Parse one document; returns its root element. Throws XmlSyntaxError on malformed input. */
export function parseXml(src: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const text = src.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.text += decodeEntities(text);
      else if (text.trim() !== '' && text !== '\0') throw new XmlSyntaxError(`text outside the root element at ${i}`);
    }
    if (lt < 0) break;
    if (src.startsWith('<?', lt)) {
      const end = src.indexOf('?>', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated processing instruction');
      i = end + 2;
    } else if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated comment');
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', lt)) {
      const end = src.indexOf(']]>', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated CDATA');
      const top = stack[stack.length - 1];
      if (!top) throw new XmlSyntaxError('CDATA outside the root element');
      top.text += src.slice(lt + 9, end);
      i = end + 3;
    } else if (src.startsWith('<!', lt)) {
      const end = src.indexOf('>', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated declaration');
      i = end + 1;
    } else if (src.startsWith('</', lt)) {
      const end = src.indexOf('>', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated end tag');
      const name = src.slice(lt + 2, end).trim();
      const top = stack.pop();
      if (!top || top.name !== name) throw new XmlSyntaxError(`end tag </${name}> does not match <${top?.name ?? ''}>`);
      i = end + 1;
    } else {
      const end = src.indexOf('>', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated start tag');
      let inner = src.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      if (selfClosing) inner = inner.slice(0, -1);
      const name = /^[^\s/>]+/.exec(inner)?.[0];
      if (!name) throw new XmlSyntaxError(`empty tag at ${lt}`);
      const el: XmlElement = { name, children: [], text: '' };
      const top = stack[stack.length - 1];
      if (top) top.children.push(el);
      else if (root) throw new XmlSyntaxError('more than one root element');
      else root = el;
      if (!selfClosing) stack.push(el);
      i = end + 1;
    }
  }
  if (stack.length > 0) throw new XmlSyntaxError(`element <${stack[stack.length - 1]!.name}> is not closed`);
  if (!root) throw new XmlSyntaxError('no root element');
  return root;
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function childText(el: XmlElement | undefined, name: string): string | undefined {
  return child(el, name)?.text.trim();
}
