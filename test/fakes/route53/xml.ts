/**
 * Just enough XML for the fake Route 53 server: parse the SDK's request bodies (elements, text,
 * entities, CDATA; attributes skipped) and escape text for responses.
 */

export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

export class XmlSyntaxError extends Error {
  override readonly name = "XmlSyntaxError";
}

const ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, body: string) => {
    if (body.startsWith("#x")) return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
    if (body.startsWith("#")) return String.fromCodePoint(Number.parseInt(body.slice(1), 10));
    const named = ENTITIES[body];
    if (named === undefined) throw new XmlSyntaxError(`unknown entity ${whole}`);
    return named;
  });
}

export const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&${Object.entries(ENTITIES).find(([, v]) => v === c)![0]};`);

/** Parses one document and returns its root element. Namespace prefixes are dropped. */
export function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const localName = (qname: string) => qname.slice(qname.indexOf(":") + 1);
  while (i < source.length) {
    const lt = source.indexOf("<", i);
    const textEnd = lt === -1 ? source.length : lt;
    if (textEnd > i) {
      const text = source.slice(i, textEnd);
      const top = stack.at(-1);
      if (top) top.text += decodeEntities(text);
      else if (text.trim() !== "") throw new XmlSyntaxError("text outside the root element");
    }
    if (lt === -1) break;
    if (source.startsWith("<?", lt)) {
      i = mustFind(source, "?>", lt) + 2;
    } else if (source.startsWith("<!--", lt)) {
      i = mustFind(source, "-->", lt) + 3;
    } else if (source.startsWith("<![CDATA[", lt)) {
      const end = mustFind(source, "]]>", lt);
      const top = stack.at(-1);
      if (!top) throw new XmlSyntaxError("CDATA outside the root element");
      top.text += source.slice(lt + 9, end);
      i = end + 3;
    } else if (source.startsWith("</", lt)) {
      const end = mustFind(source, ">", lt);
      const name = localName(source.slice(lt + 2, end).trim());
      const top = stack.pop();
      if (!top || top.name !== name) throw new XmlSyntaxError(`unexpected </${name}>`);
      i = end + 1;
    } else {
      const end = mustFind(source, ">", lt);
      const selfClosing = source[end - 1] === "/";
      const inner = source.slice(lt + 1, selfClosing ? end - 1 : end).trim();
      const name = localName(inner.split(/\s/, 1)[0] ?? "");
      if (name === "") throw new XmlSyntaxError("empty element name");
      const element: XmlElement = { name, children: [], text: "" };
      const parent = stack.at(-1);
      if (parent) parent.children.push(element);
      else if (root) throw new XmlSyntaxError("more than one root element");
      else root = element;
      if (!selfClosing) stack.push(element);
      i = end + 1;
    }
  }
  if (stack.length > 0) throw new XmlSyntaxError(`unclosed <${stack.at(-1)!.name}>`);
  if (!root) throw new XmlSyntaxError("no root element");
  return root;
}

function mustFind(source: string, needle: string, from: number): number {
  const at = source.indexOf(needle, from);
  if (at === -1) throw new XmlSyntaxError(`missing ${needle}`);
  return at;
}

export const child = (el: XmlElement | undefined, name: string): XmlElement | undefined =>
  el?.children.find((c) => c.name === name);
export const childrenNamed = (el: XmlElement | undefined, name: string): XmlElement[] =>
  el?.children.filter((c) => c.name === name) ?? [];
export const childText = (el: XmlElement | undefined, name: string): string | undefined => child(el, name)?.text;

/** `<Name>text</Name>`, escaped; nothing when the value is undefined. */
export const tag = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? "" : `<${name}>${escapeXml(String(value))}</${name}>`;
