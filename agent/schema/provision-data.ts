// The Nailgun provision data (what the provision serializer emits), as a zod schema.
// Objects are loose: Nailgun adds fields between releases, and unknown ones must be
// kept and passed on (configdrive templates read them), never rejected.
import { z } from 'zod';

const mib = z.number().nonnegative();

/** Hex digest of a fixed length, any case (normalised to lower case by the plan). */
const hex = (len: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${len}}$`), `expected ${len} hex digits`);

export const FS_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'vfat', 'swap'] as const;
/** Nailgun sends `file_system: "none"` for Ceph OSD/journal partitions: created, never formatted. */
export const VOLUME_FS_TYPES = [...FS_TYPES, 'none'] as const;
/** Nailgun sends `disk_label: null` (Swift) or `""` (Ceph) for "no label". */
const diskLabel = z.string().nullable().optional();
export const IMAGE_FORMATS = ['ext2', 'ext3', 'ext4', 'xfs', 'qcow2', 'raw'] as const;
export const IMAGE_CONTAINERS = ['raw', 'gzip', 'xz', 'zstd'] as const;
export const DISK_VOLUME_TYPES = ['boot', 'partition', 'raid', 'pv', 'lvm_meta_pool'] as const;

/** A volume on a ks_spaces disk. Which fields are required depends on `type` (checked below). */
export const diskVolumeSchema = z
  .looseObject({
    type: z.enum(DISK_VOLUME_TYPES),
    size: mib,
    name: z.string().optional(),
    mount: z.string().optional(),
    file_system: z.enum(VOLUME_FS_TYPES).optional(),
    disk_label: diskLabel,
    keep_data: z.boolean().optional(),
    partition_guid: z.string().optional(),
    vg: z.string().optional(),
    lvm_meta_size: mib.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'pv' && v.vg === undefined)
      ctx.addIssue({ code: 'custom', path: ['vg'], message: 'required for a pv volume' });
  });

export const lvVolumeSchema = z.looseObject({
  type: z.literal('lv'),
  name: z.string().min(1),
  size: mib,
  mount: z.string().optional(),
  file_system: z.enum(VOLUME_FS_TYPES).optional(),
  disk_label: diskLabel,
  keep_data: z.boolean().optional(),
});

export const ksDiskSchema = z.looseObject({
  type: z.literal('disk'),
  id: z.string().min(1),
  name: z.string().min(1),
  size: mib,
  extra: z.array(z.string()).optional(),
  bootable: z.boolean().optional(),
  free_space: z.number().optional(),
  volumes: z.array(diskVolumeSchema),
});

export const ksVgSchema = z.looseObject({
  type: z.literal('vg'),
  id: z.string().min(1),
  label: z.string().optional(),
  min_size: z.number().optional(),
  _allocate_size: z.string().optional(),
  volumes: z.array(lvVolumeSchema),
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
  name: z.string(),
  uri: z.string(),
  type: z.string().optional(),
  suite: z.string().optional(),
  section: z.string().optional(),
  priority: z.number().nullable().optional(),
});

export const userAccountSchema = z.looseObject({
  name: z.string().min(1),
  password: z.string().optional(),
  homedir: z.string().optional(),
  sudo: z.array(z.string()).optional(),
  ssh_keys: z.array(z.string()).optional(),
});

export const interfaceSchema = z.looseObject({
  mac_address: z.string().optional(),
  ip_address: z.string().optional(),
  netmask: z.string().optional(),
  dns_name: z.string().optional(),
  static: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

/** Nailgun sends flags as 0/1, "0"/"1" or booleans depending on the release. */
const flag = z.union([z.number(), z.string(), z.boolean()]);

export const pmDataSchema = z.looseObject({
  ks_spaces: z.array(ksSpaceSchema),
  kernel_params: z.string().optional(),
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
  authorized_keys: z.array(z.string()).optional(),
  auth_key: z.string().optional(),
  master_ip: z.string().optional(),
  gw: z.string().optional(),
  timezone: z.string().optional(),
  fuel_version: z.string().optional(),
  puppet_master: z.string().optional(),
  puppet_enable: flag.optional(),
  puppet_auto_setup: flag.optional(),
  mco_enable: flag.optional(),
  mco_auto_setup: flag.optional(),
  mco_host: z.string().optional(),
  mco_user: z.string().optional(),
  mco_password: z.string().optional(),
  mco_vhost: z.string().optional(),
  mco_pskey: z.string().optional(),
  mco_connector: z.string().optional(),
  mco_identity: z.union([z.number(), z.string()]).optional(),
  repo_setup: z.looseObject({ repos: z.array(repoSchema).optional() }).optional(),
  user_accounts: z.array(userAccountSchema).optional(),
  cloud_init_templates: z.record(z.string(), z.string()).optional(),
});

export const provisionDataSchema = z.looseObject({
  ks_meta: ksMetaSchema,
  hostname: z.string().min(1).optional(),
  name: z.string().optional(),
  uid: z.union([z.string(), z.number()]).optional(),
  profile: z.string().optional(),
  interfaces: z.record(z.string(), interfaceSchema).optional(),
  interfaces_extra: z.record(z.string(), z.looseObject({})).optional(),
  kernel_options: z.record(z.string(), z.string()).optional(),
  name_servers: z.string().optional(),
  name_servers_search: z.string().optional(),
});

export type ProvisionData = z.infer<typeof provisionDataSchema>;
export type KsSpace = z.infer<typeof ksSpaceSchema>;
export type KsDisk = z.infer<typeof ksDiskSchema>;
export type KsVg = z.infer<typeof ksVgSchema>;
export type DiskVolume = z.infer<typeof diskVolumeSchema>;
export type LvVolume = z.infer<typeof lvVolumeSchema>;
export type ImageData = z.infer<typeof imageDataSchema>;
