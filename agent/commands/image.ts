// `provision image`: only the image step. Validates every image first (URI,
// container, format, checksums from image_data or metadata beside the image), then
// streams each onto its device, verifies it, fsck's and grows it. --dry-run stops
// after validation and prints what would be written.
import { parseArgs } from 'node:util';
import { createCtx } from '../core/context.js';
import { redactUrl } from '../core/redact.js';
import { parseStallTimeout } from '../image/types.js';
import { prepareImages, writeImages } from '../image/write-images.js';
import { resolvePlan } from '../partition/load-plan.js';
import { usageError } from './plan.js';
import type { Command } from './types.js';

const USAGE =
  'usage: provision image [--input FILE (default /tmp/provision.json)] [--inventory FILE] [--plan PLAN.json] ' +
  '[--allow-unverified] [--tmp-dir DIR] [--no-resize] [--stall-timeout SECONDS (default 60)] [--json] [--dry-run]';

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        input: { type: 'string' },
        inventory: { type: 'string' },
        plan: { type: 'string' },
        'allow-unverified': { type: 'boolean' },
        'tmp-dir': { type: 'string' },
        'no-resize': { type: 'boolean' },
        'stall-timeout': { type: 'string' },
        json: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw usageError(e, USAGE);
  }
}

export const command: Command = {
  name: 'image',
  summary:
    'Write the OS images of ks_meta.image_data onto their devices: one streaming pass (download, decompress, md5/sha256, ' +
    'write; first MiB last), resume on dropped connections, checksum verified (refused without one unless ' +
    '--allow-unverified), then fsck, grow to fill the device and read back the UUID. Progress as image.progress JSON lines on stderr.',
  usage: USAGE,
  async run(args, io) {
    const v = parse(args);
    const ctx = createCtx({ dryRun: v['dry-run'] === true });
    const { plan } = await resolvePlan(ctx, v);
    const opts = {
      allowUnverified: v['allow-unverified'] === true,
      resize: v['no-resize'] !== true,
      fetch: parseStallTimeout(v['stall-timeout']),
      ...(v['tmp-dir'] === undefined ? {} : { tmpDir: v['tmp-dir'] }),
    };
    if (ctx.dryRun) {
      const prepared = await prepareImages(ctx, plan, opts);
      for (const { image, target } of prepared) {
        const checks = image.verified ? `verified by ${image.expected.sources.join(' + ')}` : 'UNVERIFIED';
        io.out(`would write ${redactUrl(image.uri)} (${image.container}, ${image.format}) -> ${target.device} (${target.size} bytes), ${checks}`);
      }
      return 0;
    }
    const reports = await writeImages(ctx, plan, opts);
    if (v.json) io.out(JSON.stringify(reports, null, 2));
    else {
      for (const r of reports) {
        io.out(`${r.device}: ${r.uri} ${r.bytes} bytes md5 ${r.md5} ${r.verified ? 'verified' : 'UNVERIFIED'}${r.uuid ? ` UUID=${r.uuid}` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`);
      }
    }
    return 0;
  },
};
