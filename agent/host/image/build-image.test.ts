import { mkdtemp, readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realClock } from '../../core/context.js';
import { ForgeError } from '../../core/errors.js';
import { chrootArgv } from '../../tools/chroot.js';
import { compressFileArgv, decompressFileArgv } from '../../tools/compress-file.js';
import { cpioCreateArgv } from '../../tools/cpio.js';
import { debootstrapArgv } from '../../tools/debootstrap.js';
import { mkfsExt4FromDirArgv, parseDumpe2fsHeader, resize2fsArgv } from '../../tools/e2fs-image.js';
import { mirrorForSuite, parseAptSources } from '../build/apt-sources.js';
import { acquireBuildLock } from '../build/build-lock.js';
import { imageCacheKey, resolveImageInputs } from './build-image.js';
import { DATASOURCE_CFG, DATASOURCE_CFG_PATH, removePerNodeState, writeCloudInitConfig } from './finish-rootfs.js';
import { headroomKiB } from './ext4-pack.js';
import { renderPin, renderSourcesLine, validateRepos, writeRepos } from './repos.js';

describe('tool argv', () => {
  it('debootstrap: variant, sorted includes, cache dir, then suite target mirror', () => {
    expect(
      debootstrapArgv({ suite: 'bookworm', target: '/t', mirror: 'http://m/debian', variant: 'minbase', include: ['b', 'a'], components: ['main'], cacheDir: '/c' }),
    ).toEqual(['debootstrap', '--variant=minbase', '--components=main', '--include=a,b', '--cache-dir=/c', 'bookworm', '/t', 'http://m/debian']);
  });
  it('chroot commands are argv, never a shell string', () => {
    expect(chrootArgv('/r', ['dpkg-query', '-W'])).toEqual(['chroot', '/r', 'dpkg-query', '-W']);
  });
  it('mkfs.ext4 populates from a directory without mounting', () => {
    const argv = mkfsExt4FromDirArgv({ image: '/i.img', sourceDir: '/d', sizeKiB: 1024, label: 'root' });
    expect(argv[0]).toBe('mkfs.ext4');
    expect(argv).toContain('-d');
    expect(argv[argv.indexOf('-d') + 1]).toBe('/d');
    expect(argv.slice(-2)).toEqual(['/i.img', '1024k']);
    expect(resize2fsArgv('/i.img')).toEqual(['resize2fs', '-M', '/i.img']);
    expect(resize2fsArgv('/i.img', 4096)).toEqual(['resize2fs', '/i.img', '4096K']);
  });
  it('compressors keep the input and round-trip names', () => {
    expect(compressFileArgv('gzip', '/a.img')).toEqual(['gzip', '-k', '-f', '-n', '-6', '/a.img']);
    expect(compressFileArgv('zstd', '/a.img').slice(-2)).toEqual(['-o', '/a.img.zst']);
    expect(decompressFileArgv('zstd', '/a.img.zst').slice(-2)).toEqual(['-o', '/a.img']);
    expect(cpioCreateArgv('/x.cpio')).toContain('--format=newc');
  });
  it('parses dumpe2fs geometry', () => {
    const g = parseDumpe2fsHeader('Block count:              262144\nFree blocks:              1000\nBlock size:               4096\n');
    expect(g).toEqual({ blockCount: 262144, blockSize: 4096, freeBlocks: 1000 });
    expect(headroomKiB(100)).toBe(64 * 1024);
    expect(headroomKiB(4 * 1024 * 1024)).toBeGreaterThan(64 * 1024);
  });
});

