// The classic method's installer: Debian's netboot debian-installer (package
// debian-installer-12-netboot-amd64) as Cobbler's Debian 12 profile, and the
// check Astute's pre_provision should make before it reboots a node into it.
// The netboot initrd carries only a base set of installer components; the rest
// (partitioning, LVM/MD tools, base-installer, grub-installer, the kernel's
// module udebs) come from the archive's debian-installer section at install
// time. An installer whose kernel ABI the archive no longer carries, or an
// archive that lacks components, stops the installer half-way with a dialog
// nobody sees — so the lab checks the archive first and names what is missing.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ForgeError } from '../../agent/core/errors.js';
import { controlStanzas } from '../../agent/host/build/apt-sources.js';

/** Where Debian's package installs the text-mode netboot installer for amd64. */
export const DI_NETBOOT_DIR = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';
export const DI_FILES = { kernel: 'linux', initrd: 'initrd.gz' } as const;

/** The installer's kernel command line in the lab: serial console, plain text frontend (readable in serial.log). */
export const INSTALLER_APPEND = 'console=ttyS0,115200n8 DEBIAN_FRONTEND=text vga=normal';

/** pre_provision for classic nodes: the installer's kernel and initrd in Cobbler's profile directory. */
export async function placeInstallerFiles(profileDir: string, from = DI_NETBOOT_DIR): Promise<void> {
  await mkdir(profileDir, { recursive: true });
  for (const f of Object.values(DI_FILES)) {
    try {
      await copyFile(join(from, f), join(profileDir, f));
    } catch (e) {
      throw new ForgeError('LAB_FAILED', `installer file ${join(from, f)} missing: install debian-installer-12-netboot-amd64 (ci/setup does)`, { cause: e });
    }
  }
}

