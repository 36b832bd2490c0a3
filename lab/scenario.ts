// Lab scenarios: provisioning data in Nailgun's provision serializer format with
// the VM disks it needs. The layouts are the fixtures in fixtures/scenarios/ (each
// with the inventory its VM presents: bus, size, sector size and serial, so the
// data's by-id links match) and the shared Fuel sample scaled to VM disk sizes
// (fuel-sample). nodeData() points a scenario at one lab node and the lab's master.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ImageMeta } from '../agent/host/image/meta.js';
import { FIXTURES_DIR, SCENARIOS, scenarioPaths } from '../agent/plan/fixtures.js';
import { ForgeError } from '../agent/core/errors.js';
import type { Inventory } from '../agent/inventory/types.js';
import { LAB_DOMAIN } from './master/addressing.js';
import type { VmDiskSpec } from './vm/qemu.js';

type Doc = Record<string, any>;

export const FUEL_SAMPLE = join(FIXTURES_DIR, 'fuel-nailgun', 'provision_sample.json');

/**
 * Lab scenarios that are another scenario's data on a UEFI node (the data does not
 * say which firmware a node has; the lab's VM does).
 */
const FIRMWARE_SCENARIOS = {
  'uefi-single-disk': { base: 'esp-single-disk', firmware: 'uefi', secureBoot: false },
  // RAID1 /boot + LVM across two disks; no ESP volume in the data: the agent makes one in
  // fuel-agent's reserved partition of each /boot disk (one mounted, one mirror).
  'uefi-raid-lvm': { base: 'two-disks-raid-lvm', firmware: 'uefi', secureBoot: false },
  // Secure Boot enforced with Microsoft's keys: shim → Debian's GRUB → Debian's kernel,
  // over the network (the bootstrap) and from the disk (the image's signed packages).
  'uefi-secureboot': { base: 'esp-single-disk', firmware: 'uefi', secureBoot: true },
  // The only boot disk has 4096-byte logical sectors: legacy BIOS cannot boot it, UEFI can.
  'uefi-4kn': { base: 'esp-single-disk', firmware: 'uefi', secureBoot: false, sectorSize: 4096 },
} as const satisfies Record<string, { base: (typeof SCENARIOS)[number]; firmware: 'uefi'; secureBoot: boolean; sectorSize?: 4096 }>;

export const LAB_SCENARIOS = [...SCENARIOS, 'fuel-sample', ...(Object.keys(FIRMWARE_SCENARIOS) as (keyof typeof FIRMWARE_SCENARIOS)[])] as const;
export type LabScenarioName = (typeof LAB_SCENARIOS)[number];

export interface LabScenario {
  name: string;
  disks: VmDiskSpec[];
  /** A whole provision document; nodeData() fills in the node and the master. */
  doc: Doc;
  /** The node's firmware (default BIOS). */
  firmware?: 'bios' | 'uefi';
  /** UEFI with Secure Boot enforced. */
  secureBoot?: boolean;
}

const readJson = (path: string): Doc => JSON.parse(readFileSync(path, 'utf8')) as Doc;

/** The VM disks an inventory describes: bus from the transport, size, sector size, serial. */
export function disksFromInventory(inv: Inventory): VmDiskSpec[] {
  return inv.disks.map((d) => {
    const bus = d.transport === 'nvme' ? 'nvme' : d.transport === 'sata' || d.transport === 'ata' ? 'sata' : 'virtio';
    const spec: VmDiskSpec = { sizeMiB: Math.round(d.size / 2 ** 20), bus, logicalBlockSize: d.logicalSectorSize === 4096 ? 4096 : 512 };
    if (d.serial) spec.serial = d.serial;
    return spec;
  });
}

/**
 * The inventory a VM with these disks presents to the agent: QEMU's naming
 * (virtio vda…, nvme0n1…, sata sda…) and udev's by-id links built from the serial.
 */
export function vmInventory(disks: readonly VmDiskSpec[]): Inventory {
  const count = { virtio: 0, nvme: 0, sata: 0 };
  return {
    version: 1,
    disks: disks.map((d, i) => {
      const bus = d.bus ?? 'virtio';
      const n = count[bus]++;
      const serial = d.serial ?? `forge-vm-${i}`;
      const [name, link] =
        bus === 'nvme' ? [`nvme${n}n1`, `nvme-QEMU_NVMe_Ctrl_${serial}`]
          : bus === 'sata' ? [`sd${String.fromCharCode(97 + n)}`, `ata-QEMU_HARDDISK_${serial}`]
            : [`vd${String.fromCharCode(97 + n)}`, `virtio-${serial}`];
      const sector = d.logicalBlockSize ?? 512;
      return {
        name, path: `/dev/${name}`, size: d.sizeMiB * 2 ** 20, logicalSectorSize: sector, physicalSectorSize: sector,
        rotational: bus === 'sata', removable: false, readOnly: false, type: 'disk', links: [`disk/by-id/${link}`], serial, transport: bus,
      };
    }),
  };
}

