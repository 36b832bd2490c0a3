// Checks on the first-boot call-back body posted by the configdrive's report
// script (agent/configdrive/templates/fuel-forge-report.py), against what the
// agent's own configdrive builder renders from the same provisioning data.
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { buildConfigDrive } from '../../agent/configdrive/build.js';
import { isGuid } from '../../agent/plan/guids.js';
import type { Plan } from '../../agent/plan/types.js';
import { parseProvisionData } from '../../agent/schema/load.js';
import type { ProvisionData } from '../../agent/schema/provision-data.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface FirstBootExpectation {
  hostname: string;
  fqdn: string;
  publicKeys: string[];
  /** sha256 of each file the cloud-config's write_files puts in place, by path. */
  files: Record<string, string>;
  /** From the plan, when given: what the booted node must have mounted, swapped on and booted with. */
  mounts?: string[];
  swaps?: number;
  kernelParams?: string;
  /** The plan has VGs: the agent's activation unit must have run. */
  lvmActivateUnit?: boolean;
  /**
   * Partitions typed by the data's partition_guid (Ceph OSD data and journals, Swift):
   * the GPT type the booted node must read on each, and the filesystem on it (null: none).
   */
  partitionTypes?: Record<string, { guid: string; fstype: string | null }>;
  /** The node's firmware as the lab started it: UEFI or BIOS, Secure Boot enforced or not. */
  firmware?: { efi: boolean; secureBoot: boolean };
}

/** Every partition_guid the data asks for (lower case); values that are not GUIDs the plan ignored. */
function dataGuids(data: ProvisionData): Set<string> {
  const guids = data.ks_meta.pm_data.ks_spaces
    .flatMap((s) => (s.type === 'disk' ? s.volumes.map((v) => v.partition_guid) : []))
    .filter((g): g is string => g !== undefined && isGuid(g));
  return new Set(guids.map((g) => g.toLowerCase()));
}

/**
 * Files whose content must be exactly what our cloud-config wrote. resolv.conf is
 * left out: DHCP on the admin interface may rewrite it after cloud-init.
 */
const EXACT_FILES = ['/etc/hosts', '/etc/puppet/puppet.conf', '/etc/default/puppet', '/etc/mcollective/server.cfg', '/etc/default/mcollective'];

