// How many vCPUs a lab node gets. Two by default: a demo alone on the 2-core machine
// uses both (the image step's decompressor beside its hash worker, GRUB's installs
// beside grub-mkconfig). FORGE_LAB_VCPUS overrides; the vm tier sets 1 (vitest.config.ts):
// it runs two VM files at once, and under TCG two 2-vCPU guests on two cores ran
// ~20–28 % slower than two 1-vCPU guests (no paravirt spinlocks, no deferred TLB
// shootdowns: a descheduled vCPU leaves the other spinning; NOTES).
import { ForgeError } from '../../agent/core/errors.js';

export const DEFAULT_LAB_VCPUS = 2;

export function labVcpus(env: NodeJS.ProcessEnv = process.env): number {
  const v = env['FORGE_LAB_VCPUS'];
  if (v === undefined || v === '') return DEFAULT_LAB_VCPUS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new ForgeError('USAGE', `FORGE_LAB_VCPUS must be a whole number from 1 to 16, got ${JSON.stringify(v)}`, { field: 'FORGE_LAB_VCPUS' });
  return n;
}
