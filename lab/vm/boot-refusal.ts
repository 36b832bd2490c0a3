// A Secure Boot node that is handed a loader it must not run says so on its
// console, in the words of whichever link of the chain refused it. The lab reads
// those words instead of waiting out the first-boot timeout: a refusal is final
// (nothing retries it), and "Secure Boot refused X" is what an operator needs.

export type RefusedBy = 'firmware' | 'shim' | 'grub';

export interface BootRefusal {
  by: RefusedBy;
  /** The console line that says so (escape sequences removed). */
  line: string;
}

/**
 * Each link's message when a signature check fails. Firmware: OVMF's boot manager
 * (EFI_SECURITY_VIOLATION is printed as "Access Denied"); shim: its own verifier for
 * the second stage (0x1A = EFI_SECURITY_VIOLATION); GRUB: the shim_lock verifier on a
 * chainloaded or loaded image (wording differs between GRUB releases).
 */
const PATTERNS: readonly [RefusedBy, RegExp][] = [
  ['firmware', /failed to load Boot\w+ .*Access Denied/],
  ['firmware', /Image failed to verify with \*ACCESS DENIED\*/],
  ['shim', /Verification failed: \(0x1A\) Security Violation/],
  ['shim', /Failed to load image.*Security Violation/],
  ['grub', /bad shim signature/],
  ['grub', /prohibited by secure boot policy/],
];

// CSI/OSC sequences: OVMF draws its screens with them on the serial console.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]/g;

/** The first Secure Boot refusal on a console, if any. */
export function secureBootRefusal(consoleText: string): BootRefusal | undefined {
  const lines = consoleText.replace(ANSI, '\n').split(/\r?\n|\r/);
  for (const raw of lines) {
    // shim draws a box around its message (code-page box characters): keep the words.
    const line = raw.replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim();
    for (const [by, re] of PATTERNS) if (re.test(line)) return { by, line };
  }
  return undefined;
}

/** One sentence for an error message. */
export function describeRefusal(r: BootRefusal): string {
  const who = r.by === 'firmware' ? 'the firmware (Secure Boot)' : r.by === 'shim' ? 'shim (Secure Boot)' : 'GRUB (Secure Boot, shim_lock)';
  return `${who} refused an unsigned or untrusted loader: "${r.line.slice(0, 200)}"`;
}
