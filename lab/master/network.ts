// The master network: a docker bridge network with a known Linux bridge name and
// a /24 that clashes with nothing routed on the host. Created with the docker CLI
// because testcontainers' Network exposes neither IPAM nor driver options.
import { ForgeError } from '../../agent/core/errors.js';
import { ToolError, type Runner } from '../../agent/core/runner.js';
import { addressingFor, nextSubnet, subnetForName, subnetInUse, type MasterAddressing } from './addressing.js';
import { LAB_LABEL, OWNER_PID_LABEL, dockerProbe, networkCreateArgv, networkInspectArgv, networkRmArgv } from './docker-cli.js';
import { linkExists, routesArgv } from './ip-link.js';

export interface CreatedNetwork extends MasterAddressing {
  name: string;
  id: string;
  remove(): Promise<void>;
}

/** How many /24s to try after the name's own before giving up. */
const MAX_TRIES = 16;

export async function createMasterNetwork(runner: Runner, o: { name: string; subnet?: string }): Promise<CreatedNetwork> {
  const explicit = o.subnet !== undefined;
  let subnet = o.subnet ?? subnetForName(o.name);
  let lastError: unknown;
  for (let i = 0; i < (explicit ? 1 : MAX_TRIES); i++, subnet = nextSubnet(subnet)) {
    const a = addressingFor(subnet);
    if (!explicit) {
      const routes = (await runner.run(routesArgv(), { timeoutMs: 10_000, readOnly: true })).stdout;
      if (subnetInUse(subnet, routes) || (await linkExists(runner, a.bridge))) continue;
    }
    try {
      const r = await runner.run(networkCreateArgv({
        name: o.name,
        bridge: a.bridge,
        subnet: a.subnet,
        gateway: a.gatewayIp,
        ipRange: a.dockerIpRange,
        labels: { [LAB_LABEL]: o.name, [OWNER_PID_LABEL]: String(process.pid) },
      }), { timeoutMs: 60_000 });
      const id = r.stdout.trim();
      return {
        ...a,
        name: o.name,
        id,
        remove: () => removeNetwork(runner, o.name),
      };
    } catch (e) {
      lastError = e;
      // Another network (another lab process, or a leftover) holds this /24 or bridge: try the next.
      const clash = e instanceof ToolError && /overlap|already exists|in use|bridge name/i.test(e.result.stderr);
      if (!clash || explicit || /network with name .* already exists/i.test((e as ToolError).result.stderr)) throw e;
    }
  }
  throw new ForgeError('LAB_FAILED', `no free /24 for master network ${o.name} after ${MAX_TRIES} tries`, { cause: lastError });
}

/** Removes the network if it still exists (idempotent). */
export async function removeNetwork(runner: Runner, name: string): Promise<void> {
  if ((await dockerProbe(runner, networkInspectArgv(name))) === undefined) return;
  await runner.run(networkRmArgv(name), { timeoutMs: 60_000 });
}
