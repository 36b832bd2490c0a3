// Leftovers of a lab process that died without disposing (SIGKILL, OOM): its
// master network, containers and taps. Everything carries the owner's pid as a
// label, so a new master network sweeps what dead owners left — never a live one's.
import { processAlive } from '../../agent/host/build/build-lock.js';
import type { Logger } from '../../agent/core/log.js';
import type { Runner } from '../../agent/core/runner.js';
import { DOCKER, LAB_LABEL, OWNER_PID_LABEL, psByLabelArgv, rmForceArgv } from './docker-cli.js';
import { removeNetwork } from './network.js';
import { linkDelArgv } from './ip-link.js';

export const labNetworksArgv = (): string[] =>
  [DOCKER, 'network', 'ls', '--filter', `label=${LAB_LABEL}`, '--format', `{{.Name}} {{.Label "${OWNER_PID_LABEL}"}}`];
export const bridgeNameArgv = (network: string): string[] =>
  [DOCKER, 'network', 'inspect', '--format', '{{index .Options "com.docker.network.bridge.name"}}', network];
export const bridgePortsArgv = (bridge: string): string[] => ['ip', '-o', 'link', 'show', 'master', bridge];

/** `name pid` lines → networks whose owner is gone (no pid label = not ours to judge). */
export function deadOwners(listing: string, isAlive: (pid: number) => boolean = processAlive): string[] {
  return listing.split('\n').flatMap((l) => {
    const [name, pid] = l.trim().split(/\s+/);
    const n = Number(pid);
    return name && Number.isInteger(n) && n > 0 && !isAlive(n) ? [name] : [];
  });
}

/** Interface names from `ip -o link show master BR` (`12: fmt5-0: <…>` or `veth1@if2: …`). */
export function parseLinkNames(out: string): string[] {
  return out.split('\n').flatMap((l) => {
    const m = /^\d+:\s+([^:@\s]+)/.exec(l);
    return m?.[1] ? [m[1]] : [];
  });
}

/** Removes dead owners' master networks; returns their names. Best effort per network. */
export async function sweepStaleMasterNetworks(runner: Runner, log?: Logger): Promise<string[]> {
  const listing = (await runner.run(labNetworksArgv(), { timeoutMs: 30_000, readOnly: true })).stdout;
  const swept: string[] = [];
  for (const name of deadOwners(listing)) {
    try {
      const bridge = (await runner.run(bridgeNameArgv(name), { timeoutMs: 30_000, readOnly: true })).stdout.trim();
      const ids = (await runner.run(psByLabelArgv(`${LAB_LABEL}=${name}`), { timeoutMs: 30_000, readOnly: true })).stdout
        .split('\n').map((s) => s.trim()).filter(Boolean);
      if (ids.length) await runner.run(rmForceArgv(ids), { timeoutMs: 60_000 });
      // With the containers gone their veths are gone too: what is left on the bridge are our taps.
      if (bridge) {
        const ports = await runner.run(bridgePortsArgv(bridge), { timeoutMs: 10_000, readOnly: true }).then((r) => r.stdout, () => '');
        for (const t of parseLinkNames(ports)) await runner.run(linkDelArgv(t), { timeoutMs: 10_000 });
      }
      await removeNetwork(runner, name);
      swept.push(name);
      log?.warn('master.net.swept_stale', { name, bridge, containers: ids.length });
    } catch (e) {
      log?.warn('master.net.sweep_failed', { name, error: (e as Error).message });
    }
  }
  return swept;
}
