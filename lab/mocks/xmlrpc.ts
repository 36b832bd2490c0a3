// A small, strict XML-RPC codec (http://xmlrpc.com/spec.md) for mock Cobbler:
// methodCall parsing and methodResponse/fault rendering. Supports int/i4, boolean,
// string (and untyped values), double, dateTime.iso8601 (kept as text), base64,
// array, struct, nil. Anything else is rejected with a clear error.
import { ForgeError } from '../../agent/core/errors.js';

export type XmlRpcValue = string | number | boolean | null | Uint8Array | XmlRpcValue[] | { [k: string]: XmlRpcValue };

interface Node {
  name: string;
  children: Node[];
  text: string;
}

const bad = (msg: string): never => {
  throw new ForgeError('USAGE', `xml-rpc: ${msg}`);
};

function unescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

export function escapeXml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Parses the element tree (no attributes needed by XML-RPC; they are ignored). */
function parseXml(xml: string): Node {
  let i = 0;
  const src = xml.replace(/^\s*<\?xml[^?]*\?>/, '');
  const root: Node = { name: '#root', children: [], text: '' };
  const stack: Node[] = [root];
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const top = stack[stack.length - 1] as Node;
    if (lt < 0) {
      top.text += unescape(src.slice(i));
      break;
    }
    if (lt > i) top.text += unescape(src.slice(i, lt));
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt);
      if (end < 0) bad('unterminated comment');
      i = end + 3;
      continue;
    }
    const gt = src.indexOf('>', lt);
    if (gt < 0) bad('unterminated tag');
    const tag = src.slice(lt + 1, gt).trim();
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) bad(`mismatched </${name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const name = (selfClosing ? tag.slice(0, -1) : tag).trim().split(/\s+/)[0] ?? '';
    if (!/^[A-Za-z][\w.:-]*$/.test(name)) bad(`bad tag <${tag}>`);
    const node: Node = { name, children: [], text: '' };
    top.children.push(node);
    if (!selfClosing) stack.push(node);
  }
  if (stack.length !== 1) bad(`unclosed <${(stack[stack.length - 1] as Node).name}>`);
  return root;
}

function only(n: Node, name: string): Node {
  const c = n.children.filter((x) => x.name === name);
  if (c.length !== 1) bad(`<${n.name}> must contain exactly one <${name}>`);
  return c[0] as Node;
}

function decodeValue(v: Node): XmlRpcValue {
  if (v.children.length === 0) return v.text; // untyped value = string
  if (v.children.length !== 1) bad('<value> must hold one typed element');
  const t = v.children[0] as Node;
  const text = t.text.trim();
  switch (t.name) {
    case 'i4':
    case 'int':
    case 'i8': {
      if (!/^[+-]?\d+$/.test(text)) bad(`<${t.name}> not an integer: ${text}`);
      return Number(text);
    }
    case 'boolean':
      if (text !== '0' && text !== '1') bad(`<boolean> must be 0 or 1, got ${text}`);
      return text === '1';
    case 'string':
      return t.text;
    case 'double': {
      const d = Number(text);
      if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) || Number.isNaN(d)) bad(`<double> not a number: ${text}`);
      return d;
    }
    case 'dateTime.iso8601':
      return text;
    case 'base64':
      return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
    case 'nil':
      return null;
    case 'array':
      return only(t, 'data').children.map((c) => {
        if (c.name !== 'value') bad('<data> may only contain <value>');
        return decodeValue(c);
      });
    case 'struct': {
      const o: { [k: string]: XmlRpcValue } = {};
      for (const m of t.children) {
        if (m.name !== 'member') bad('<struct> may only contain <member>');
        o[only(m, 'name').text] = decodeValue(only(m, 'value'));
      }
      return o;
    }
    default:
      return bad(`unsupported type <${t.name}>`);
  }
}

export function parseMethodCall(xml: string): { method: string; params: XmlRpcValue[] } {
  const root = parseXml(xml);
  const call = only(root, 'methodCall');
  const method = only(call, 'methodName').text.trim();
  if (!/^[\w.:/]+$/.test(method)) bad(`bad method name ${method}`);
  const ps = call.children.find((c) => c.name === 'params');
  const params = (ps?.children ?? []).map((p) => {
    if (p.name !== 'param') bad('<params> may only contain <param>');
    return decodeValue(only(p, 'value'));
  });
  return { method, params };
}

export function parseMethodResponse(xml: string): XmlRpcValue {
  const resp = only(parseXml(xml), 'methodResponse');
  const fault = resp.children.find((c) => c.name === 'fault');
  if (fault) {
    const f = decodeValue(only(fault, 'value')) as { faultString?: string; faultCode?: number };
    throw new ForgeError('LAB_FAILED', `xml-rpc fault ${f.faultCode ?? '?'}: ${f.faultString ?? ''}`);
  }
  return decodeValue(only(only(only(resp, 'params'), 'param'), 'value'));
}

export function encodeValue(v: XmlRpcValue): string {
  if (v === null) return '<value><nil/></value>';
  if (typeof v === 'string') return `<value><string>${escapeXml(v)}</string></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number') {
    return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  }
  if (v instanceof Uint8Array) return `<value><base64>${Buffer.from(v).toString('base64')}</base64></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  return `<value><struct>${Object.entries(v).map(([k, x]) => `<member><name>${escapeXml(k)}</name>${encodeValue(x)}</member>`).join('')}</struct></value>`;
}

export function methodResponse(v: XmlRpcValue): string {
  return `<?xml version="1.0"?>\n<methodResponse><params><param>${encodeValue(v)}</param></params></methodResponse>\n`;
}

export function methodCall(method: string, params: XmlRpcValue[]): string {
  return `<?xml version="1.0"?>\n<methodCall><methodName>${escapeXml(method)}</methodName><params>${params.map((p) => `<param>${encodeValue(p)}</param>`).join('')}</params></methodCall>\n`;
}

export function faultResponse(code: number, message: string): string {
  return `<?xml version="1.0"?>\n<methodResponse><fault>${encodeValue({ faultCode: code, faultString: message })}</fault></methodResponse>\n`;
}
