// The archive check before a classic install: the installer's kernel release from
// its bzImage header, the components its initrd already has (cpio), what anna will
// download (priority ≥ standard + the preseed's components + dependencies), and a
// fake archive over HTTP that lacks some of them.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveCheckError, bzImageRelease, checkInstallerArchive, cpioFile, DI_NETBOOT_DIR, neededComponents, parsePackages } from './installer.js';

/** A newc cpio archive of these files (what an initrd is). */
function cpio(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  const entry = (name: string, data: Buffer): void => {
    const hdr = ['070701', ...[1, 0o100644, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0].map((v) => v.toString(16).padStart(8, '0'))].join('');
    const head = Buffer.concat([Buffer.from(hdr + name + '\0', 'latin1')]);
    parts.push(head, pad(head.length), data, pad(data.length));
  };
  for (const [n, c] of Object.entries(files)) entry(n, Buffer.from(c));
  entry('TRAILER!!!', Buffer.alloc(0));
  return Buffer.concat(parts);
}

/** The smallest bzImage header with a version string. */
function bzImage(release: string): Buffer {
  const b = Buffer.alloc(0x400);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x100, 0x20e);
  b.write(`${release} (test@lab) #1 SMP`, 0x300, 'latin1');
  return b;
}

const INDEX = `Package: anna
Priority: standard
Filename: pool/main/a/anna/anna_1.91_amd64.udeb
Depends: libc6-udeb

Package: partman-base
Priority: standard
Filename: pool/main/p/partman-base/partman-base_226_amd64.udeb
Depends: libc6-udeb (>= 2.36), libparted2-udeb (>= 3.5), harddrive-detection

Package: libparted2-udeb
Priority: optional
Filename: pool/main/p/parted/libparted2-udeb_3.5-3_amd64.udeb

Package: parted-udeb
Priority: optional
Filename: pool/main/p/parted/parted-udeb_3.5-3_amd64.udeb
Depends: libparted2-udeb

Package: md-modules-6.1.0-50-amd64-di
Priority: standard
Filename: pool/main/l/linux/md-modules-6.1.0-50-amd64-di_6.1.176-1_amd64.udeb

Package: md-modules-6.1.0-47-amd64-di
Priority: standard
Filename: pool/main/l/linux/md-modules-6.1.0-47-amd64-di_6.1.170-3_amd64.udeb

Package: fonts-udeb
Priority: optional
Filename: pool/main/f/fonts/fonts-udeb_1_all.udeb
`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('installer archive check', () => {
  it('reads the kernel release from a bzImage header and files from a cpio initrd', () => {
    expect(bzImageRelease(bzImage('6.1.0-50-amd64'))).toBe('6.1.0-50-amd64');
    expect(() => bzImageRelease(Buffer.alloc(0x400))).toThrow(/not a bzImage/);
    const a = cpio({ 'var/lib/dpkg/status': 'Package: anna\n', 'bin/sh': 'x' });
    expect(cpioFile(a, 'var/lib/dpkg/status')?.toString()).toBe('Package: anna\n');
    expect(cpioFile(a, '/bin/sh')?.toString()).toBe('x');
    expect(cpioFile(a, 'nope')).toBeUndefined();
  });

  it.runIf(existsSync(join(DI_NETBOOT_DIR, 'linux')))('reads Debian’s own netboot kernel (an oracle we did not write: its header)', async () => {
    const { readFileSync } = await import('node:fs');
    expect(bzImageRelease(readFileSync(join(DI_NETBOOT_DIR, 'linux')))).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
  });

  it('needs priority ≥ standard for this kernel, the wanted components and their dependencies, minus the initrd', () => {
    const index = parsePackages(INDEX);
    expect(index.get('partman-base')?.depends).toEqual(['libc6-udeb', 'libparted2-udeb', 'harddrive-detection']);
    const r = neededComponents(index, { release: '6.1.0-50-amd64', inInitrd: new Set(['anna', 'libc6-udeb']), wanted: ['parted-udeb', 'md-modules', 'no-such-udeb'] });
    expect(r.needed).toEqual(['libparted2-udeb', 'md-modules-6.1.0-50-amd64-di', 'parted-udeb', 'partman-base']);
    expect(r.unknown).toEqual(['no-such-udeb']);
  });

  it('names what a fake archive does not serve, and passes once it serves everything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-di-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'linux'), bzImage('6.1.0-50-amd64'));
    writeFileSync(join(dir, 'initrd.gz'), gzipSync(cpio({ 'var/lib/dpkg/status': 'Package: anna\nStatus: install ok installed\n\nPackage: libc6-udeb\n' })));
    const served = new Set(['pool/main/p/partman-base/partman-base_226_amd64.udeb', 'pool/main/l/linux/md-modules-6.1.0-50-amd64-di_6.1.176-1_amd64.udeb']);
    const requests: string[] = [];
    const srv = createServer((req, res) => {
      const p = (req.url ?? '').replace(/^\/debian\//, '');
      if (p === 'dists/bookworm/main/debian-installer/binary-amd64/Packages.gz') {
        res.end(gzipSync(INDEX));
        return;
      }
      requests.push(`${req.method} ${req.headers.range ?? ''} ${p}`);
      if (!served.has(p)) return void res.writeHead(404).end();
      res.writeHead(206, { 'content-range': 'bytes 0-0/100' }).end('x');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/debian`;
      const c = await checkInstallerArchive({ archiveUrl: url, suite: 'bookworm', installerDir: dir, wanted: ['parted-udeb'] });
      expect(c.release).toBe('6.1.0-50-amd64');
      expect(c.missing.map((m) => `${m.name} ${m.status}`)).toEqual(['libparted2-udeb 404', 'parted-udeb 404']);
      // anna is in the initrd: not fetched; the others by one-byte GETs (apt-cacher-ng's HEAD says 200 for anything).
      expect(requests.some((h) => h.includes('anna_1.91'))).toBe(false);
      expect(requests).toContain('GET bytes=0-0 pool/main/p/parted/parted-udeb_3.5-3_amd64.udeb');
      const err = archiveCheckError(c, url);
      expect(err).toMatchObject({ code: 'LAB_FAILED', field: 'mirror' });
      expect(err?.message).toContain('lacks 2 of the 4 installer components debian-installer (kernel 6.1.0-50-amd64) downloads: libparted2-udeb (HTTP 404), parted-udeb (HTTP 404)');
      served.add('pool/main/p/parted/libparted2-udeb_3.5-3_amd64.udeb').add('pool/main/p/parted/parted-udeb_3.5-3_amd64.udeb');
      expect(archiveCheckError(await checkInstallerArchive({ archiveUrl: url, suite: 'bookworm', installerDir: dir, wanted: ['parted-udeb'] }), url)).toBeUndefined();
    } finally {
      srv.close();
    }
  });
});