/**
 * Points provisioning data at a VM's disks by position (the n-th ks_spaces disk is
 * the n-th VM disk, or VM disk `at[n]` when given: data for one disk of several):
 * kernel names and the by-id links udev gives the guest. Data
 * that matched by a link keeps matching by link; by name only where the name is
 * stable: virtio disks (probed in PCI order). NVMe and SATA disks always match by
 * link: NVMe controllers and libata's ports probe asynchronously, so two SATA
 * disks can swap sda/sdb between boots (seen: the lab property's second disk,
 * matched by name, resolved to the disk the first one's by-id link named).
 */
export function retargetToVm(data: Doc, disks: readonly VmDiskSpec[], at?: readonly number[]): Doc {
  const copy = structuredClone(data);
  const inv = vmInventory(disks).disks;
  const spaces = (copy.ks_meta?.pm_data?.ks_spaces ?? []) as Doc[];
  spaces.filter((s) => s.type === 'disk').forEach((s, n) => {
    const i = at ? at[n] ?? -1 : n;
    const d = inv[i];
    if (!d) throw new ForgeError('DISK_NOT_FOUND', `retargetToVm: no VM disk for ks_spaces disk ${String(s.name)} (${disks.length} disks)`);
    const link = d.links[0] as string;
    const byName = s.id === s.name && !(s.extra as unknown[] | undefined)?.length;
    s.name = d.name;
    if ((s.extra as unknown[] | undefined)?.length) {
      s.extra = [link];
      s.id = d.name;
    } else s.id = byName && d.name.startsWith('vd') ? d.name : link;
  });
  return copy;
}

export function labScenario(name: LabScenarioName): LabScenario {
  if (name === 'fuel-sample') return fuelSampleScenario();
  if (name in FIRMWARE_SCENARIOS) {
    const f: { base: (typeof SCENARIOS)[number]; firmware: 'uefi'; secureBoot: boolean; sectorSize?: 4096 } = FIRMWARE_SCENARIOS[name as keyof typeof FIRMWARE_SCENARIOS];
    const base = labScenario(f.base);
    const size = f.sectorSize;
    const disks = size ? base.disks.map((d) => ({ ...d, logicalBlockSize: size })) : base.disks;
    return { ...base, name, disks, firmware: f.firmware, ...(f.secureBoot ? { secureBoot: true } : {}) };
  }
  const p = scenarioPaths(name as (typeof SCENARIOS)[number]);
  return { name, disks: disksFromInventory(readJson(p.inventory) as Inventory), doc: readJson(p.input) };
}

/** Mount points whose volumes keep their Fuel size; everything else scales. */
const FIXED_TYPES = new Set(['boot', 'raid', 'lvm_meta_pool']);

/**
 * provision_sample.json (three 64 GiB disks, raid /boot offered on all three, "os" VG
 * with root and swap, "image" VG for glance) scaled so the root LV still holds
 * the OS image: sizes × factor, small fixed volumes kept, disks renamed to the
 * VM's virtio disks and matched by their by-id links.
 */
export function fuelSampleScenario(rootMiB = 2560): LabScenario {
  const doc = readJson(FUEL_SAMPLE);
  const spaces = doc.ks_meta.pm_data.ks_spaces as Doc[];
  const root = spaces.flatMap((s) => (s.volumes as Doc[])).find((v) => v.mount === '/') as Doc;
  const factor = rootMiB / Number(root.size);
  const scale = (n: number): number => Math.floor(n * factor);
  const disks: VmDiskSpec[] = [];
  for (const s of spaces) {
    for (const v of s.volumes as Doc[]) {
      if (typeof v.size !== 'number' || v.size === 0) continue;
      if (s.type === 'disk' && (FIXED_TYPES.has(v.type) || (v.type === 'partition' && v.size <= 1024))) continue;
      // PVs round up (their metadata area is not scaled), LVs down: the LVs still fit their VGs.
      const meta = v.type === 'pv' ? Number(v.lvm_meta_size ?? 64) : 0;
      v.size = v.type === 'pv' ? Math.ceil((v.size - meta) * factor) + meta : scale(v.size);
    }
    if (s.type !== 'disk') continue;
    const serial = `forge-fuel${disks.length + 1}`;
    const link = `disk/by-id/virtio-${serial}`;
    // Whole MiB the volumes need plus bios_grub, the 200 MiB UEFI partition, the configdrive,
    // a 1 MiB gap before each partition (fuel-agent's layout) and GPT slack.
    const vols = s.volumes as Doc[];
    const used = vols.reduce((a, v) => a + (v.type === 'boot' ? 0 : Number(v.size ?? 0)) + Number(v.lvm_meta_size ?? 0), 0);
    s.size = Math.max(scale(Number(s.size)), used + 24 + 200 + 20 + vols.length + 3 + 8);
    s.name = `vd${String.fromCharCode(97 + disks.length)}`;
    s.id = link;
    s.extra = [link];
    disks.push({ sizeMiB: s.size, serial });
  }
  // VMs boot with a serial console and no 90 s root delay.
  doc.ks_meta.pm_data.kernel_params = 'console=ttyS0,115200n8 net.ifnames=0';
  // The sample's repos are placeholders; the node runs Debian.
  doc.ks_meta.repo_setup = readJson(scenarioPaths('single-disk').input).ks_meta.repo_setup;
  return { name: 'fuel-sample', disks, doc };
}

