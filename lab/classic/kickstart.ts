// The lab Cobbler's kickstart template for the Debian installer profile: the
// node's provision document back from its Cobbler system (ks_meta and the fields
// Astute set), its plan from the inventory the node reported at discovery — the
// plan the image agent would make — and the preseed rendered from that plan. The
// node's first-boot files are the configdrive the image agent would write, served
// as the system's template files for the installer to drop into cloud-init's
// ConfigDrive seed directory: both methods' nodes read the same first-boot data.
import { buildConfigDrive } from '../../agent/configdrive/build.js';
import type { Inventory } from '../../agent/inventory/types.js';
import { buildPlan } from '../../agent/plan/build.js';
import { parseProvisionData } from '../../agent/schema/load.js';
import { parseKeyValues, type CobblerSystem, type RenderedKickstart, type SystemUrls } from '../mocks/cobbler.js';
import { renderPreseed } from './preseed.js';
import { ForgeError } from '../../agent/core/errors.js';

type Doc = Record<string, any>;

/** The provision document a Cobbler system holds (what Astute set from provisioning_info). */
export function systemDocument(sys: CobblerSystem): Doc {
  return {
    ...structuredClone(sys.fields),
    hostname: sys.hostname,
    interfaces: Object.fromEntries(Object.entries(sys.interfaces).map(([k, v]) => [k, { ...v }])),
    kernel_options: parseKeyValues(sys.kernelOptions),
    ks_meta: structuredClone(sys.ksMeta),
  };
}

export interface ClassicTemplateDeps {
  /** The inventory the node reported at discovery (by its Cobbler system). */
  inventoryOf(sys: CobblerSystem): Inventory | undefined;
  /** The master's Debian archive as the installer reaches it. */
  mirror: { host: string; directory: string; suite: string };
  /** The OS image profile's packages: both methods install the same set. */
  packages: readonly string[];
}

/** Where the installer puts the first-boot files in the target: cloud-init's ConfigDrive seed. */
export const CONFIG_DRIVE_SEED = '/var/lib/cloud/seed/config_drive';

export function classicKickstart(deps: ClassicTemplateDeps): (sys: CobblerSystem, urls: SystemUrls) => RenderedKickstart {
  return (sys, urls) => {
    const data = parseProvisionData(systemDocument(sys));
    const inventory = deps.inventoryOf(sys);
    if (!inventory) throw new ForgeError('LAB_FAILED', `system ${sys.name}: no inventory (the node never reported discovery)`);
    const plan = buildPlan(data, inventory);
    const drive = buildConfigDrive(data);
    // Only the ConfigDrive tree: the NoCloud copies would be a second source of the same data.
    const files = Object.fromEntries([...drive.files].filter(([p]) => p.startsWith('openstack/')).map(([p, c]) => [`config_drive/${p}`, c]));
    const [host, ...domain] = (data.hostname ?? sys.hostname).split('.');
    const ks = data.ks_meta;
    const text = renderPreseed(plan, {
      hostname: host ?? sys.name,
      domain: domain.join('.'),
      mirror: deps.mirror,
      packages: deps.packages,
      seedUrl: `${urls.template}/config_drive`,
      seedFiles: Object.keys(files).map((p) => p.slice('config_drive/'.length)),
      seedDir: CONFIG_DRIVE_SEED,
      nopxeUrl: urls.nopxe,
      kernelParams: ks?.pm_data?.kernel_params ?? '',
      authorizedKeys: ks?.authorized_keys ?? [],
      timezone: ks?.timezone ?? 'Etc/UTC',
    });
    return { text, files };
  };
}
