// `provision build-bootstrap`: kernel + initramfs of the bootstrap ramdisk.
// initrd.img = base.cpio.zst (cached Debian root, see rootfs.ts) + overlay.cpio.zst
// (Node.js runtime, the bundled agent, /init); re-bundling the agent only
// re-packs the small overlay. Outputs in <cache>/bootstrap/.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, cp, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { forgeCacheDir } from '../build/cache-dir.js';
import { buildFailed, cachedBuild } from '../build/cached-build.js';
import type { Ctx } from '../../core/context.js';
import { parseJsonAs } from '../../core/parse-json.js';
import { VERSION } from '../../version.js';
import { INSTALLED_TEMPLATES_DIR } from '../../configdrive/templates.js';
import { agentSourceDir, bundleAgent, type AgentBundle } from './bundle.js';
import { renderInit, renderLauncher } from './init-script.js';
import { packCpio } from './pack.js';
import { buildRamdiskRootfs } from './rootfs.js';
import { renderIpxeExample, renderPxelinuxExample } from './boot-configs.js';

/** Bump when the overlay layout changes. */
export const RAMDISK_OVERLAY_VERSION = 2;

export interface BuildBootstrapOptions {
  cacheDir?: string;
  suite?: string;
  mirror?: string;
  /** Extra Debian packages in the ramdisk. */
  packages?: readonly string[];
  /** Node.js binary copied into the ramdisk (default: the one running this build). */
  nodeBinary?: string;
  /** Rebuild the overlay even when inputs are unchanged (`rootfs` also re-runs debootstrap). */
  force?: boolean | 'rootfs';
}

export interface BuiltBootstrap {
  dir: string;
  vmlinuz: string;
  initrd: string;
  pxelinuxExample: string;
  ipxeExample: string;
  kernelVersion: string;
  agentVersion: string;
  key: string;
  /** True when nothing had to be rebuilt. */
  cached: boolean;
  rootfsCached: boolean;
  durationMs: number;
  initrdBytes: number;
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** sha256 over the names and contents of a flat directory (the configdrive templates). */
async function dirSha256(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const name of (await readdir(dir)).sort()) h.update(name + '\0').update(await readFile(join(dir, name))).update('\0');
  return h.digest('hex');
}

async function concatInto(out: string, parts: readonly string[]): Promise<void> {
  const ws = createWriteStream(out);
  for (const p of parts) {
    await pipeline(createReadStream(p), ws, { end: false });
    // Zero padding to a 4-byte boundary between archives; the kernel skips it.
    const size = (await stat(p)).size;
    const pad = (4 - (size % 4)) % 4;
    if (pad) await new Promise<void>((res, rej) => ws.write(Buffer.alloc(pad), (e) => (e ? rej(e) : res())));
  }
  await new Promise<void>((res, rej) => {
    ws.end((e?: Error | null) => (e ? rej(e) : res()));
  });
}

const buildJsonSchema = z.object({ key: z.string() });

/** The overlay key recorded by the last build (build.json); none when it is missing or unreadable (a rebuild rewrites it). */
async function priorKey(keyFile: string): Promise<string | undefined> {
  try {
    return parseJsonAs(buildJsonSchema, await readFile(keyFile, 'utf8'), { source: keyFile, code: 'BUILD_FAILED' }).key;
  } catch {
    return undefined;
  }
}

