// Which Debian mirror to build from: the one apt already uses on this machine
// (only that mirror is reachable on CI machines). Parses both the one-line
// `sources.list` form and deb822 `*.sources` files.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line.startsWith('deb ')) continue;
    // Drop `[arch=amd64 signed-by=…]` options.
    const words = line.replace(/\[[^\]]*\]/, ' ').split(/\s+/).slice(1);
    const [uri, suite, ...components] = words;
    if (uri && suite) out.push({ uri, suites: [suite], components });
  }
  return out;
}

/**
 * Debian control stanzas (deb822: sources, Packages indexes, dpkg status): each a
 * map of lower-cased field name → its first line, trimmed. Comment lines are skipped;
 * continuation lines (leading space) are not fields and are ignored.
 */
export function controlStanzas(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m?.[1] && m[2] !== undefined) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    if (fields.size) out.push(fields);
  }
  return out;
}

function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const fields of controlStanzas(text)) {
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const uris = (fields.get('uris') ?? '').split(/\s+/).filter(Boolean);
    const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
    const components = (fields.get('components') ?? '').split(/\s+/).filter(Boolean);
    for (const uri of uris) out.push({ uri, suites, components });
  }
  return out;
}

export function parseAptSources(fileName: string, text: string): AptSource[] {
  return fileName.endsWith('.sources') ? parseDeb822(text) : parseOneLine(text);
}

/** Every enabled `deb` source of the machine, sources.list first. */
export async function readAptSources(etcApt = '/etc/apt'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const main = await readFile(join(etcApt, 'sources.list'), 'utf8').catch(() => '');
  out.push(...parseAptSources('sources.list', main));
  const dir = join(etcApt, 'sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const n of names) {
    if (!n.endsWith('.list') && !n.endsWith('.sources')) continue;
    out.push(...parseAptSources(n, await readFile(join(dir, n), 'utf8').catch(() => '')));
  }
  return out;
}

/** The mirror that carries `suite` (e.g. bookworm), or undefined when none does. */
export function mirrorForSuite(sources: readonly AptSource[], suite: string): string | undefined {
  return sources.find((s) => s.suites.includes(suite))?.uri;
}
