// forge.* parameters from the kernel command line (see protocol.ts).
import { ForgeError } from '../core/errors.js';
import { KERNEL_PARAM } from './protocol.js';

export interface BootstrapParams {
  master: string | undefined;
  provisionUrl: string | undefined;
  pollMs: number;
  debug: boolean;
}

export function splitCmdline(cmdline: string): Map<string, string> {
  const out = new Map<string, string>();
  // Values are URLs and numbers: no quoting needed, split on whitespace.
  for (const word of cmdline.trim().split(/\s+/)) {
    if (!word) continue;
    const eq = word.indexOf('=');
    if (eq < 0) out.set(word, '');
    else out.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return out;
}

function httpUrl(value: string | undefined, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ForgeError('USAGE', `${field}: not a URL: ${value}`, { field });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ForgeError('USAGE', `${field}: must be http(s): ${value}`, { field });
  return value.replace(/\/+$/, '');
}

export function parseBootstrapParams(cmdline: string): BootstrapParams {
  const p = splitCmdline(cmdline);
  const poll = p.get(KERNEL_PARAM.pollMs);
  const pollMs = poll === undefined ? 2000 : Number(poll);
  if (!Number.isInteger(pollMs) || pollMs < 100 || pollMs > 600_000) {
    throw new ForgeError('USAGE', `${KERNEL_PARAM.pollMs}: expected milliseconds 100..600000, got ${poll}`, { field: KERNEL_PARAM.pollMs });
  }
  return {
    master: httpUrl(p.get(KERNEL_PARAM.master), KERNEL_PARAM.master),
    provisionUrl: httpUrl(p.get(KERNEL_PARAM.provisionUrl), KERNEL_PARAM.provisionUrl),
    pollMs,
    debug: p.get(KERNEL_PARAM.debug) === '1',
  };
}
