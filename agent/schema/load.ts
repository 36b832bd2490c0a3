// Reading the provision data: file → JSON → schema. Every problem becomes one
// ForgeError(CONFIG_INVALID) naming its JSON path; nothing is half-accepted.
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { readInputFile } from '../core/read-input.js';
import { issuesToErrors } from './issues.js';
import { provisionDataSchema, type ProvisionData } from './provision-data.js';

export const DEFAULT_INPUT = '/tmp/provision.json';

/** Validate an already-decoded document. Throws ForgeErrors(CONFIG_INVALID). */
export function parseProvisionData(json: unknown): ProvisionData {
  const r = provisionDataSchema.safeParse(json);
  if (!r.success) throw issuesToErrors('CONFIG_INVALID', r.error.issues, json);
  return r.data;
}

/** JSON text → document, with the parser's position in the error. */
export function parseJsonText(text: string, source: string, code: 'CONFIG_INVALID' | 'INVENTORY_INVALID' = 'CONFIG_INVALID'): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ForgeErrors(code, [new ForgeError(code, `${source}: not valid JSON: ${why}`, { field: source })]);
  }
}

export async function loadProvisionData(path: string = DEFAULT_INPUT): Promise<ProvisionData> {
  // Through the one capped, regular-files-only reader.
  const text = await readInputFile(path, { what: '--input' });
  return parseProvisionData(parseJsonText(text, path));
}
