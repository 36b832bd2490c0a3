// Ceph journals, as Nailgun asks for them and fuel-agent lays them out: each
// `cephjournal` volume is split into one partition per OSD it serves (OSDs are
// spread evenly over the journal volumes, the first ones taking the remainder),
// each at most 10 GiB, each typed with the volume's partition_guid so ceph-disk
// finds it. Same rule as fuel-agent, so a Fuel Ceph node's journals are where we
// would put them.
import type { KsDisk } from '../schema/provision-data.js';

export const CEPH_JOURNAL_NAME = 'cephjournal';
export const CEPH_OSD_NAME = 'ceph';
/** No journal partition is larger than this (MiB). */
export const CEPH_JOURNAL_MAX = 10240;

export interface JournalSplit {
  /** MiB of each journal partition. */
  size: number;
  /** How many partitions this volume becomes. */
  count: number;
}

/** Returns a splitter to call once per journal volume, in ks_spaces order. */
export function cephJournalSplitter(disks: readonly KsDisk[]): (volumeSize: number) => JournalSplit {
  const count = (name: string) => disks.reduce((n, d) => n + d.volumes.filter((v) => v.name === name && v.size > 0).length, 0);
  const osds = count(CEPH_OSD_NAME);
  const journals = count(CEPH_JOURNAL_NAME);
  let left = osds;
  return (volumeSize) => {
    if (osds === 0 || journals === 0) return { size: 0, count: 0 };
    const ratio = Math.ceil(osds / journals);
    const n = Math.min(ratio, left);
    left -= n;
    return { size: Math.min(Math.floor(volumeSize / ratio), CEPH_JOURNAL_MAX), count: n };
  };
}