export async function buildBootstrap(ctx: Ctx, o: BuildBootstrapOptions = {}): Promise<BuiltBootstrap> {
  const started = ctx.clock.now();
  const cacheDir = o.cacheDir ?? forgeCacheDir();
  const dir = join(cacheDir, 'bootstrap');
  await mkdir(dir, { recursive: true });
  const rootfs = await buildRamdiskRootfs(ctx, cacheDir, {
    ...(o.suite ? { suite: o.suite } : {}),
    ...(o.mirror ? { mirror: o.mirror } : {}),
    ...(o.packages ? { packages: o.packages } : {}),
    ...(o.force === 'rootfs' ? { force: true } : {}),
  });

  const what = 'bootstrap ramdisk build';
  const nodeBinary = o.nodeBinary ?? process.execPath;
  const init = renderInit();
  const launcher = renderLauncher();
  // The bundle has no source tree beside it: the configdrive templates ship as files.
  const templates = join(agentSourceDir(), 'configdrive', 'templates');
  // The key covers everything the overlay is made of: a changed agent, Node.js, /init or template rebuilds it.
  let bundle: AgentBundle;
  let key: string;
  try {
    bundle = await bundleAgent();
    key = createHash('sha256')
      .update(
        JSON.stringify({
          overlay: RAMDISK_OVERLAY_VERSION,
          rootfs: rootfs.key,
          bundle: bundle.sha256,
          node: await fileSha256(nodeBinary),
          init,
          launcher,
          templates: await dirSha256(templates),
        }),
      )
      .digest('hex')
      .slice(0, 16);
  } catch (e) {
    throw buildFailed(what, e);
  }
  const out = {
    vmlinuz: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    pxelinuxExample: join(dir, 'pxelinux.cfg.example'),
    ipxeExample: join(dir, 'boot.ipxe.example'),
    keyFile: join(dir, 'build.json'),
  };
  const r = await cachedBuild(ctx, {
    what,
    lock: join(dir, 'assemble.lock'),
    work: join(dir, `overlay.partial-${process.pid}`),
    force: o.force !== undefined && o.force !== false,
    cached: async () => {
      const haveOutputs = await Promise.all([stat(out.vmlinuz), stat(out.initrd)]).then(() => true, () => false);
      return haveOutputs && (await priorKey(out.keyFile)) === key ? { initrdBytes: (await stat(out.initrd)).size } : undefined;
    },
    build: async (work) => {
      const tree = join(work, 'tree');
      ctx.log.info('bootstrap.overlay', { key, bundleBytes: bundle.bytes });
      await mkdir(join(tree, 'usr/lib/fuel-forge'), { recursive: true });
      await mkdir(join(tree, 'usr/bin'), { recursive: true });
      await mkdir(join(tree, 'etc/fuel-forge'), { recursive: true });
      await writeFile(join(tree, 'usr/lib/fuel-forge/provision.mjs'), bundle.code);
      await copyFile(nodeBinary, join(tree, 'usr/bin/node'));
      await chmod(join(tree, 'usr/bin/node'), 0o755);
      await writeFile(join(tree, 'usr/bin/provision'), launcher, { mode: 0o755 });
      await writeFile(join(tree, 'init'), init, { mode: 0o755 });
      await cp(templates, join(tree, INSTALLED_TEMPLATES_DIR.slice(1)), { recursive: true });
      await writeFile(join(tree, 'etc/fuel-forge/ramdisk.json'), JSON.stringify({ key, agentVersion: VERSION, kernelVersion: rootfs.kernelVersion, rootfsKey: rootfs.key }) + '\n');
      const overlay = await packCpio(ctx, tree, join(work, 'overlay.cpio'), 'zstd', 6);
      const tmpInitrd = join(work, 'initrd.img');
      await concatInto(tmpInitrd, [rootfs.baseArchive, overlay]);
      await copyFile(rootfs.vmlinuz, join(work, 'vmlinuz'));
      await rename(join(work, 'vmlinuz'), out.vmlinuz);
      await rename(tmpInitrd, out.initrd);
      await writeFile(out.pxelinuxExample, renderPxelinuxExample());
      await writeFile(out.ipxeExample, renderIpxeExample());
      await writeFile(
        out.keyFile,
        JSON.stringify(
          { key, rootfsKey: rootfs.key, agentVersion: VERSION, kernelVersion: rootfs.kernelVersion, bundleSha256: bundle.sha256, builtAt: new Date(ctx.clock.now()).toISOString(), durationMs: ctx.clock.now() - started },
          null,
          2,
        ) + '\n',
      );
    },
  });
  return {
    dir,
    vmlinuz: out.vmlinuz,
    initrd: out.initrd,
    pxelinuxExample: out.pxelinuxExample,
    ipxeExample: out.ipxeExample,
    kernelVersion: rootfs.kernelVersion,
    agentVersion: VERSION,
    key,
    cached: r.cached && rootfs.cached,
    rootfsCached: rootfs.cached,
    durationMs: ctx.clock.now() - started,
    initrdBytes: r.value.initrdBytes,
  };
}
