// Where the bootstrap ramdisk lives (built by agent/host/ramdisk into the cache), and
// the kernel command line the lab boots it with.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError } from '../../agent/core/errors.js';
import { KERNEL_PARAM } from '../../agent/bootstrap/protocol.js';
import { cacheDir } from './test-kernel.js';

export interface BootstrapFiles {
  dir: string;
  kernel: string;
  initrd: string;
}

export function bootstrapFiles(env: NodeJS.ProcessEnv = process.env): BootstrapFiles | undefined {
  const dir = join(cacheDir(env), 'bootstrap');
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.img');
  return existsSync(kernel) && existsSync(initrd) ? { dir, kernel, initrd } : undefined;
}

export function requireBootstrapFiles(env: NodeJS.ProcessEnv = process.env): BootstrapFiles {
  const f = bootstrapFiles(env);
  if (!f) {
    throw new ForgeError('LAB_FAILED', `no bootstrap ramdisk in ${join(cacheDir(env), 'bootstrap')}: build it first (npm run provision -- build-bootstrap, or npm run lab which builds on first use)`);
  }
  return f;
}

/** Kernel command line for a lab node: serial console and the master URL as the guest sees it. */
export function bootstrapAppend(masterUrl: string, extra: string[] = []): string {
  return ['console=ttyS0,115200n8', 'panic=10', `${KERNEL_PARAM.master}=${masterUrl}`, `${KERNEL_PARAM.pollMs}=500`, ...extra].join(' ');
}

export { guestUrl } from './user-net.js';
