// Checksums published beside an image: `<image>.meta.json` (our build-image output)
// or Fuel's `<name>.yaml` (`images: [{container_name, raw_md5, raw_size, ...}]`).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Ctx } from '../core/context.js';
import { ForgeError, isForgeError } from '../core/errors.js';
import { parseJsonAs } from '../core/parse-json.js';
import { redactUrl } from '../core/redact.js';
import { backoffDelay, getWithRetry, readSmallBody } from './http-client.js';
import type { Digests, FetchOptions } from './types.js';

export interface ImageMetadata {
  /** Where it was read (credentials redacted: for messages and reports only). */
  source: string;
  raw: Digests;
  container: Digests;
  format?: string;
  containerType?: string;
}

type Rec = Record<string, unknown>;

/** One image's record; its digests are checked field by field by digestsFromRecord. */
const record = z.record(z.string(), z.unknown());
/** Fuel's `<name>.yaml`: entries that are not records are no image of ours. */
const fuelYaml = z.looseObject({ images: z.array(z.unknown()) });

const HEX_LEN: Record<'md5' | 'sha256' | 'sha512', number> = { md5: 32, sha256: 64, sha512: 128 };

/**
 * Split one record into raw (decompressed) and container (as served) digests.
 * `raw_*` and `container_*` keys say which; plain `md5/sha256/sha512/size` describe
 * the decompressed image (Fuel's meaning) unless the record also has `raw_*` keys,
 * in which case the plain ones describe the file itself (build-image's
 * `size` + `raw_size`). For a raw container both are the same bytes.
 */
export function digestsFromRecord(rec: Rec, container: string, where: string): { raw: Digests; container: Digests } {
  const pick = (prefix: string): Digests => {
    const d: Digests = {};
    for (const a of ['md5', 'sha256', 'sha512'] as const) {
      const v = rec[prefix + a];
      if (v === undefined || v === null || v === '') continue;
      if (typeof v !== 'string' || !new RegExp(`^[0-9a-fA-F]{${HEX_LEN[a]}}$`).test(v)) {
        throw new ForgeError('CONFIG_INVALID', `${where}.${prefix}${a}: not a ${a} hex digest: ${JSON.stringify(v)}`, { field: `${where}.${prefix}${a}` });
      }
      d[a] = v.toLowerCase();
    }
    const size = rec[prefix + 'size'];
    if (size !== undefined && size !== null) {
      const n = typeof size === 'string' && /^\d+$/.test(size) ? Number(size) : size;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
        throw new ForgeError('CONFIG_INVALID', `${where}.${prefix}size: not a byte count: ${JSON.stringify(size)}`, { field: `${where}.${prefix}size` });
      }
      d.size = n;
    }
    return d;
  };
  const raw = pick('raw_');
  const cont = pick('container_');
  const plain = pick('');
  const hasRaw = Object.keys(raw).length > 0;
  if (container === 'raw') return { raw: { ...plain, ...cont, ...raw }, container: {} };
  return hasRaw ? { raw, container: { ...plain, ...cont } } : { raw: plain, container: cont };
}

/** Fuel names its metadata after the image up to the first dot: env_1_ubuntu.img.gz -> env_1_ubuntu.yaml. */
export function metadataUris(uri: string): { json: string; yaml: string } {
  const u = new URL(uri);
  const name = basename(u.pathname);
  const yaml = new URL(`${name.split('.')[0] ?? name}.yaml`, u);
  yaml.search = '';
  const json = new URL(u.href);
  json.pathname = `${u.pathname}.meta.json`;
  return { json: json.href, yaml: yaml.href };
}

/** Fetch a small text file; undefined when it does not exist. */
async function fetchText(ctx: Ctx, uri: string, fetch: FetchOptions): Promise<string | undefined> {
  const u = new URL(uri);
  const shown = redactUrl(uri);
  const what = `metadata ${shown}`;
  if (u.protocol === 'file:') {
    try {
      return await readFile(fileURLToPath(u), 'utf8');
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw new ForgeError('IMAGE_FETCH_FAILED', `${what}: ${(e as Error).message}`, { cause: e });
    }
  }
  // A body that stalls or crawls is fetched again whole (it is small), like a stalled image resumes.
  for (let attempt = 1; ; attempt++) {
    const res = await getWithRetry(ctx, u, { fetch, what });
    const status = res.statusCode ?? 0;
    if (status === 404 || status === 403 || status === 410) {
      res.resume();
      return undefined;
    }
    if (status !== 200) {
      res.resume();
      throw new ForgeError('IMAGE_FETCH_FAILED', `${what}: HTTP ${status}`, { details: { uri: shown, status } });
    }
    try {
      return await readSmallBody(ctx, res, { fetch, what });
    } catch (e) {
      if (!isForgeError(e) || e.code !== 'IMAGE_STALLED' || attempt >= fetch.connectAttempts) throw e;
      ctx.log.warn('image.retry', { uri, attempt, delayMs: backoffDelay(fetch, attempt), reason: e.message });
      await ctx.clock.sleep(backoffDelay(fetch, attempt), ctx.signal);
    }
  }
}

/** Metadata for the image at `uri`, or undefined when neither file exists (or lists it). */
export async function loadImageMetadata(ctx: Ctx, uri: string, container: string, fetch: FetchOptions): Promise<ImageMetadata | undefined> {
  const { json, yaml } = metadataUris(uri);
  const jsonText = await fetchText(ctx, json, fetch);
  if (jsonText !== undefined) {
    const shown = redactUrl(json);
    return fromRecord(parseJsonAs(record, jsonText, { source: `metadata ${shown}`, code: 'CONFIG_INVALID' }), container, shown);
  }
  const yamlText = await fetchText(ctx, yaml, fetch);
  if (yamlText === undefined) return undefined;
  const shownYaml = redactUrl(yaml);
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (e) {
    throw new ForgeError('CONFIG_INVALID', `metadata ${shownYaml}: not YAML: ${(e as Error).message}`, { field: shownYaml });
  }
  const listed = fuelYaml.safeParse(doc);
  if (!listed.success) return undefined;
  const name = basename(new URL(uri).pathname);
  const entry = listed.data.images
    .flatMap((i) => {
      const r = record.safeParse(i);
      return r.success ? [r.data] : [];
    })
    .find((i) => i.container_name === name || i.name === name || i.uri === uri);
  return entry ? fromRecord(entry, container, `${shownYaml}#${name}`) : undefined;
}

function fromRecord(rec: Rec, container: string, where: string): ImageMetadata {
  const d = digestsFromRecord(rec, typeof rec.container === 'string' ? rec.container : container, where);
  const m: ImageMetadata = { source: where, ...d };
  if (typeof rec.format === 'string') m.format = rec.format;
  if (typeof rec.container === 'string') m.containerType = rec.container;
  return m;
}
