// Example network-boot configs for the ramdisk (the lab's mock Cobbler writes
// the real per-MAC ones). forge.* parameters: see protocol.ts.

export const DEFAULT_APPEND = 'console=ttyS0,115200n8 console=tty0 forge.master=http://10.20.0.2:8000 forge.poll_ms=2000';

export function renderPxelinuxExample(append = DEFAULT_APPEND): string {
  return `# pxelinux.cfg/default (or pxelinux.cfg/01-<mac>) — fuel-forge bootstrap
DEFAULT bootstrap
PROMPT 0
TIMEOUT 0
LABEL bootstrap
  KERNEL bootstrap/vmlinuz
  INITRD bootstrap/initrd.img
  APPEND ${append}
`;
}

export function renderIpxeExample(append = DEFAULT_APPEND, baseUrl = 'http://10.20.0.2:8080/bootstrap'): string {
  return `#!ipxe
# fuel-forge bootstrap over HTTP (faster than TFTP for a large initrd)
kernel ${baseUrl}/vmlinuz initrd=initrd.img ${append}
initrd ${baseUrl}/initrd.img
boot
`;
}
