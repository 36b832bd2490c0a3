// Loads the configdrive templates (data files beside this module) and renders
// them. Text templates substitute `{{name}}`; data templates (parsed YAML) also
// take `"{{=name}}"` for a structured value. Substitution happens on parsed data,
// never on YAML text, so a value can never inject configuration.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ForgeError } from '../core/errors.js';

/** Where the bootstrap ramdisk installs the templates (agent/host/ramdisk/build.ts). */
export const INSTALLED_TEMPLATES_DIR = '/usr/share/fuel-forge/configdrive/templates';

/**
 * Where templates live: `FORGE_TEMPLATES_DIR`, else beside this module (sources),
 * else the bootstrap ramdisk's install path (the esbuild bundle has no source tree).
 */
export function templatesDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    env.FORGE_TEMPLATES_DIR,
    fileURLToPath(new URL('./templates/', import.meta.url)),
    INSTALLED_TEMPLATES_DIR,
  ].filter((c): c is string => Boolean(c));
  const found = candidates.find((c) => existsSync(join(c, 'cloud-config.yaml')));
  if (!found) {
    throw new ForgeError('CONFIGDRIVE_FAILED', `configdrive templates not found (looked in ${candidates.join(', ')})`);
  }
  return found;
}

export function loadTemplate(name: string, dir: string = templatesDir()): string {
  if (!/^[\w.-]+$/.test(name)) throw new ForgeError('CONFIGDRIVE_FAILED', `bad template name: ${name}`);
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch (e) {
    throw new ForgeError('CONFIGDRIVE_FAILED', `configdrive template ${name} unreadable in ${dir}`, { cause: e });
  }
}

export type TextVars = Readonly<Record<string, string>>;

const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;

export function renderText(tpl: string, vars: TextVars, name = 'template'): string {
  return tpl.replace(PLACEHOLDER, (_m, key: string) => {
    const v = vars[key];
    if (v === undefined) throw new ForgeError('CONFIGDRIVE_FAILED', `${name}: unknown placeholder {{${key}}}`);
    return v;
  });
}

const WHOLE = /^\{\{=\s*([\w.]+)\s*\}\}$/;

/** Renders a parsed data template; `null`/`undefined` values drop their key. */
export function renderData(node: unknown, text: TextVars, data: Readonly<Record<string, unknown>>, name = 'template'): unknown {
  if (typeof node === 'string') {
    const whole = WHOLE.exec(node);
    if (whole?.[1]) {
      if (!(whole[1] in data)) throw new ForgeError('CONFIGDRIVE_FAILED', `${name}: unknown value {{=${whole[1]}}}`);
      return data[whole[1]];
    }
    return renderText(node, text, name);
  }
  if (Array.isArray(node)) {
    return node.map((n) => renderData(n, text, data, name)).filter((n) => n !== null && n !== undefined);
  }
  if (typeof node === 'object' && node !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const r = renderData(v, text, data, name);
      if (r !== null && r !== undefined) out[k] = r;
    }
    return out;
  }
  return node;
}

/**
 * A parsed data template. Read with YAML 1.1 rules, as cloud-init reads the file we
 * render from it: an unquoted `no` or `0644` in a template means to us what it would
 * mean to cloud-init, and toCloudYaml then writes that value unambiguously.
 */
export function loadDataTemplate(name: string, dir?: string): unknown {
  try {
    return parseYaml(loadTemplate(name, dir), { version: '1.1' });
  } catch (e) {
    if (e instanceof ForgeError) throw e;
    throw new ForgeError('CONFIGDRIVE_FAILED', `configdrive template ${name}: invalid YAML`, { cause: e });
  }
}
