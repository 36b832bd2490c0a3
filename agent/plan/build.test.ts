import { describe, expect, it } from 'vitest';
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { loadProvisionData, parseProvisionData } from '../schema/load.js';
import type { ProvisionData } from '../schema/provision-data.js';
import { BIOS_GRUB_SIZE, buildPlan, CONFIGDRIVE_SIZE } from './build.js';
import { FIXTURE_PAIRS, loadScenario, NAILGUN_DIR, retargetScenario } from './fixtures.js';
import { planViolations } from './invariants.js';
import type { Plan } from './types.js';

const variant = async (name: string, inv: 'sample' | 'nvme' | 'mpath' = 'sample') =>
  buildPlan(
    await loadProvisionData(`${NAILGUN_DIR}variants/${name}.json`),
    await loadInventory(`${NAILGUN_DIR}list_block_devices_${inv === 'sample' ? 'sample' : inv === 'nvme' ? 'sample_nvme' : 'mpath'}.json`),
  );
const sampleData = () => loadProvisionData(`${NAILGUN_DIR}provision_sample.json`);
const sampleInv = () => loadInventory(`${NAILGUN_DIR}list_block_devices_sample.json`);
const fsAt = (plan: Plan, mount: string) => plan.fss.find((f) => f.mount === mount);
const part = (plan: Plan, device: string) => plan.parteds.flatMap((d) => d.partitions).find((p) => p.device === device);

function planError(data: ProvisionData, inv: Inventory): ForgeError {
  try {
    buildPlan(data, inv);
  } catch (e) {
    return e as ForgeError;
  }
  throw new Error('expected buildPlan to fail');
}
const all = (e: ForgeError) => (e instanceof ForgeErrors ? [...e.errors] : [e]);
/** Edit a scenario document through plain JSON, as a user would, then re-validate. */
const edit = (data: ProvisionData, f: (d: any) => void): ProvisionData => {
  const d = structuredClone(data) as any;
  f(d);
  return parseProvisionData(d);
};

describe('buildPlan on every shared fixture', () => {
  it.each(FIXTURE_PAIRS.map((p) => [p.name, p]))('%s', async (_n, p) => {
    const data = await loadProvisionData(p.input);
    const inv = await loadInventory(p.inventory);
    if (p.expect === 'plan') {
      const plan = buildPlan(data, inv);
      expect(planViolations(plan)).toEqual([]);
      expect(buildPlan(data, inv)).toEqual(plan);
    } else {
      expect(planError(data, inv).code).toBe(p.expect);
    }
  });
});

