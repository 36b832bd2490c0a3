// The node bundle carries node-side code only: no image or ramdisk builder, no
// host commands in its registry, and a static import of host code fails the build.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSourceDir, bundleAgent, type AgentBundle } from './bundle.js';

const run = promisify(execFile);
let dir: string;
let bundle: AgentBundle;
let file: string;

async function provision(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [file, ...args], { env: { ...process.env, FORGE_CLI_MAIN: '1' } });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

describe('node bundle', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forge-bundle-'));
    bundle = await bundleAgent();
    file = join(dir, 'provision.mjs');
    writeFileSync(file, bundle.code);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has no host-side source in it', () => {
    const origins = Object.keys(bundle.inputs);
    expect(origins.filter((o) => o.startsWith('agent/host'))).toEqual([]);
    expect(origins).toContain('agent/bootstrap'); // the node's daemon
    expect(origins).not.toContain('esbuild');
    expect(bundle.bytes).toBe(bundle.code.length);
  });

  it('lists the node commands only, and runs them', async () => {
    const help = await provision('--help');
    expect(help.code).toBe(0);
    const listed = /commands: (.*)/.exec(help.out)?.[1]?.split(', ') ?? [];
    expect(listed).toEqual(expect.arrayContaining(['run', 'plan', 'partition', 'inventory', 'bootstrap-daemon', 'image']));
    expect(listed).not.toContain('build-image');
    expect(listed).not.toContain('build-bootstrap');
    expect((await provision('plan', '--help')).code).toBe(0);
  });

  it('refuses a host command as unknown (exit 2)', async () => {
    const r = await provision('build-image');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command/);
  });

  it('fails to bundle node code that imports host code statically', async () => {
    const entry = join(dir, 'entry.ts');
    const target = relative(dir, join(agentSourceDir(), 'host', 'image', 'build-image.ts')).replace(/\.ts$/, '.js');
    writeFileSync(entry, `import { buildImage } from '${target}';\nconsole.log(buildImage);\n`);
    await expect(bundleAgent(entry)).rejects.toMatchObject({ code: 'BUILD_FAILED', message: expect.stringMatching(/host-side code stays out of the node bundle/) });
  });
});
