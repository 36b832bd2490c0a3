// `provision image`: only the image step. Validates every image first (URI,
// container, format, checksums from image_data or metadata beside the image), then
// streams each onto its device, verifies it, fsck's and grows it. --dry-run stops
// after validation and prints what would be written.
import { createCtx } from '../core/context.js';
import { redactUrl } from '../core/redact.js';
import { parseStallTimeout } from '../image/types.js';
import { prepareImages, writeImages } from '../image/write-images.js';
import { resolvePlan } from '../partition/load-plan.js';
import { allowUnverifiedOption, defineOptions, dryRunOption, inputOptions, jsonOption, optionCommand, planOption, stallTimeoutOption } from './options.js';

const options = defineOptions({
  ...inputOptions,
  ...planOption,
  ...allowUnverifiedOption,
  'tmp-dir': { type: 'string', arg: 'DIR', help: 'scratch space for images that cannot be streamed (qcow2)' },
  'no-resize': { type: 'boolean', help: 'leave the filesystem at the image size (no fsck + grow)' },
  ...stallTimeoutOption,
  ...jsonOption,
  ...dryRunOption,
});

export const command = optionCommand({
  name: 'image',
  summary:
    'Write the OS images of ks_meta.image_data onto their devices: one streaming pass (download, decompress, md5/sha256, ' +
    'write; first MiB last), resume on dropped connections, checksum verified (refused without one unless ' +
    '--allow-unverified), then fsck, grow to fill the device and read back the UUID. Progress as image.progress JSON lines on stderr.',
  options,
  async run(v, io, env) {
    const ctx = createCtx({ dryRun: v['dry-run'], signal: env.signal });
    const { plan } = await resolvePlan(ctx, v);
    const opts = {
      allowUnverified: v['allow-unverified'],
      resize: !v['no-resize'],
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
        const digests = (['sha512', 'sha256', 'md5'] as const).filter((a) => r[a]).map((a) => `${a} ${r[a]}`).join(' ');
        io.out(`${r.device}: ${r.uri} ${r.bytes} bytes ${digests} ${r.verified ? 'verified' : 'UNVERIFIED'}${r.uuid ? ` UUID=${r.uuid}` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`);
      }
    }
    return 0;
  },
});
