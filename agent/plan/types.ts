// The provisioning plan: a pure, printable description of everything a run will
// create. Built from (provision data, inventory) by agent/plan; executed by
// agent/partition, agent/image, agent/configdrive, agent/bootloader; read back
// and compared by agent/verify. Sizes and offsets are MiB unless named otherwise.
// The JSON form (`provision plan --json`) is this structure, documented in the README.

export const PLAN_VERSION = 1;

export type PartitionFlag = 'bios_grub' | 'boot' | 'esp' | 'raid' | 'lvm';

export interface PlannedPartition {
  /** 1-based GPT partition number. */
  num: number;
  /** Kernel device node, following the kernel's naming (/dev/sda3, /dev/nvme0n1p3, /dev/md127p3). */
  device: string;
  /** Start offset in MiB from the start of the disk (1 MiB aligned; the first starts at 1). */
  begin: number;
  /** End offset in MiB, exclusive: size = end - begin. */
  end: number;
  size: number;
  flags: PartitionFlag[];
  /** GPT partition type GUID, when the data sets one or the flags imply one. */
  guid?: string;
  /** GPT partition name. */
  name: string;
  /** What this partition is for: a mount point, 'pv:<vg>', 'raid:<md>', 'bios_grub', 'configdrive'. */
  role: string;
  /** Holds data that must survive: never wiped, moved or re-created. */
  keepData: boolean;
}

export interface PlannedDisk {
  /** ks_spaces `id` of the disk this was planned from. */
  id: string;
  /** ks_spaces `name`. */
  name: string;
  /** The matched device node, e.g. /dev/sda (always the kernel name, not a link). */
  device: string;
  /** How the match was made (for the plan printout and field debugging). */
  matchedBy: 'extra' | 'id' | 'name';
  /** The link or name that matched. */
  matchedOn: string;
  /** Device size in MiB (from the inventory). */
  size: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  label: 'gpt';
  partitions: PlannedPartition[];
  /** True when any partition on it is keepData: the disk is not relabelled. */
  keepData: boolean;
  /** bios_grub and/or ESP live here and GRUB goes onto it. */
  boot: boolean;
}

export interface PlannedMd {
  /** Array name, e.g. 'Boot' or 'md0'. */
  name: string;
  /** Device node, e.g. /dev/md/Boot. */
  device: string;
  level: 'raid0' | 'raid1' | 'raid5' | 'raid6' | 'raid10';
  members: string[];
  /** '1.0' for /boot so bootloaders see the members as plain filesystems. */
  metadata: '1.0' | '1.2';
  keepData: boolean;
}

export interface PlannedPv {
  device: string;
  vg: string;
  /** LVM metadata area size in MiB. */
  metadataSize: number;
  /** pvcreate --metadatacopies (Fuel uses 2). */
  metadataCopies?: number;
  /** MiB of the partition the data reserved for LVM metadata (`lvm_meta_size`); LVs get the rest. */
  reservedSize?: number;
  keepData: boolean;
}

export interface PlannedVg {
  name: string;
  pvs: string[];
  keepData: boolean;
}

export interface PlannedLv {
  vg: string;
  name: string;
  size: number;
  /** /dev/mapper/<vg>-<lv> (dashes in names doubled as device-mapper does). */
  device: string;
  keepData: boolean;
}

export type FsType = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'vfat' | 'swap';

export interface PlannedFs {
  device: string;
  /** Mount point, or 'swap'. */
  mount: string;
  type: FsType;
  label?: string;
  /** Extra mkfs options from the data (`file_system_options`), split into argv words. */
  mkfsOptions: string[];
  /** fstab mount options. */
  mountOptions: string;
  /** Filled by an image rather than mkfs. */
  fromImage: boolean;
  keepData: boolean;
}

export type ImageContainer = 'raw' | 'gzip' | 'xz' | 'zstd';
export type ImageFormat = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'qcow2' | 'raw';

export interface ImageDigests {
  size?: number;
  md5?: string;
  sha256?: string;
  sha512?: string;
}

export interface PlannedImage {
  uri: string;
  /** Mount point the image belongs to (image_data key). */
  mount: string;
  /** Block device the image is written to. */
  targetDevice: string;
  format: ImageFormat;
  container: ImageContainer;
  /** Uncompressed size in bytes, when the data gives it. */
  size?: number;
  /** Digests of the decompressed image (what lands on the device). */
  md5?: string;
  sha256?: string;
  sha512?: string;
  /** Size and digests of the file as served (compressed), when the data gives them. */
  file?: ImageDigests;
  /** The target filesystem is keep_data: the image must not be written over it. */
  keepData?: boolean;
}

export interface PlannedConfigDrive {
  /** Partition device, e.g. /dev/sda9. */
  device: string;
  disk: string;
  partitionNum: number;
  size: number;
  label: 'config-2';
  format: 'vfat' | 'iso9660';
}

export interface PlannedBootloader {
  /** Whole-disk devices GRUB is installed on (every disk with a bios_grub partition). */
  disks: string[];
  /** Device holding /boot (or / when there is no separate /boot). */
  bootDevice: string;
  rootDevice: string;
  /** ESP device when the plan has one (UEFI install with --removable fallback). */
  espDevice?: string;
  /**
   * The other boot disks' ESPs (a RAID1 /boot's other members' disks): not mounted,
   * given a copy of the ESP's EFI tree, so the node boots from whichever disk survives.
   */
  espMirrors?: string[];
  kernelParams: string;
}

export interface Plan {
  version: typeof PLAN_VERSION;
  parteds: PlannedDisk[];
  mds: PlannedMd[];
  pvs: PlannedPv[];
  vgs: PlannedVg[];
  lvs: PlannedLv[];
  fss: PlannedFs[];
  images: PlannedImage[];
  configdrive?: PlannedConfigDrive;
  bootloader: PlannedBootloader;
  /** Input the plan ignored (e.g. a partition_guid that is not a GUID); omitted when none. */
  warnings?: PlanWarning[];
}

export interface PlanWarning {
  /** JSON path of the ignored value. */
  field: string;
  message: string;
}