/** `raw` is the provision data as sent to the node: parsed here as the agent parses it. */
export function expectFirstBoot(raw: unknown, o: { callbackUrl?: string; plan?: Plan | undefined; firmware?: FirstBootExpectation['firmware'] } = {}): FirstBootExpectation {
  const data = parseProvisionData(raw);
  const cd = buildConfigDrive(data, o.callbackUrl === undefined ? {} : { callbackUrl: o.callbackUrl });
  const cc = parseYaml(cd.cloudConfig) as { write_files?: { path: string; content: string }[] };
  const files: Record<string, string> = {};
  for (const f of cc.write_files ?? []) {
    if (EXACT_FILES.includes(f.path)) files[f.path] = createHash('sha256').update(f.content).digest('hex');
  }
  const want: FirstBootExpectation = { hostname: cd.input.hostname, fqdn: cd.input.fqdn, publicKeys: [...cd.input.publicKeys], files };
  if (o.firmware) want.firmware = o.firmware;
  if (o.plan) {
    want.mounts = o.plan.fss.filter((f) => f.mount.startsWith('/')).map((f) => f.mount);
    want.swaps = o.plan.fss.filter((f) => f.type === 'swap').length;
    want.kernelParams = o.plan.bootloader.kernelParams;
    want.lvmActivateUnit = o.plan.vgs.length > 0;
    const guids = dataGuids(data);
    const fss = o.plan.fss;
    const typed = o.plan.parteds.flatMap((d) => d.partitions).flatMap((p) => (p.guid !== undefined && guids.has(p.guid.toLowerCase()) ? [{ p, guid: p.guid.toLowerCase() }] : []));
    if (typed.length) {
      want.partitionTypes = Object.fromEntries(typed.map(({ p, guid }) => [p.device, { guid, fstype: fss.find((f) => f.device === p.device)?.type ?? null }]));
    }
  }
  return want;
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

export function firstBootChecks(body: unknown, want: FirstBootExpectation): Check[] {
  const b = obj(body);
  const ci = obj(b['cloud_init']);
  const ds = obj(b['datasource']);
  const facts = obj(b['facts']);
  const files = obj(facts['files']);
  const keys = Array.isArray(facts['root_authorized_keys']) ? (facts['root_authorized_keys'] as string[]) : [];
  const dsText = `${String(ds['name'] ?? '')} ${String(ds['platform'] ?? '')} ${String(ds['subplatform'] ?? '')}`;
  const errors = Array.isArray(ci['errors']) ? ci['errors'] : [];
  const short = want.hostname.split('.')[0] ?? want.hostname;
  const checks: Check[] = [
    { name: 'first-boot call-back received', ok: b['status'] === 'provisioned', detail: `status=${String(b['status'])}` },
    { name: 'hostname set by cloud-init', ok: facts['hostname'] === short || facts['hostname'] === want.hostname, detail: `got ${String(facts['hostname'])}, want ${short}` },
    { name: 'fqdn', ok: facts['fqdn'] === want.fqdn, detail: `got ${String(facts['fqdn'])}, want ${want.fqdn}` },
    {
      name: 'root authorized keys',
      ok: want.publicKeys.length > 0 && want.publicKeys.every((k) => keys.includes(k.trim())),
      detail: `${keys.length} key(s) on the node, ${want.publicKeys.length} in the data`,
    },
    { name: 'cloud-init boot-finished', ok: b['boot_finished'] === true, detail: `boot_finished=${String(b['boot_finished'])}` },
    { name: 'cloud-init status done, no errors', ok: ci['status'] === 'done' && errors.length === 0, detail: `status=${String(ci['status'])} errors=${JSON.stringify(errors).slice(0, 200)}` },
    { name: 'datasource ConfigDrive', ok: /configdrive|config-drive/i.test(dsText), detail: dsText.trim() },
  ];
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  if (want.mounts) {
    const mounted = strings(facts['mounts']);
    const missing = want.mounts.filter((m) => !mounted.includes(m));
    checks.push({ name: 'every planned filesystem mounted at boot', ok: missing.length === 0, detail: missing.length ? `not mounted: ${missing.join(' ')}` : want.mounts.join(' ') });
  }
  if (want.swaps !== undefined) {
    const on = strings(facts['swaps']).length;
    checks.push({ name: 'planned swap active', ok: on >= want.swaps, detail: `${on} swap device(s) on, ${want.swaps} planned` });
  }
  if (want.kernelParams !== undefined) {
    const cmdline = String(facts['kernel_cmdline'] ?? '').split(/\s+/);
    const missing = want.kernelParams.split(/\s+/).filter((p) => p && !cmdline.includes(p));
    checks.push({ name: 'booted with the planned kernel parameters', ok: missing.length === 0, detail: missing.length ? `missing: ${missing.join(' ')}` : want.kernelParams });
  }
  if (want.lvmActivateUnit) {
    const state = obj(facts['units'])['fuel-forge-lvm-activate.service'];
    const failed = strings(facts['failed_units']);
    checks.push({ name: 'VG activation unit ran', ok: state === 'active', detail: `state=${String(state)}; failed units: ${failed.join(' ') || 'none'}` });
  }
  if (want.partitionTypes) {
    // Read on the booted node by its own lsblk/blkid (the report script): what ceph-disk's
    // udev rules and Swift would see, after GRUB, the image and first boot have run.
    const onNode = obj(facts['partitions']);
    for (const [device, w] of Object.entries(want.partitionTypes)) {
      const got = obj(onNode[device]);
      const type = typeof got['parttype'] === 'string' ? got['parttype'].toLowerCase() : null;
      const fstype = typeof got['fstype'] === 'string' && got['fstype'] !== '' ? got['fstype'] : null;
      checks.push({
        name: `partition ${device} typed ${w.guid}${w.fstype ? `, ${w.fstype}` : ', no filesystem'} on the node`,
        ok: type === w.guid && fstype === w.fstype,
        detail: device in onNode ? `node reads type ${String(type)}, filesystem ${String(fstype)}` : 'not on the node',
      });
    }
  }
  if (want.firmware) {
    // The node's own reading (/sys/firmware/efi, the SecureBoot variable), not the lab's intent.
    const fw = obj(facts['firmware']);
    const entries = Array.isArray(fw['boot_entries']) ? (fw['boot_entries'] as { description?: unknown }[]).map((e) => String(e.description)) : [];
    checks.push({
      name: `booted with ${want.firmware.efi ? 'UEFI' : 'BIOS'} firmware${want.firmware.efi ? `, Secure Boot ${want.firmware.secureBoot ? 'on' : 'off'}` : ''}`,
      ok: fw['efi'] === want.firmware.efi && (!want.firmware.efi || fw['secure_boot'] === (want.firmware.secureBoot ? 1 : 0)),
      detail: `efi=${String(fw['efi'])} secure_boot=${String(fw['secure_boot'])}${entries.length ? `; boot order: ${entries.join(' > ')}` : ''}`,
    });
    // PXE stays ahead of the disk for the next provisioning (field failure: a new entry pre-empted it).
    if (want.firmware.efi) {
      const pxe = entries.findIndex((e) => /PXE/i.test(e));
      checks.push({ name: 'PXE first in the UEFI boot order', ok: pxe === 0, detail: entries.length ? entries.join(' > ') : 'no boot entries reported' });
    }
  }
  for (const [path, sha] of Object.entries(want.files)) {
    checks.push({ name: `${path} from our configdrive`, ok: files[path] === sha, detail: files[path] ? `sha256 ${String(files[path]).slice(0, 12)}…, want ${sha.slice(0, 12)}…` : 'missing on the node' });
  }
  return checks;
}
