// The plan's JSON form (`provision plan --json`, read back by `--plan FILE`) as a
// zod schema. A plan file is input like the provision data: its devices, names
// and labels reach argv and fstab, so each is checked by the same named rules
// (schema/values.ts). The schema must describe exactly the Plan type: the checks
// at the bottom fail to compile when the two drift apart.
import { z } from 'zod';
import * as R from '../schema/values.js';
import { isGuid } from './guids.js';
import { PLAN_VERSION, type Plan } from './types.js';

const ruled = (rule: R.Rule) =>
  z.string().superRefine((v, ctx) => {
    const why = rule(v);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });

/** A device node: an absolute, normalised path under /dev (never an option, never two words). */
const device = ruled((s) => R.absolutePath(s) ?? (s.startsWith('/dev/') ? undefined : `${JSON.stringify(s)} is not under /dev`));
/** Fields a plan may leave empty (a partition-only plan has no root to boot). */
const deviceOrEmpty = z.union([z.literal(''), device]);
const mib = z.number().finite().nonnegative();
const count = z.number().int().nonnegative();
const hex = (len: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${len}}$`), `expected ${len} hex digits`);

const partitionSchema = z.strictObject({
  num: z.number().int().min(1),
  device,
  begin: mib,
  end: mib,
  size: mib,
  flags: z.array(z.enum(['bios_grub', 'boot', 'esp', 'raid', 'lvm'])),
  guid: z.string().refine(isGuid, 'not a GUID').exactOptional(),
  name: ruled(R.singleLine),
  role: ruled(R.singleLine),
  keepData: z.boolean(),
});

const diskSchema = z.strictObject({
  id: ruled(R.diskName),
  name: ruled(R.diskName),
  device,
  matchedBy: z.enum(['extra', 'id', 'name']),
  matchedOn: ruled(R.singleLine),
  size: mib,
  logicalSectorSize: z.number().int().positive(),
  physicalSectorSize: z.number().int().positive(),
  label: z.literal('gpt'),
  partitions: z.array(partitionSchema),
  keepData: z.boolean(),
  boot: z.boolean(),
});

const mdSchema = z.strictObject({
  name: ruled(R.mdName),
  device,
  level: z.enum(['raid0', 'raid1', 'raid5', 'raid6', 'raid10']),
  members: z.array(device).min(1),
  metadata: z.enum(['1.0', '1.2']),
  keepData: z.boolean(),
});

const pvSchema = z.strictObject({
  device,
  vg: ruled(R.vgName),
  metadataSize: mib,
  metadataCopies: count.exactOptional(),
  reservedSize: mib.exactOptional(),
  keepData: z.boolean(),
});

const vgSchema = z.strictObject({ name: ruled(R.vgName), pvs: z.array(device), keepData: z.boolean() });

const lvSchema = z.strictObject({ vg: ruled(R.vgName), name: ruled(R.lvName), size: mib, device, keepData: z.boolean() });

const FS_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'vfat', 'swap'] as const;

const fsSchema = z
  .strictObject({
    device,
    mount: ruled(R.mountPoint),
    type: z.enum(FS_TYPES),
    label: z.string().exactOptional(),
    mkfsOptions: z.array(ruled(R.singleLine)),
    mountOptions: ruled(R.token),
    fromImage: z.boolean(),
    keepData: z.boolean(),
  })
  .superRefine((f, ctx) => {
    const why = f.label === undefined ? undefined : R.labelFor(f.type)(f.label);
    if (why) ctx.addIssue({ code: 'custom', path: ['label'], message: why });
  });

const digests = {
  md5: hex(32).exactOptional(),
  sha256: hex(64).exactOptional(),
  sha512: hex(128).exactOptional(),
};

const imageSchema = z.strictObject({
  uri: z.string().min(1),
  mount: ruled(R.absolutePath),
  /** validateImages names a missing or odd target itself (IMAGE step's own error). */
  targetDevice: z.string(),
  format: z.enum(['ext2', 'ext3', 'ext4', 'xfs', 'qcow2', 'raw']),
  container: z.enum(['raw', 'gzip', 'xz', 'zstd']),
  size: count.exactOptional(),
  ...digests,
  file: z.strictObject({ size: count.exactOptional(), ...digests }).exactOptional(),
  keepData: z.boolean().exactOptional(),
});

const configDriveSchema = z.strictObject({
  device,
  disk: device,
  partitionNum: z.number().int().min(1),
  size: mib,
  label: z.literal('config-2'),
  format: z.enum(['vfat', 'iso9660']),
});

const bootloaderSchema = z.strictObject({
  disks: z.array(device),
  bootDevice: deviceOrEmpty,
  rootDevice: deviceOrEmpty,
  espDevice: device.exactOptional(),
  kernelParams: ruled(R.kernelParams),
});

export const planSchema = z.strictObject({
  version: z.literal(PLAN_VERSION),
  parteds: z.array(diskSchema),
  mds: z.array(mdSchema),
  pvs: z.array(pvSchema),
  vgs: z.array(vgSchema),
  lvs: z.array(lvSchema),
  fss: z.array(fsSchema),
  images: z.array(imageSchema),
  configdrive: configDriveSchema.exactOptional(),
  bootloader: bootloaderSchema,
  warnings: z.array(z.strictObject({ field: z.string(), message: z.string() })).exactOptional(),
});

// Compile-time: the schema's output is a Plan, and every Plan is what the schema describes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaIsPlan: Same<z.output<typeof planSchema>, Plan> = true;
void schemaIsPlan;