/** The kernel release of a bzImage (its header's version string), e.g. 6.1.0-50-amd64. */
export function bzImageRelease(image: Uint8Array): string {
  const buf = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  if (buf.length < 0x210 || buf.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new ForgeError('LAB_FAILED', 'installer kernel: not a bzImage (no HdrS header)');
  const at = buf.readUInt16LE(0x20e) + 0x200;
  const release = buf.toString('latin1', at, Math.min(buf.length, at + 128)).split(/[\s\0]/)[0] ?? '';
  if (!/^\d+\.\d+/.test(release)) throw new ForgeError('LAB_FAILED', `installer kernel: no version string at ${at}`);
  return release;
}

/** One file out of a newc cpio archive (the initrd), or undefined. */
export function cpioFile(archive: Buffer, path: string): Buffer | undefined {
  let off = 0;
  const want = path.replace(/^\.?\//, '');
  while (off + 110 <= archive.length && archive.toString('latin1', off, off + 6) === '070701') {
    const hex = (i: number): number => parseInt(archive.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const size = hex(6);
    const nameSize = hex(11);
    const name = archive.toString('latin1', off + 110, off + 110 + nameSize - 1);
    const dataAt = (off + 110 + nameSize + 3) & ~3;
    if (name === 'TRAILER!!!') return undefined;
    if (name.replace(/^\.?\//, '') === want) return archive.subarray(dataAt, dataAt + size);
    off = (dataAt + size + 3) & ~3;
  }
  return undefined;
}

export interface UdebEntry {
  name: string;
  priority: string;
  filename: string;
  depends: string[];
}

/** A Packages index (Debian control stanzas) → the fields the check needs. */
export function parsePackages(text: string): Map<string, UdebEntry> {
  const out = new Map<string, UdebEntry>();
  for (const f of controlStanzas(text)) {
    const name = f.get('package');
    if (!name) continue;
    // Alternatives (a | b): the first is what anna would take; versions do not matter here.
    const depends = (f.get('depends') ?? '').split(',').map((d) => d.split('|')[0]?.trim().split(/[\s(]/)[0] ?? '').filter(Boolean);
    out.set(name, { name, priority: f.get('priority') ?? '', filename: f.get('filename') ?? '', depends });
  }
  return out;
}

/** Package names an installer initrd already holds (its dpkg status file). */
export function initrdPackages(initrdGz: Uint8Array): Set<string> {
  const status = cpioFile(gunzipSync(initrdGz), 'var/lib/dpkg/status');
  if (!status) throw new ForgeError('LAB_FAILED', 'installer initrd: no var/lib/dpkg/status');
  return new Set([...status.toString('utf8').matchAll(/^Package: (\S+)$/gm)].map((m) => m[1] as string));
}

/**
 * What anna downloads at install time: every udeb of priority standard or higher
 * (kernel module udebs only for the installer's own kernel), the components the
 * preseed asks for, and everything those depend on — minus what the initrd has.
 */
export function neededComponents(index: Map<string, UdebEntry>, o: { release: string; inInitrd: Set<string>; wanted: readonly string[] }): { needed: string[]; unknown: string[] } {
  const kernelSpecific = /-modules-.+-di$|^kernel-image-.+-di$/;
  const roots = [...index.values()]
    .filter((u) => ['required', 'important', 'standard'].includes(u.priority))
    .filter((u) => !kernelSpecific.test(u.name) || u.name.endsWith(`-${o.release}-di`))
    .map((u) => u.name);
  const resolve = (name: string): string => (index.has(name) ? name : `${name}-${o.release}-di`);
  const seen = new Set<string>();
  const unknown: string[] = [];
  const visit = (raw: string): void => {
    const name = resolve(raw);
    if (seen.has(name) || o.inInitrd.has(name)) return;
    const u = index.get(name);
    if (!u) {
      // Virtual packages (e.g. "harddrive-detection") are provided by something anna picks: not checkable by name.
      if (o.wanted.includes(raw)) unknown.push(raw);
      return;
    }
    seen.add(name);
    u.depends.forEach(visit);
  };
  [...roots, ...o.wanted].forEach(visit);
  return { needed: [...seen].sort(), unknown };
}

export interface ArchiveCheck {
  release: string;
  needed: string[];
  missing: { name: string; path: string; status: number }[];
}

/**
 * Checks that the archive at `archiveUrl` (the master's, as the node will use
 * it) serves every component the installer will download. `fetchImpl` is the
 * host's fetch through the same URL the preseed gives the node.
 */
export async function checkInstallerArchive(o: {
  archiveUrl: string; suite: string; installerDir?: string; wanted: readonly string[]; concurrency?: number;
}): Promise<ArchiveCheck> {
  const dir = o.installerDir ?? DI_NETBOOT_DIR;
  const release = bzImageRelease(await readFile(join(dir, DI_FILES.kernel)));
  const inInitrd = initrdPackages(await readFile(join(dir, DI_FILES.initrd)));
  const indexUrl = `${o.archiveUrl}/dists/${o.suite}/main/debian-installer/binary-amd64/Packages.gz`;
  const res = await fetch(indexUrl).catch((e: unknown) => {
    throw new ForgeError('LAB_FAILED', `installer components: ${indexUrl} unreachable: ${(e as Error).message}`);
  });
  if (!res.ok) throw new ForgeError('LAB_FAILED', `installer components: ${indexUrl}: HTTP ${res.status}`);
  const index = parsePackages(gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8'));
  const { needed, unknown } = neededComponents(index, { release, inInitrd, wanted: o.wanted });
  const missing: ArchiveCheck['missing'] = unknown.map((name) => ({ name, path: '(not in the index)', status: 0 }));
  const queue = [...needed];
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const path = index.get(name)?.filename ?? '';
      // One byte by GET, not HEAD: apt-cacher-ng answers HEAD with 200 (and Content-Length -1) without asking
      // its mirror, while a GET makes it fetch — and cache — the file, so a check also warms the archive.
      const r = await fetch(`${o.archiveUrl}/${path}`, { headers: { range: 'bytes=0-0' } }).catch(() => undefined);
      await r?.arrayBuffer().catch(() => undefined);
      if (!r?.ok) missing.push({ name, path, status: r?.status ?? 0 });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
  missing.sort((a, b) => a.name.localeCompare(b.name));
  return { release, needed, missing };
}

/** The operator-facing refusal: one error naming how many and which components the archive lacks. */
export function archiveCheckError(c: ArchiveCheck, archiveUrl: string): ForgeError | undefined {
  if (c.missing.length === 0) return undefined;
  const names = c.missing.map((m) => `${m.name}${m.status ? ` (HTTP ${m.status})` : ''}`);
  return new ForgeError(
    'LAB_FAILED',
    `classic method: the archive ${archiveUrl} lacks ${c.missing.length} of the ${c.needed.length} installer components debian-installer (kernel ${c.release}) downloads: ` +
      `${names.slice(0, 12).join(', ')}${names.length > 12 ? `, … (${names.length - 12} more)` : ''}; the installer would stop at "Load installer components"`,
    { field: 'mirror', details: { missing: c.missing } },
  );
}
