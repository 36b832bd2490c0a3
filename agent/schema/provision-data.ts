// The Nailgun provision data (what the provision serializer emits), as a zod schema.
// Objects are loose: Nailgun adds fields between releases, and unknown ones must be
// kept and passed on (configdrive templates read them), never rejected.
import { z } from 'zod';
import * as R from './values.js';

/** A string checked by a named rule from values.ts; the rule's reason becomes the issue. */
const checked = (rule: R.Rule) =>
  z.string().superRefine((v, ctx) => {
    const why = rule(v);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });
/** Nailgun sends some ids as numbers or strings; the rule applies to the text, which is what every step gets. */
const checkedId = (rule: R.Rule) =>
  z
    .union([z.string(), z.number()])
    .superRefine((v, ctx) => {
      const why = rule(String(v));
      if (why) ctx.addIssue({ code: 'custom', message: why });
    })
    .transform(String);

/** A value some Nailgun releases send as a number: kept as its text. */
const text = z.union([z.string(), z.number()]).transform(String);

/** Nailgun sends flags as 0/1, "0"/"1", "yes"/"no" or booleans depending on the release: read once, as a boolean. */
const flag = z.union([z.number(), z.string(), z.boolean()]).transform(R.truthy);

const mib = z.number().nonnegative();

/** Hex digest of a fixed length, any case (normalised to lower case by the plan). */
const hex = (len: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${len}}$`), `expected ${len} hex digits`);

export const FS_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'vfat', 'swap'] as const;
/** Nailgun sends `file_system: "none"` for Ceph OSD/journal partitions: created, never formatted. */
export const VOLUME_FS_TYPES = [...FS_TYPES, 'none'] as const;
/** Nailgun sends `disk_label: null` (Swift) or `""` (Ceph) for "no label". */
const diskLabel = checked(R.singleLine).nullable().optional();
export const IMAGE_FORMATS = ['ext2', 'ext3', 'ext4', 'xfs', 'qcow2', 'raw'] as const;
export const IMAGE_CONTAINERS = ['raw', 'gzip', 'xz', 'zstd'] as const;
export const DISK_VOLUME_TYPES = ['boot', 'partition', 'raid', 'pv', 'lvm_meta_pool'] as const;

/** swap is a mount and a filesystem at once: one without the other would be mkswap'd or mounted wrongly. */
function volumeFsRules(v: { mount?: string | undefined; file_system?: string | undefined }, ctx: z.RefinementCtx): void {
  if (v.mount === 'swap' && v.file_system !== undefined && v.file_system !== 'swap') {
    ctx.addIssue({ code: 'custom', path: ['file_system'], message: `"${v.file_system}" on a swap volume: swap takes file_system "swap"` });
  }
  if (v.file_system === 'swap' && v.mount !== undefined && v.mount !== 'swap' && v.mount !== 'none') {
    ctx.addIssue({ code: 'custom', path: ['mount'], message: 'a swap volume is mounted as "swap" (or "none")' });
  }
}

/** A volume on a ks_spaces disk. Which fields are required depends on `type` (checked below). */
export const diskVolumeSchema = z
  .looseObject({
    type: z.enum(DISK_VOLUME_TYPES),
    size: mib,
    name: checked(R.singleLine).optional(),
    mount: checked(R.mountPoint).optional(),
    file_system: z.enum(VOLUME_FS_TYPES).optional(),
    disk_label: diskLabel,
    keep_data: z.boolean().optional(),
    partition_guid: checked(R.singleLine).optional(),
    vg: checked(R.vgName).optional(),
    lvm_meta_size: mib.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'pv' && v.vg === undefined)
      ctx.addIssue({ code: 'custom', path: ['vg'], message: 'required for a pv volume' });
    // A raid volume's name becomes the md array's name (/dev/md/<name>).
    if (v.type === 'raid' && v.name !== undefined) {
      const why = R.mdName(v.name);
      if (why) ctx.addIssue({ code: 'custom', path: ['name'], message: why });
    }
    volumeFsRules(v, ctx);
  });

export const lvVolumeSchema = z
  .looseObject({
    type: z.literal('lv'),
    name: checked(R.lvName),
    size: mib,
    mount: checked(R.mountPoint).optional(),
    file_system: z.enum(VOLUME_FS_TYPES).optional(),
    disk_label: diskLabel,
    keep_data: z.boolean().optional(),
  })
  .superRefine(volumeFsRules);

export const ksDiskSchema = z.looseObject({
  type: z.literal('disk'),
  id: checked(R.diskName),
  name: checked(R.diskName),
  size: mib,
  extra: z.array(checked(R.diskName)).optional(),
  bootable: z.boolean().optional(),
  free_space: z.number().optional(),
  volumes: z.array(diskVolumeSchema),
});

export const ksVgSchema = z
  .looseObject({
    type: z.literal('vg'),
    id: checked(R.vgName),
    label: z.string().optional(),
    min_size: z.number().optional(),
    _allocate_size: z.string().optional(),
    volumes: z.array(lvVolumeSchema),
  })
  .superRefine((g, ctx) => {
    // lvcreate would fail on the second one, after the disks were wiped.
    const seen = new Set<string>();
    g.volumes.forEach((l, i) => {
      if (seen.has(l.name)) ctx.addIssue({ code: 'custom', path: ['volumes', i, 'name'], message: `a second logical volume named ${l.name} in volume group ${g.id}` });
      seen.add(l.name);
    });
  });

export const ksSpaceSchema = z.discriminatedUnion('type', [ksDiskSchema, ksVgSchema]);

export const imageDataSchema = z.looseObject({
  uri: z.string().min(1),
  format: z.enum(IMAGE_FORMATS),
  container: z.enum(IMAGE_CONTAINERS),
  /**
   * Size and digests of the decompressed image (Fuel's meaning) — unless `raw_*`
   * keys are present too (build-image's `<image>.meta.json` shape): then these
   * describe the file as served and `raw_*` the decompressed image.
   */
  size: z.number().int().nonnegative().optional(),
  md5: hex(32).optional(),
  sha256: hex(64).optional(),
  sha512: hex(128).optional(),
  raw_size: z.number().int().nonnegative().optional(),
  raw_md5: hex(32).optional(),
  raw_sha256: hex(64).optional(),
  raw_sha512: hex(128).optional(),
  container_size: z.number().int().nonnegative().optional(),
  container_md5: hex(32).optional(),
  container_sha256: hex(64).optional(),
  container_sha512: hex(128).optional(),
});

export const repoSchema = z.looseObject({
  name: checked(R.repoName),
  uri: checked(R.aptUri),
  type: checked(R.aptType).optional(),
  suite: checked(R.aptSuite),
  section: checked(R.aptSections).optional(),
  priority: z.number().int().nullable().optional(),
});

export const userAccountSchema = z.looseObject({
  name: checked(R.userName),
  password: checked(R.singleLine).optional(),
  homedir: checked(R.absolutePath).optional(),
  sudo: z.array(checked(R.sudoRule)).optional(),
  ssh_keys: z.array(checked(R.singleLine)).optional(),
});

export const interfaceSchema = z.looseObject({
  mac_address: checked(R.mac).optional(),
  ip_address: checked(R.ipAddress).optional(),
  netmask: checked(R.netmask).optional(),
  dns_name: checked(R.hostname).optional(),
  /** Fuel marks the admin NIC static:"0" even with an address (the master's DHCP reserves it). */
  static: flag.default(false),
});

export const pmDataSchema = z.looseObject({
  ks_spaces: z.array(ksSpaceSchema),
  kernel_params: checked(R.kernelParams).optional(),
  /**
   * Opt-in (fuel-forge): a `raid` /boot offered on several disks becomes a RAID1
   * across them. Off, /boot is one plain partition on the first boot disk, as
   * fuel-agent lays it out (and as a fuel-agent node's disks already are).
   */
  raid_boot: z.boolean().optional(),
});

export const ksMetaSchema = z.looseObject({
  pm_data: pmDataSchema,
  image_data: z.record(z.string(), imageDataSchema).optional(),
  authorized_keys: z.array(checked(R.singleLine)).optional(),
  auth_key: checked(R.singleLine).optional(),
  master_ip: checked(R.hostOrIp).optional(),
  gw: checked(R.ipAddress).optional(),
  timezone: checked(R.timezone).optional(),
  fuel_version: z.string().optional(),
  puppet_master: checked(R.hostOrIp).optional(),
  puppet_enable: flag.default(false),
  puppet_auto_setup: flag.default(true),
  mco_enable: flag.default(false),
  mco_auto_setup: flag.default(true),
  mco_host: checked(R.hostOrIp).optional(),
  mco_user: checked(R.token).optional(),
  mco_password: checked(R.singleLine).optional(),
  mco_vhost: checked(R.token).optional(),
  mco_pskey: checked(R.singleLine).optional(),
  mco_connector: checked(R.word).optional(),
  /** "-1" (or absent) means "use the node id", as Fuel's templates did. */
  mco_identity: checkedId((s) => (s === '-1' ? undefined : R.uid(s))).optional(),
  /** Where first boot reports "provisioned"; derived from master_ip when absent. */
  callback_url: checked(R.httpUrl).optional(),
  configdrive_files: z
    .array(z.looseObject({ path: checked(R.absolutePath), content: z.string().optional() }))
    .optional(),
  repo_setup: z
    .looseObject({ repos: z.array(repoSchema).optional() })
    .superRefine((r, ctx) => {
      // Two repos with one name would share one sources.list.d file: refuse, never merge.
      const seen = new Set<string>();
      (r.repos ?? []).forEach((x, i) => {
        if (seen.has(x.name)) ctx.addIssue({ code: 'custom', path: ['repos', i, 'name'], message: `a second repository named ${x.name}` });
        seen.add(x.name);
      });
    })
    .optional(),
  user_accounts: z.array(userAccountSchema).optional(),
  cloud_init_templates: z.record(z.string(), z.string()).optional(),
});

const documentSchema = z.looseObject({
  ks_meta: ksMetaSchema,
  hostname: checked(R.hostname).optional(),
  name: checked(R.token).optional(),
  uid: checkedId(R.uid).optional(),
  /** Instance UUID for the configdrive; derived from uid and hostname when absent. */
  uuid: text.optional(),
  /** Older releases' name for `name`. */
  slave_name: text.optional(),
  profile: z.string().optional(),
  interfaces: z.record(checked(R.interfaceName), interfaceSchema).optional(),
  interfaces_extra: z.record(z.string(), z.looseObject({})).optional(),
  kernel_options: z.record(z.string(), checked(R.singleLine)).optional(),
  /** Nailgun quotes the list (`"\"10.20.0.2\""`); each entry is checked below (R.splitQuotedList). */
  name_servers: checked(R.singleLine).optional(),
  name_servers_search: checked(R.singleLine).optional(),
});

/** Rules that read more than one value: lists inside strings, keys naming mounts, ids across spaces. */
function crossFieldRules(d: z.infer<typeof documentSchema>, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const udev = d.kernel_options?.udevrules;
  if (udev !== undefined) {
    const r = R.parseUdevRules(udev);
    if (r.problem) issue(['kernel_options', 'udevrules'], r.problem);
  }
  const chosen = d.kernel_options?.['netcfg/choose_interface'];
  const badChosen = chosen === undefined ? undefined : R.mac(chosen);
  if (badChosen) issue(['kernel_options', 'netcfg/choose_interface'], badChosen);
  R.splitQuotedList(d.name_servers).forEach((n) => {
    const why = R.ipAddress(n);
    if (why) issue(['name_servers'], why);
  });
  R.splitQuotedList(d.name_servers_search).forEach((n) => {
    const why = R.hostname(n);
    if (why) issue(['name_servers_search'], why);
  });
  // image_data is keyed by the mount point its image is written to.
  for (const key of Object.keys(d.ks_meta.image_data ?? {})) {
    const why = R.absolutePath(key);
    if (why) issue(['ks_meta', 'image_data', key], `key: ${why} (images go to a mounted filesystem, never swap)`);
  }
  const vgIds = new Map<string, number>();
  d.ks_meta.pm_data.ks_spaces.forEach((sp, i) => {
    if (sp.type !== 'vg') return;
    if (vgIds.has(sp.id)) issue(['ks_meta', 'pm_data', 'ks_spaces', i, 'id'], `volume group ${sp.id} is already listed at ks_spaces[${vgIds.get(sp.id)}]`);
    else vgIds.set(sp.id, i);
  });
  loneSurrogates(d, [], issue);
}

/**
 * A string holding a lone UTF-16 surrogate (only a JSON `\ud800` escape makes one),
 * anywhere in the data, known field or not: no UTF-8 file can carry it, so writing
 * it would silently turn it into U+FFFD. Named by its JSON path.
 */
function loneSurrogates(v: unknown, path: (string | number)[], issue: (path: (string | number)[], message: string) => void): void {
  const bad = (at: (string | number)[]): void => issue(at, 'holds a lone UTF-16 surrogate, which no file can carry');
  if (typeof v === 'string') {
    if (R.hasLoneSurrogate(v)) bad(path);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => loneSurrogates(x, [...path, i], issue));
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (R.hasLoneSurrogate(k)) bad([...path, k]);
      loneSurrogates(x, [...path, k], issue);
    }
  }
}

export const provisionDataSchema = documentSchema.superRefine(crossFieldRules);

/** The data as every step reads it: checked, ids as text, flags as booleans with their defaults. */
export type ProvisionData = z.output<typeof provisionDataSchema>;
export type KsDisk = z.infer<typeof ksDiskSchema>;
export type KsVg = z.infer<typeof ksVgSchema>;
export type DiskVolume = z.infer<typeof diskVolumeSchema>;
export type ImageData = z.infer<typeof imageDataSchema>;