describe('apt sources', () => {
  it('reads deb822 and one-line sources, skipping deb-src and disabled stanzas', () => {
    const deb822 = 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb-src\nURIs: http://src/\nSuites: bookworm\n\nTypes: deb\nEnabled: no\nURIs: http://off/\nSuites: trixie\n';
    const s = parseAptSources('debian.sources', deb822);
    expect(s).toEqual([{ uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'] }]);
    const one = parseAptSources('sources.list', '# c\ndeb [arch=amd64] http://ftp.x/debian bookworm main contrib\ndeb-src http://y bookworm main\n');
    expect(one).toEqual([{ uri: 'http://ftp.x/debian', suites: ['bookworm'], components: ['main', 'contrib'] }]);
    expect(mirrorForSuite([...one, ...s], 'bookworm-updates')).toBe('http://deb.debian.org/debian');
    expect(mirrorForSuite(s, 'jammy')).toBeUndefined();
  });
});

describe('repo_setup rendering', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-repos-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  it('one list file per repo plus a pin when priority is set; old sources removed', async () => {
    await mkdir(join(dir, 'etc/apt/sources.list.d'), { recursive: true });
    await writeFile(join(dir, 'etc/apt/sources.list.d/old.list'), 'deb http://old x y\n');
    await writeRepos(dir, [
      { name: 'repo1', type: 'deb', uri: 'http://mirror.example/debian', suite: 'bookworm', section: 'main contrib', priority: 1001 },
      { name: 'repo2', type: 'deb', uri: 'http://other/', suite: 'x', section: 'main', priority: null },
    ]);
    expect((await readdir(join(dir, 'etc/apt/sources.list.d'))).sort()).toEqual(['repo1.list', 'repo2.list']);
    expect(await readFile(join(dir, 'etc/apt/sources.list.d/repo1.list'), 'utf8')).toBe('deb http://mirror.example/debian bookworm main contrib\n');
    expect(await readFile(join(dir, 'etc/apt/preferences.d/repo1.pref'), 'utf8')).toContain('Pin-Priority: 1001');
    expect(await readdir(join(dir, 'etc/apt/preferences.d'))).toEqual(['repo1.pref']);
  });
  it('rejects a bad repo naming its field', () => {
    const bad = () => validateRepos([{ name: 'a/b', type: 'deb', uri: 'http://x', suite: 's', section: 'main' }]);
    expect(bad).toThrow(ForgeError);
    try {
      bad();
    } catch (e) {
      expect((e as ForgeError).field).toBe('repo_setup.repos[0].name');
    }
    expect(() => validateRepos([{ name: 'a', type: 'deb', uri: 'uri1', suite: 's', section: 'main' }])).toThrow(/uri/);
    expect(renderSourcesLine({ name: 'a', type: 'deb-src', uri: 'http://x', suite: 's', section: 'main' })).toBe('deb-src http://x s main\n');
    expect(renderPin({ name: 'a', type: 'deb', uri: 'http://x', suite: 's', section: 'main' })).toBeUndefined();
  });
});

describe('generic image state', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'forge-root-'));
    for (const d of ['etc/ssh', 'var/lib/apt/lists/partial', 'var/lib/cloud/instance', 'var/log', 'tmp', 'var/lib/dbus']) await mkdir(join(root, d), { recursive: true });
    await writeFile(join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
    await writeFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), 'secret');
    await writeFile(join(root, 'etc/ssh/sshd_config'), 'cfg');
    await writeFile(join(root, 'var/lib/apt/lists/deb.debian.org_Packages'), 'x');
    await writeFile(join(root, 'var/lib/cloud/instance/obj.pkl'), 'x');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  it('removes per-node state and keeps configuration', async () => {
    await removePerNodeState(root);
    await writeCloudInitConfig(root);
    expect(await readFile(join(root, 'etc/machine-id'), 'utf8')).toBe('');
    expect(await readdir(join(root, 'etc/ssh'))).toEqual(['sshd_config']);
    expect(await readdir(join(root, 'var/lib/apt/lists'))).toEqual(['partial']);
    expect(await readdir(join(root, 'var/lib/cloud'))).toEqual([]);
    expect(await readFile(join(root, DATASOURCE_CFG_PATH), 'utf8')).toBe(DATASOURCE_CFG);
    expect(DATASOURCE_CFG).toMatch(/\[ ConfigDrive, NoCloud \]/);
  });
});

describe('cache key', () => {
  it('changes with every input and not with package order', async () => {
    const base = await resolveImageInputs({ mirror: 'http://m/debian', profile: 'tiny', packages: ['vim', 'less'] });
    const same = await resolveImageInputs({ mirror: 'http://m/debian/', profile: 'tiny', packages: ['less', 'vim'] });
    expect(imageCacheKey(same)).toBe(imageCacheKey(base));
    const others = await Promise.all([
      resolveImageInputs({ mirror: 'http://m2/debian', profile: 'tiny', packages: ['vim', 'less'] }),
      resolveImageInputs({ mirror: 'http://m/debian', profile: 'full', packages: ['vim', 'less'] }),
      resolveImageInputs({ mirror: 'http://m/debian', profile: 'tiny', packages: ['vim'] }),
      resolveImageInputs({ mirror: 'http://m/debian', profile: 'tiny', packages: ['vim', 'less'], suite: 'trixie' }),
      resolveImageInputs({ mirror: 'http://m/debian', profile: 'tiny', packages: ['vim', 'less'], compression: 'xz' }),
    ]);
    const keys = new Set([imageCacheKey(base), ...others.map(imageCacheKey)]);
    expect(keys.size).toBe(6);
  });
  it('rejects a package name that is not one, naming the option', async () => {
    await expect(resolveImageInputs({ mirror: 'http://m/', packages: ['ok', 'rm -rf'] })).rejects.toMatchObject({ code: 'USAGE', field: 'packages' });
  });
});

describe('build lock', () => {
  it('serializes holders and takes over a lock whose owner is dead', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-lock-'));
    const path = join(dir, 'x.lock');
    const a = await acquireBuildLock(path, realClock);
    const order: string[] = [];
    const b = acquireBuildLock(path, realClock, { pollMs: 20 }).then((l) => {
      order.push('b');
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    order.push('a-release');
    await a.release();
    await (await b).release();
    expect(order).toEqual(['a-release', 'b']);
    // pid 2^22 is above pid_max on Linux: never alive.
    await writeFile(path, '4194305');
    const c = await acquireBuildLock(path, realClock, { pollMs: 20, timeoutMs: 2000 });
    expect(await readFile(path, 'utf8')).toBe(String(process.pid));
    await c.release();
    await rm(dir, { recursive: true, force: true });
  });
});