describe('Fuel planning rules', () => {
  it('lays out provision_sample as fuel-agent does (its test_do_partitioning offsets)', async () => {
    const plan = buildPlan(await sampleData(), await sampleInv());
    const sda = plan.parteds[0]!;
    expect(sda.partitions.map((p) => [p.device, p.begin, p.end, p.role])).toEqual([
      ['/dev/sda1', 1, 25, 'bios_grub'],
      ['/dev/sda2', 26, 226, 'uefi-reserve'],
      ['/dev/sda3', 227, 427, '/boot'],
      ['/dev/sda4', 428, 628, '/tmp'],
      ['/dev/sda5', 629, 20067, 'pv:os'],
      ['/dev/sda6', 20068, 65665, 'pv:image'],
      ['/dev/sda7', 65666, 65666 + CONFIGDRIVE_SIZE, 'configdrive'],
    ]);
    expect(plan.parteds[1]!.partitions.map((p) => [p.begin, p.end])).toEqual([[1, 25], [26, 226], [227, 65198]]);
    // The sample's partition_guid "fake_guid" is not a GUID: dropped, with a warning naming the field.
    expect(part(plan, '/dev/sda4')!.guid).toBeUndefined();
    expect(plan.warnings).toEqual([{ field: 'ks_meta.pm_data.ks_spaces[0].volumes[2].partition_guid', message: expect.stringContaining('"fake_guid" is not a GUID') }]);
    expect(plan.parteds.map((d) => d.device)).toEqual(['/dev/sda', '/dev/sdb', '/dev/sdc']);
    expect(plan.vgs).toEqual([
      { name: 'os', pvs: ['/dev/sda5'], keepData: false },
      { name: 'image', pvs: ['/dev/sda6', '/dev/sdb3', '/dev/sdc3'], keepData: false },
    ]);
    // size: 0 volumes (the zero_size VG, sdb's os PV) are skipped.
    expect(plan.lvs.map((l) => `${l.device}:${l.size}`)).toEqual(['/dev/mapper/os-root:15360', '/dev/mapper/os-swap:4014', '/dev/mapper/image-glance:175347']);
    expect(plan.pvs.every((p) => p.metadataSize === 28 && p.metadataCopies === 2 && p.reservedSize === 64)).toBe(true);
    expect(plan.images).toEqual([{ uri: 'http://fake.host.org:123/imgs/fake_image.img.gz', mount: '/', targetDevice: '/dev/mapper/os-root', format: 'ext4', container: 'gzip' }]);
    expect(fsAt(plan, '/')!.fromImage).toBe(true);
    // fss come in mount order: parents first, swap last.
    expect(plan.fss.map((f) => f.mount)).toEqual(['/', '/boot', '/tmp', '/var/lib/glance', 'swap']);
    expect(plan.bootloader).toEqual({
      disks: ['/dev/sda', '/dev/sdb', '/dev/sdc'],
      bootDevice: '/dev/sda3',
      rootDevice: '/dev/mapper/os-root',
      kernelParams: 'console=ttyS0,9600 console=tty0 rootdelay=90 nomodeset',
    });
  });

  it('puts a 24 MiB bios_grub partition first on every disk', async () => {
    for (const plan of [buildPlan(await sampleData(), await sampleInv()), await variant('first-disk-huge')]) {
      for (const d of plan.parteds) {
        expect(d.partitions[0]).toMatchObject({ num: 1, begin: 1, size: BIOS_GRUB_SIZE, flags: ['bios_grub'] });
      }
    }
  });

  it('makes a raid /boot one plain partition on the first boot disk, as fuel-agent does', async () => {
    const plan = buildPlan(await sampleData(), await sampleInv());
    expect(plan.mds).toEqual([]);
    expect(fsAt(plan, '/boot')).toMatchObject({ device: '/dev/sda3', type: 'ext2' });
    expect(part(plan, '/dev/sda3')).toMatchObject({ flags: [], role: '/boot' });
    // The other disks' /boot volumes get nothing: their PVs follow the 200 MiB partition.
    expect(part(plan, '/dev/sdb3')!.role).toBe('pv:image');
  });

  it('makes a raid /boot RAID1 with metadata 1.0 across the disks offering it when raid_boot opts in', async () => {
    const plan = buildPlan(edit(await sampleData(), (d) => (d.ks_meta.pm_data.raid_boot = true)), await sampleInv());
    expect(plan.mds).toEqual([{ name: 'Boot', device: '/dev/md/Boot', level: 'raid1', members: ['/dev/sda3', '/dev/sdb3', '/dev/sdc3'], metadata: '1.0', keepData: false }]);
    expect(fsAt(plan, '/boot')).toMatchObject({ device: '/dev/md/Boot', type: 'ext2' });
    expect(part(plan, '/dev/sdb4')!.role).toBe('pv:image');
  });

  it('makes the 200 MiB second partition the ESP on a UEFI node without a /boot/efi volume', async () => {
    const plan = buildPlan(await sampleData(), { ...(await sampleInv()), firmware: 'uefi' });
    expect(part(plan, '/dev/sda2')).toMatchObject({ begin: 26, end: 226, flags: ['esp'], role: '/boot/efi' });
    expect(part(plan, '/dev/sdb2')!.role).toBe('uefi-reserve');
    expect(fsAt(plan, '/boot/efi')).toMatchObject({ device: '/dev/sda2', type: 'vfat' });
    expect(plan.bootloader.espDevice).toBe('/dev/sda2');
    expect(planViolations(plan)).toEqual([]);
  });

  it('with a RAID1 /boot on a UEFI node, every /boot disk gets an ESP in its reserved partition: one mounted, the others mirrors', async () => {
    const data = edit(await sampleData(), (d) => (d.ks_meta.pm_data.raid_boot = true));
    const plan = buildPlan(data, { ...(await sampleInv()), firmware: 'uefi' });
    expect(['/dev/sda2', '/dev/sdb2', '/dev/sdc2'].map((dev) => part(plan, dev)?.role)).toEqual(['/boot/efi', 'esp-mirror', 'esp-mirror']);
    for (const dev of ['/dev/sdb2', '/dev/sdc2']) {
      expect(part(plan, dev)).toMatchObject({ flags: ['esp'], begin: 26, end: 226 });
      expect(plan.fss.find((f) => f.device === dev)).toMatchObject({ type: 'vfat', mount: 'none' });
    }
    expect(plan.bootloader).toMatchObject({ espDevice: '/dev/sda2', espMirrors: ['/dev/sdb2', '/dev/sdc2'] });
    expect(plan.fss.filter((f) => f.mount === '/boot/efi').map((f) => f.device)).toEqual(['/dev/sda2']);
    expect(planViolations(plan)).toEqual([]);
    // A BIOS node keeps the reserved partitions unformatted.
    const bios = buildPlan(data, await sampleInv());
    expect(['/dev/sda2', '/dev/sdb2', '/dev/sdc2'].map((dev) => part(bios, dev)?.role)).toEqual(['uefi-reserve', 'uefi-reserve', 'uefi-reserve']);
    expect(bios.bootloader.espMirrors).toBeUndefined();
  });

  it('puts /boot on the bootable disk alone when one is marked', async () => {
    const data = edit(await sampleData(), (d) => (d.ks_meta.pm_data.ks_spaces[1].bootable = true));
    const plan = buildPlan(data, await sampleInv());
    expect(plan.mds).toEqual([]);
    expect(fsAt(plan, '/boot')!.device).toBe('/dev/sdb3');
    expect(part(plan, '/dev/sdb3')!.flags).toEqual([]);
  });

  it('keeps /boot off NVMe when another disk can hold it', async () => {
    const plan = await variant('first-disk-nvme', 'nvme');
    expect(fsAt(plan, '/boot')!.device).toBe('/dev/sda3');
    expect(plan.parteds[0]!.partitions.map((p) => p.role)).toEqual(['bios_grub', 'uefi-reserve', '/', 'configdrive']);
  });

  it('refuses /boot on NVMe only, unless there is an ESP', async () => {
    const data = await loadProvisionData(`${NAILGUN_DIR}variants/only-one-nvme.json`);
    const inv = await loadInventory(`${NAILGUN_DIR}list_block_devices_sample_nvme.json`);
    const e = planError(data, inv);
    expect(e).toMatchObject({ code: 'PLAN_INVALID', field: 'ks_meta.pm_data.ks_spaces[0].volumes[1]' });
    expect(e.message).toMatch(/NVMe/);
    const withEsp = edit(data, (d) =>
      d.ks_meta.pm_data.ks_spaces[0].volumes.splice(1, 0, { type: 'partition', mount: '/boot/efi', size: 200, file_system: 'vfat' }),
    );
    const plan = buildPlan(withEsp, inv);
    expect(fsAt(plan, '/boot')!.device).toBe('/dev/nvme0n1p4');
    expect(part(plan, '/dev/nvme0n1p3')).toMatchObject({ flags: ['esp'], guid: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B' });
    expect(plan.bootloader.espDevice).toBe('/dev/nvme0n1p3');
  });

  it('puts /boot on the fake-RAID disk that holds the OS', async () => {
    const plan = await variant('fake-raid-disk');
    expect(fsAt(plan, '/boot')!.device).toBe('/dev/md123p3');
    expect(plan.configdrive!.device).toBe('/dev/md123p5');
  });

  it('uses / as the boot device when there is no /boot', async () => {
    const plan = await variant('no-boot');
    expect(fsAt(plan, '/boot')).toBeUndefined();
    expect(plan.bootloader.bootDevice).toBe('/dev/sda3');
  });

  it('skips disks that only carry boot leftovers (lvm_meta_pool, /boot, size 0)', async () => {
    const plan = await variant('lvm-meta-pool');
    expect(plan.parteds.map((d) => d.device)).toEqual(['/dev/sda']);
    expect(fsAt(plan, '/boot')!.device).toBe('/dev/sda3');
  });

  it('puts the configdrive 1 MiB after the last partition of the disk holding /', async () => {
    const plan = await variant('second-disk-os');
    expect(plan.configdrive).toEqual({ device: '/dev/sdb5', disk: '/dev/sdb', partitionNum: 5, size: 20, label: 'config-2', format: 'vfat' });
    expect(part(plan, '/dev/sdb5')!.begin).toBe(part(plan, '/dev/sdb4')!.end + 1);
  });

  it('names partitions of multipath maps with -part', async () => {
    const plan = await variant('mpath-disk', 'mpath');
    expect(fsAt(plan, '/')!.device).toBe('/dev/mapper/12312-part4');
  });

  it('plans a lone raid member as a one-device RAID1, as fuel-agent does', async () => {
    const plan = await variant('md-raid');
    expect(plan.mds).toEqual([{ name: 'Root', device: '/dev/md/Root', level: 'raid1', members: ['/dev/sda4'], metadata: '1.0', keepData: false }]);
    expect(fsAt(plan, '/')!.device).toBe('/dev/md/Root');
  });

  it('respects the 4096-byte logical sector size of a disk', async () => {
    const { data, inventory } = await loadScenario('nvme-sata');
    const plan = buildPlan(data, inventory);
    expect(plan.parteds[0]).toMatchObject({ device: '/dev/nvme0n1', logicalSectorSize: 4096 });
    expect(planViolations(plan)).toEqual([]);
  });

  it('doubles dashes in LV device names', async () => {
    const { data, inventory } = await loadScenario('two-disks-raid-lvm');
    const plan = buildPlan(data, inventory);
    expect(fsAt(plan, '/srv')!.device).toBe('/dev/mapper/data--vg-srv--data');
    expect(plan.vgs.find((v) => v.name === 'data-vg')!.pvs).toEqual(['/dev/vda5', '/dev/vdb5']);
  });
});

describe('keep_data', () => {
  it('marks the kept partition, its fs and its disk', async () => {
    const plan = await variant('single-disk');
    expect(part(plan, '/dev/sda4')!.keepData).toBe(true);
    expect(fsAt(plan, '/')!.keepData).toBe(true);
    expect(fsAt(plan, '/boot')!.keepData).toBe(false);
    expect(plan.parteds[0]!.keepData).toBe(true);
    expect(plan.images[0]).toMatchObject({ mount: '/', keepData: true });
  });

  it('keeps a whole VG, its PVs and sibling LVs when one LV is kept', async () => {
    const { data, inventory } = await loadScenario('keep-data');
    const plan = buildPlan(data, inventory);
    expect(plan.lvs.map((l) => [l.name, l.keepData])).toEqual([['kept', true], ['scratch', true]]);
    expect(plan.vgs[0]!.keepData).toBe(true);
    expect(plan.pvs[0]!.keepData).toBe(true);
    expect(part(plan, '/dev/vda6')!.keepData).toBe(true);
    expect(part(plan, '/dev/vda5')!.keepData).toBe(true);
    expect(part(plan, '/dev/vda4')!.keepData).toBe(false);
    expect(plan.configdrive && part(plan, plan.configdrive.device)!.keepData).toBe(false);
  });
});

describe('planning errors name their cause', () => {
  it('DISK_NOT_FOUND for each unmatched disk', async () => {
    const inv = await sampleInv();
    const e = planError(await sampleData(), { disks: inv.disks.filter((d) => d.name !== 'sdb' && d.name !== 'sdc') });
    expect(all(e).map((x) => [x.code, x.field])).toEqual([
      ['DISK_NOT_FOUND', 'ks_meta.pm_data.ks_spaces[1]'],
      ['DISK_NOT_FOUND', 'ks_meta.pm_data.ks_spaces[2]'],
    ]);
    expect(all(e)[0]!.message).toMatch(/disk sdb not found/);
  });

  it('SIZE_DOES_NOT_FIT names the volume that overflows the disk', async () => {
    const { data, inventory } = await loadScenario('single-disk');
    const big = edit(data, (d) => (d.ks_meta.pm_data.ks_spaces[0].volumes[2].size = 5000));
    const e = planError(big, inventory);
    expect(e).toMatchObject({ code: 'SIZE_DOES_NOT_FIT', field: 'ks_meta.pm_data.ks_spaces[0].volumes[2].size' });
    expect(e.message).toMatch(/5000 MiB does not fit on \/dev\/vda/);
  });

  it('SIZE_DOES_NOT_FIT names the LV that overflows its VG', async () => {
    const { data, inventory } = await loadScenario('two-disks-raid-lvm');
    const big = edit(data, (d) => (d.ks_meta.pm_data.ks_spaces[2].volumes[1].size = 2048));
    const e = planError(big, inventory);
    expect(e).toMatchObject({ code: 'SIZE_DOES_NOT_FIT', field: 'ks_meta.pm_data.ks_spaces[2].volumes[1].size' });
    expect(e.message).toMatch(/volume group os/);
  });

  it('PLAN_INVALID for a missing or duplicate /, and lvm_meta_size below 10', async () => {
    const { data, inventory } = await loadScenario('single-disk');
    const noRoot = edit(data, (d) => (d.ks_meta.pm_data.ks_spaces[0].volumes[2].mount = '/srv'));
    delete (noRoot.ks_meta as any).image_data;
    expect(planError(noRoot, inventory).message).toMatch(/no volume is mounted at \//);
    const twoRoots = edit(data, (d) => Object.assign(d.ks_meta.pm_data.ks_spaces[0].volumes[3], { mount: '/', file_system: 'ext4' }));
    expect(planError(twoRoots, inventory)).toMatchObject({ code: 'PLAN_INVALID', field: 'ks_meta.pm_data.ks_spaces[0].volumes[3].mount' });
    const lvm = await loadScenario('two-disks-raid-lvm');
    const tiny = edit(lvm.data, (d) => (d.ks_meta.pm_data.ks_spaces[0].volumes[3].lvm_meta_size = 4));
    expect(planError(tiny, lvm.inventory)).toMatchObject({ code: 'PLAN_INVALID', field: 'ks_meta.pm_data.ks_spaces[0].volumes[3].lvm_meta_size' });
  });

  it('IMAGE_URI_INVALID for a scheme other than http, https or file; PLAN_INVALID for an image without a mount', async () => {
    const { data, inventory } = await loadScenario('single-disk');
    const ftp = edit(data, (d) => (d.ks_meta.image_data['/'].uri = 'ftp://host/x.img.gz'));
    expect(planError(ftp, inventory)).toMatchObject({ code: 'IMAGE_URI_INVALID', field: 'ks_meta.image_data["/"].uri' });
    const orphan = edit(data, (d) => (d.ks_meta.image_data['/var'] = { uri: 'file:///x.img', format: 'ext4', container: 'raw' }));
    expect(planError(orphan, inventory)).toMatchObject({ code: 'PLAN_INVALID', field: 'ks_meta.image_data["/var"]' });
    const file = edit(data, (d) => (d.ks_meta.image_data['/'] = { uri: 'file:///var/cache/x.img.gz', format: 'ext4', container: 'gzip', sha256: 'AB'.repeat(32) }));
    expect(buildPlan(file, inventory).images[0]).toMatchObject({ targetDevice: '/dev/vda4', sha256: 'ab'.repeat(32) });
    expect(buildPlan(file, inventory).images[0]).not.toHaveProperty('file');
    // build-image's meta.json pasted as image_data: raw_* describe the image, plain keys the file.
    const meta = { uri: 'http://m/x.img.gz', format: 'ext4', container: 'gzip', size: 10, md5: 'a'.repeat(32), sha256: 'b'.repeat(64), raw_size: 40, raw_md5: 'c'.repeat(32), raw_sha256: 'd'.repeat(64) };
    const shaped = edit(data, (d) => (d.ks_meta.image_data['/'] = meta));
    expect(buildPlan(shaped, inventory).images[0]).toMatchObject({
      size: 40, md5: 'c'.repeat(32), sha256: 'd'.repeat(64), file: { size: 10, md5: 'a'.repeat(32), sha256: 'b'.repeat(64) },
    });
  });
});

describe('retargetScenario', () => {
  it('points a scenario at loop devices, keeping its layout', async () => {
    const { data, inventory } = await loadScenario('two-disks-raid-lvm');
    const r = retargetScenario(data, inventory, [{ path: '/dev/loop3' }, { path: '/dev/loop4', logicalSectorSize: 4096 }]);
    const plan = buildPlan(r.data, r.inventory);
    expect(plan.parteds.map((d) => [d.device, d.matchedBy, d.logicalSectorSize])).toEqual([['/dev/loop3', 'name', 512], ['/dev/loop4', 'name', 4096]]);
    expect(plan.mds[0]!.members).toEqual(['/dev/loop3p3', '/dev/loop4p3']);
    expect(planViolations(plan)).toEqual([]);
  });
});
