// `provision run --dry-run` with credentials in the image URI, the repo URIs and the
// call-back URL: the run uses them (the metadata beside the image is fetched from a
// local server that demands Basic auth) but nothing it prints, logs or saves holds them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProvisionCommand } from '../commands/run-command.js';
import { defaultSteps } from './default-steps.js';
import type { Steps } from './provision-run.js';

const fixture = (p: string): string => new URL(`../../fixtures/fuel-nailgun/${p}`, import.meta.url).pathname;
const IMAGE_PW = 'imgS3cret';
const TOKEN = 'tok3nValue';
const REPO_PW = 'repoS3cret';
const CB_PW = 'cbS3cret';
const SECRETS = [IMAGE_PW, TOKEN, REPO_PW, CB_PW];
const basic = `Basic ${Buffer.from(`agent:${IMAGE_PW}`).toString('base64')}`;

let dir: string;
let server: Server;
let port = 0;
const seen: { path: string; auth: string | undefined }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-redact-run-'));
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization });
    if (req.headers.authorization !== basic) return void res.writeHead(401).end();
    if (!req.url?.startsWith('/imgs/root.img.gz.meta.json')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ container: 'gzip', format: 'ext4', raw_sha256: 'b'.repeat(64) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  rmSync(dir, { recursive: true, force: true });
});

function input(imagePath: string): string {
  const data = JSON.parse(readFileSync(fixture('provision_sample.json'), 'utf8'));
  data.ks_meta.image_data['/'].uri = `http://agent:${IMAGE_PW}@127.0.0.1:${port}${imagePath}?token=${TOKEN}`;
  for (const r of data.ks_meta.repo_setup.repos) r.uri = `http://mirror:${REPO_PW}@mirror.example/ubuntu`;
  const path = join(dir, `provision-${seen.length}.json`);
  writeFileSync(path, JSON.stringify(data));
  return path;
}

// The dry-run partition step re-reads the planned disks, which this host does not have.
const steps: Steps = { ...defaultSteps, partition: async () => ({}) };

async function dryRun(imagePath: string, tag: string): Promise<{ code: number; out: string; err: string; log: string; report: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = join(dir, `${tag}.log`);
  const report = join(dir, `${tag}.json`);
  const args = [
    '--dry-run', '--input', input(imagePath), '--inventory', fixture('list_block_devices_sample.json'),
    '--log', log, '--report', report, '--callback-url', `http://nailgun:${CB_PW}@10.20.0.2:8000/api/v1/nodes/{uid}/provisioned`,
  ];
  // stderr gets the JSON log lines too: capture them through the sink's own stream.
  const write = process.stderr.write.bind(process.stderr);
  const stderrText: string[] = [];
  process.stderr.write = ((chunk: string | Uint8Array) => (stderrText.push(String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await runProvisionCommand('run', args, { out: (t) => out.push(t), err: (t) => err.push(t) }, { steps });
  } finally {
    process.stderr.write = write;
  }
  return { code, out: out.join('\n'), err: [...err, ...stderrText].join('\n'), log: readFileSync(log, 'utf8'), report: readFileSync(report, 'utf8') };
}

describe('provision run --dry-run with credentials in URLs', () => {
  it('fetches with them (Basic auth) and prints, logs and saves none of them', async () => {
    seen.length = 0;
    const r = await dryRun('/imgs/root.img.gz', 'ok');
    expect(r.err).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    // The metadata beside the image was fetched with the credentials from the URI.
    expect(seen).toEqual([{ path: `/imgs/root.img.gz.meta.json?token=${TOKEN}`, auth: basic }]);
    // The plan printout names the image, redacted.
    expect(r.out).toContain(`http://***@127.0.0.1:${port}/imgs/root.img.gz?token=***`);
    const report = JSON.parse(r.report);
    expect(report.plan.images[0].uri).toBe(`http://***@127.0.0.1:${port}/imgs/root.img.gz?token=***`);
    expect(report.configdrive.callbackUrl).toBe('http://***@10.20.0.2:8000/api/v1/nodes/1/provisioned');
    expect(r.log).toContain('"event":"image.dry_run"');
    for (const [name, text] of Object.entries(r)) {
      for (const s of SECRETS) expect(String(text), `${name} holds ${s}`).not.toContain(s);
    }
  });

  it('keeps them out of the error line and the report of a failed run too', async () => {
    seen.length = 0;
    // No metadata there (404) and no digest in the data: IMAGE_UNVERIFIED names the image.
    const r = await dryRun('/imgs/other.img.gz', 'fail');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`no checksum for http://***@127.0.0.1:${port}/imgs/other.img.gz?token=***`);
    expect(JSON.parse(r.report).error.code).toBe('IMAGE_UNVERIFIED');
    expect(seen.every((s) => s.auth === basic)).toBe(true);
    for (const [name, text] of Object.entries(r)) {
      for (const s of SECRETS) expect(String(text), `${name} holds ${s}`).not.toContain(s);
    }
  });
});
