// QEMU user networking (slirp) for lab VMs that do not sit on a master bridge
// (run-in-vm, the ramdisk and PXE tests). Slirp opens host-side sockets on the
// guest's behalf, so an unrestricted guest reaches anything the host can: every
// user netdev here is `restrict=on` (only slirp's own DHCP/TFTP answer) and the
// host's lab services are the only forwards, each at LAB_HOST_IN_GUEST:port.
import { ForgeError } from '../../agent/core/errors.js';

/** Where a restricted guest reaches the host's lab services (10.0.2.2, slirp's host alias, is cut off). */
export const LAB_HOST_IN_GUEST = '10.0.2.100';
export const USER_NET = '10.0.2.0/24';
/** Runs per guest connection, spawned by slirp without a shell, stdio = the guest's connection. */
export const FORWARDER = 'socat';

export interface UserNetOptions {
  /** TFTP root for slirp's built-in BOOTP/TFTP. */
  tftpRoot?: string;
  bootfile?: string;
  /** Host ports (on 127.0.0.1) the guest may reach, at LAB_HOST_IN_GUEST with the same port. */
  hostPorts?: readonly number[];
}

/** The guest's URL for a host service listening on 127.0.0.1:port (which must be in hostPorts). */
export function guestUrl(port: number): string {
  return `http://${LAB_HOST_IN_GUEST}:${port}`;
}

/** `-netdev` value of a restricted user network (pure). */
export function userNetdev(id: string, o: UserNetOptions = {}): string {
  const parts = [`user,id=${id}`, `net=${USER_NET}`, 'restrict=on'];
  // QEMU splits the option on commas; a path with one would smuggle in another option.
  for (const [field, v] of [['tftpRoot', o.tftpRoot], ['bootfile', o.bootfile]] as const) {
    if (v !== undefined && /[,\s]/.test(v)) throw new ForgeError('USAGE', `user netdev: ${field} may not contain commas or blanks, got ${JSON.stringify(v)}`, { field });
  }
  if (o.tftpRoot) parts.push(`tftp=${o.tftpRoot}`);
  if (o.bootfile) parts.push(`bootfile=${o.bootfile}`);
  for (const p of new Set(o.hostPorts ?? [])) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new ForgeError('USAGE', `user netdev: bad host port ${p}`, { field: 'hostPorts' });
    parts.push(`guestfwd=tcp:${LAB_HOST_IN_GUEST}:${p}-cmd:${FORWARDER} STDIO TCP:127.0.0.1:${p}`);
  }
  return parts.join(',');
}
