// ip(8) argv for the lab's tap devices: a tap per VM NIC, enslaved to the master
// network's bridge, so every guest shares one L2 segment with the containers.
import { ToolError, type Runner } from '../../agent/core/runner.js';

/** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

export const tapAddArgv = (name: string): string[] => ['ip', 'tuntap', 'add', 'dev', name, 'mode', 'tap'];
export const linkMasterArgv = (name: string, bridge: string): string[] => ['ip', 'link', 'set', 'dev', name, 'master', bridge];
export const linkUpArgv = (name: string): string[] => ['ip', 'link', 'set', 'dev', name, 'up'];
export const linkDelArgv = (name: string): string[] => ['ip', 'link', 'del', 'dev', name];
export const linkShowArgv = (name: string): string[] => ['ip', '-o', 'link', 'show', 'dev', name];
export const routesArgv = (): string[] => ['ip', '-o', '-4', 'route', 'show'];

export async function linkExists(runner: Runner, name: string): Promise<boolean> {
  try {
    await runner.run(linkShowArgv(name), { timeoutMs: 10_000, readOnly: true });
    return true;
  } catch (e) {
    if (e instanceof ToolError) return false;
    throw e;
  }
}

/** A persistent tap on `bridge`, up. A leftover of the same name (a crashed run) is replaced. */
export async function addTap(runner: Runner, name: string, bridge: string): Promise<void> {
  if (await linkExists(runner, name)) await runner.run(linkDelArgv(name), { timeoutMs: 10_000 });
  await runner.run(tapAddArgv(name), { timeoutMs: 10_000 });
  try {
    await runner.run(linkMasterArgv(name, bridge), { timeoutMs: 10_000 });
    await runner.run(linkUpArgv(name), { timeoutMs: 10_000 });
  } catch (e) {
    await runner.run(linkDelArgv(name), { timeoutMs: 10_000 }).catch(() => undefined);
    throw e;
  }
}

export async function deleteLink(runner: Runner, name: string): Promise<void> {
  if (await linkExists(runner, name)) await runner.run(linkDelArgv(name), { timeoutMs: 10_000 });
}
