// A Debian kernel and a tiny initramfs for testing the QEMU driver itself, without
// waiting for the full bootstrap ramdisk: the kernel comes from Debian's
// linux-image package (fetched once with apt into the cache), the initramfs holds
// the host's dash and sleep plus their libraries and an /init that prints a marker.
import { existsSync, mkdirSync, readdirSync, writeFileSync, chmodSync, copyFileSync, rmSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { ForgeError } from '../../agent/core/errors.js';
import type { Runner } from '../../agent/core/runner.js';

export const TINY_INIT_MARKER = 'FORGE-TINY-INIT-OK';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['FORGE_CACHE_DIR'] || '/var/cache/fuel-forge';
}

/** vmlinuz: the bootstrap ramdisk's kernel when built, else one unpacked from Debian's linux-image package. */
export async function testKernel(runner: Runner, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const boot = join(cacheDir(env), 'bootstrap', 'vmlinuz');
  if (existsSync(boot)) return boot;
  const dir = join(cacheDir(env), 'lab', 'kernel');
  const out = join(dir, 'vmlinuz');
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  let deb = readdirSync(dir).find((f) => /^linux-image-.*\.deb$/.test(f));
  if (!deb) {
    const dep = await runner.run(['apt-cache', 'depends', 'linux-image-amd64'], { readOnly: true });
    const pkg = /Depends: (linux-image-\S+)/.exec(dep.stdout)?.[1];
    if (!pkg) throw new ForgeError('LAB_FAILED', 'cannot resolve the linux-image-amd64 dependency with apt-cache');
    await runner.run(['apt-get', 'download', pkg], { cwd: dir, timeoutMs: 10 * 60_000 });
    deb = readdirSync(dir).find((f) => /^linux-image-.*\.deb$/.test(f));
    if (!deb) throw new ForgeError('LAB_FAILED', `apt-get download ${pkg} produced no .deb in ${dir}`);
  }
  const x = mkdtempSync(join(tmpdir(), 'forge-kernel-'));
  try {
    await runner.run(['dpkg-deb', '-x', join(dir, deb), x], { timeoutMs: 5 * 60_000 });
    const v = readdirSync(join(x, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (!v) throw new ForgeError('LAB_FAILED', `${deb} has no /boot/vmlinuz-*`);
    copyFileSync(join(x, 'boot', v), out + '.tmp');
    copyFileSync(out + '.tmp', out);
    rmSync(out + '.tmp');
    return out;
  } finally {
    rmSync(x, { recursive: true, force: true });
  }
}

/** A few-MiB initramfs whose /init prints TINY_INIT_MARKER and then idles. */
export async function tinyInitrd(runner: Runner, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const out = join(cacheDir(env), 'lab', 'tiny-initrd.cpio');
  if (existsSync(out)) return out;
  const root = mkdtempSync(join(tmpdir(), 'forge-tiny-'));
  try {
    const bins = ['/bin/dash', '/bin/sleep'];
    const files = new Set<string>(bins);
    for (const b of bins) {
      const r = await runner.run(['ldd', b], { readOnly: true });
      for (const m of r.stdout.matchAll(/(\/\S+) \(0x/g)) if (m[1]) files.add(m[1]);
    }
    for (const f of files) {
      const dest = join(root, f);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(f, dest);
      chmodSync(dest, 0o755);
    }
    mkdirSync(join(root, 'dev'), { recursive: true });
    writeFileSync(join(root, 'init'), `#!/bin/dash\necho ${TINY_INIT_MARKER}\nwhile :; do /bin/sleep 3600; done\n`);
    chmodSync(join(root, 'init'), 0o755);
    const list = ['init', 'dev', ...[...files].flatMap((f) => parents(f.slice(1))), ...[...files].map((f) => f.slice(1))];
    mkdirSync(dirname(out), { recursive: true });
    await runner.run(['cpio', '--quiet', '-o', '-H', 'newc', '-O', out + '.tmp'], { cwd: root, input: [...new Set(list)].join('\n') + '\n' });
    copyFileSync(out + '.tmp', out);
    rmSync(out + '.tmp');
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function parents(rel: string): string[] {
  const parts = rel.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