/** A syntactically valid ed25519 public key derived from a name: a key that is not the lab master's. */
export function labPublicKey(name: string): string {
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(createHash('sha256').update(name).digest())]);
  return `ssh-ed25519 ${blob.toString('base64')} forge-lab@${name}`;
}

export interface LabNode {
  uid: string;
  hostname: string;
  macs: string[];
  /** Mock Nailgun as the node sees it, e.g. http://10.97.3.1:PORT. */
  masterUrl: string;
  /** The lab's name server (the master's dnsmasq): the only one a lab node is given. */
  nameServer: string;
  /** The master's SSH key (root's authorized_keys); default a key derived from the name, nobody's. */
  publicKey?: string;
  /** mcollective's broker (ks_meta.mco_host); default the master's address. */
  mcoHost?: string;
}

/** mco_* settings of the lab's data (Fuel's sample): the broker is set up with the same. */
export function labMcoSettings(): { user: string; password: string; vhost: string; pskey: string } {
  const ks = readJson(FUEL_SAMPLE).ks_meta as Doc;
  return { user: String(ks.mco_user), password: String(ks.mco_password), vhost: String(ks.mco_vhost), pskey: String(ks.mco_pskey) };
}

/** image_data for a built image served at `imagesUrl`: the builder's metadata as it is. */
export function imageDataFor(meta: ImageMeta, imagePath: string, imagesUrl: string): Doc {
  return { ...meta, uri: `${imagesUrl}/${basename(imagePath)}` };
}

/**
 * The scenario's data for one node: identity, NICs, master, image, keys, Fuel's
 * puppet/mcollective settings. Every address a node is given is the lab's: the
 * fixtures keep Fuel's datacentre values (name servers, mirrors, gateway) for
 * planning tests, but nothing answers there, and lab traffic may not leave the lab.
 */
export function nodeData(s: LabScenario, n: LabNode, image: Doc): Doc {
  const doc = structuredClone(s.doc);
  const sample = readJson(FUEL_SAMPLE);
  const master = new URL(n.masterUrl).hostname;
  const name = n.hostname.split('.')[0] ?? n.hostname;
  Object.assign(doc, { uid: n.uid, hostname: n.hostname, name, slave_name: name });
  doc.interfaces = Object.fromEntries(n.macs.map((m, k) => [`eth${k}`, { mac_address: m, static: '0', ...(k === 0 ? { dns_name: n.hostname } : {}) }]));
  doc.interfaces_extra = Object.fromEntries(n.macs.map((_, k) => [`eth${k}`, { onboot: k === 0 ? 'yes' : 'no', peerdns: 'no' }]));
  doc.kernel_options = { 'netcfg/choose_interface': n.macs[0], udevrules: n.macs.map((m, k) => `${m}_eth${k}`).join(',') };
  const ks = doc.ks_meta as Doc;
  for (const [k, v] of Object.entries(sample.ks_meta as Doc)) if (/^(mco|puppet)_/.test(k)) ks[k] = v;
  ks.mco_host = n.mcoHost ?? master;
  ks.master_ip = master;
  ks.gw = master;
  // Name service from the master's dnsmasq (answers for the lab's domain, forwards nothing).
  doc.name_servers = JSON.stringify(n.nameServer);
  doc.name_servers_search = JSON.stringify(n.hostname.split('.').slice(1).join('.') || LAB_DOMAIN);
  // Lab power goes through mock Cobbler to QEMU; the sample's BMC address is not ours.
  delete doc.power_address;
  // No mirror: the lab serves none, and a node's first boot must not wait on one.
  ks.repo_setup = { repos: [] };
  // Lab VMs have no display (-vga none): the serial port must be the last console=, so
  // /dev/console — emergency shells, systemd's status — shows in the serial log.
  const pm = ks.pm_data as Doc;
  const params = String(pm.kernel_params ?? '').split(/\s+/).filter((p) => p && !p.startsWith('console='));
  pm.kernel_params = [...params, 'console=ttyS0,115200n8'].join(' ');
  ks.callback_url = `${n.masterUrl}/api/v1/nodes/{uid}/provisioned`;
  ks.authorized_keys = [n.publicKey ?? labPublicKey(name)];
  ks.image_data = { '/': image };
  return doc;
}
