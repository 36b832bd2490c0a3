// Named rules for every value that reaches a file we render, an argv or a path
// on the node. Each rule returns why a value is refused (or undefined), so the
// schema can attach the reason to the value's JSON path. Messages show values
// only through displayValue: the data never adds a line to an error.
import { isIP, isIPv4 } from 'node:net';
import { posix } from 'node:path';
import { displayValue } from '../core/display.js';

export type Rule = (s: string) => string | undefined;

// C0, DEL, C1 (U+0085 NEL among them) and the Unicode line/paragraph separators:
// every one of them is a line break or worse for some reader of what we render.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const WHITESPACE = /[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

function codePoint(c: string): string {
  return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** One line of printable characters (a password, a key, a sudo rule). */
export const singleLine: Rule = (s) => {
  const m = CONTROL.exec(s);
  return m ? `must be one line of printable characters (contains ${codePoint(m[0])})` : undefined;
};

/** A word: printable, no whitespace at all. */
export const token: Rule = (s) => {
  if (!s) return 'must not be empty';
  const c = singleLine(s);
  if (c) return c;
  const m = WHITESPACE.exec(s);
  return m ? `must not contain whitespace (contains ${codePoint(m[0])})` : undefined;
};

/** RFC 1123 host name or FQDN: labels of 1–63 letters, digits and inner hyphens, 253 in all. */
export const hostname: Rule = (s) => {
  if (!s) return 'must not be empty';
  if (s.length > 253) return `is ${s.length} characters long, a host name has at most 253`;
  const labels = s.endsWith('.') ? s.slice(0, -1).split('.') : s.split('.');
  for (const l of labels) {
    if (!l) return `${displayValue(s)} has an empty label`;
    if (l.length > 63) return `label ${displayValue(l)} is ${l.length} characters long, at most 63`;
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l)) {
      return `${displayValue(s)} is not a host name (letters, digits and inner hyphens per label)`;
    }
  }
  return undefined;
};

export const ipAddress: Rule = (s) => (isIP(s) ? undefined : `${displayValue(s)} is not an IP address`);
export const hostOrIp: Rule = (s) => (isIP(s) ? undefined : hostname(s) && `${displayValue(s)} is neither an IP address nor a host name`);

/** The prefix length of a dotted, contiguous IPv4 netmask; undefined for anything else. */
export function netmaskPrefix(s: string): number | undefined {
  if (!isIPv4(s)) return undefined;
  const bits = s.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
  const ones = bits.toString(2).replace(/0+$/, '').length;
  const want = ones === 0 ? 0 : (0xffffffff << (32 - ones)) >>> 0;
  return bits === want ? ones : undefined;
}

export const netmask: Rule = (s) => {
  if (!isIPv4(s)) return `${displayValue(s)} is not a dotted IPv4 netmask`;
  return netmaskPrefix(s) === undefined ? `${s} is not a contiguous netmask` : undefined;
};

export const mac: Rule = (s) =>
  /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(s) ? undefined : `${displayValue(s)} is not a MAC address (six colon-separated hex pairs)`;

/** Kernel interface names: < 16 bytes, no `/`, `:` or whitespace, not `.`/`..`; we also keep to a portable set. */
export const interfaceName: Rule = (s) => {
  if (s === '.' || s === '..' || !/^[A-Za-z0-9_.-]{1,15}$/.test(s)) {
    return `${displayValue(s)} is not an interface name (1–15 of A-Z a-z 0-9 _ . -)`;
  }
  return undefined;
};

/** An absolute, normalised path without `..`, whitespace or control characters. */
export const absolutePath: Rule = (s) => {
  const t = token(s);
  if (t) return t;
  if (!s.startsWith('/')) return `${displayValue(s)} must be an absolute path`;
  if (s.split('/').some((seg) => seg === '..' || seg === '.')) return `${displayValue(s)} must not contain . or .. segments`;
  const norm = posix.normalize(s).replace(/(.)\/$/, '$1');
  if (norm !== s) return `${displayValue(s)} is not normalised (write ${displayValue(norm)})`;
  if (s.length > 1024) return `path is ${s.length} characters long`;
  return undefined;
};

/** Nailgun's mount field: an absolute path, or "swap"/"none". */
export const mountPoint: Rule = (s) => (s === 'swap' || s === 'none' ? undefined : absolutePath(s));

const LVM_NAME = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/;

/** lvm(8) VALID NAMES: a-z A-Z 0-9 + _ . -, not starting with `-`, not `.`/`..`, 127 characters. */
export const vgName: Rule = (s) => {
  if (s === '.' || s === '..' || !LVM_NAME.test(s) || s.length > 127) {
    return `${displayValue(s)} is not a volume group name (A-Z a-z 0-9 + _ . -, not starting with -)`;
  }
  return undefined;
};

const LV_RESERVED = ['_cdata', '_cmeta', '_corig', '_iorig', '_mimage', '_mlog', '_pmspare', '_rimage', '_rmeta', '_tdata', '_tmeta', '_vdata', '_vorigin', '_wcorig'];

/** lvm(8): a VG name's rules, plus names LVM reserves for its own sub-volumes. */
export const lvName: Rule = (s) => {
  const v = vgName(s);
  if (v) return v.replace('volume group', 'logical volume');
  if (s.startsWith('snapshot') || s.startsWith('pvmove')) return `${displayValue(s)} starts with a prefix LVM reserves`;
  const r = LV_RESERVED.find((x) => s.includes(x));
  return r ? `${displayValue(s)} contains ${r}, which LVM reserves` : undefined;
};

/** An md array name we create as /dev/md/<name>: mdadm keeps 32 bytes of it in the superblock. */
export const mdName: Rule = (s) =>
  /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(s) ? undefined : `${displayValue(s)} is not an md array name (1–32 of A-Z a-z 0-9 _ . -)`;

/** Disk ids and names (`sda`, `disk/by-path/pci-…`): relative device paths under /dev. */
export const diskName: Rule = (s) => {
  const t = token(s);
  if (t) return t;
  if (s.split('/').some((seg) => seg === '..' || seg === '.')) return `${displayValue(s)} must not contain . or .. segments`;
  return undefined;
};

/** Byte limits of filesystem labels (ext2/3/4 16, xfs 12, vfat 11, swap 15). */
export const LABEL_BYTES: Readonly<Record<string, number>> = { ext2: 16, ext3: 16, ext4: 16, xfs: 12, vfat: 11, swap: 15 };

/** A (already cut) filesystem label for its filesystem type. */
export function labelFor(fsType: string): Rule {
  return (s) => {
    const c = singleLine(s);
    if (c) return c;
    const max = LABEL_BYTES[fsType];
    const bytes = Buffer.byteLength(s, 'utf8');
    if (max !== undefined && bytes > max) return `${displayValue(s)} is ${bytes} bytes, a ${fsType} label holds ${max}`;
    if (fsType === 'vfat' && /[^\x20-\x7e]|["*+,./:;<=>?[\\\]|]/.test(s)) return `${displayValue(s)} has characters a FAT label cannot hold`;
    return undefined;
  };
}

export const uid: Rule = (s) => (/^[A-Za-z0-9_.-]{1,64}$/.test(s) ? undefined : `${displayValue(s)} is not a node uid (1–64 of A-Z a-z 0-9 _ . -)`);

/** useradd's portable names (Debian's NAME_REGEX). */
export const userName: Rule = (s) =>
  /^[a-z_][a-z0-9_-]{0,31}$/.test(s) ? undefined : `${displayValue(s)} is not a user name (lower case, digits, _ and -, 32 at most)`;

/** A sudoers rule after the user name (`ALL=(ALL) NOPASSWD: ALL`); visudo checks the grammar. */
export const sudoRule: Rule = (s) => {
  const c = singleLine(s);
  if (c) return c;
  if (!s.trim()) return 'must not be empty';
  if (/^\s*#/.test(s) || s.includes('\\')) return `${displayValue(s)}: comments and line continuations are not rules`;
  return undefined;
};

/** Kernel command line tokens: GRUB and shell syntax (`;`, `$`, `#`, quotes, braces…) never reaches grub.cfg. */
export const kernelParams: Rule = (s) => {
  const c = singleLine(s.replaceAll('\t', ' '));
  if (c) return c;
  for (const t of s.split(/[ \t]+/).filter(Boolean)) {
    if (!/^[A-Za-z0-9_.,:=/+@%~-]+$/.test(t)) return `kernel parameter ${displayValue(t)} has a character GRUB or the shell would interpret`;
  }
  return undefined;
};

export const httpUrl: Rule = (s) => {
  const t = token(s);
  if (t) return t;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `${displayValue(s)} is not a URL`;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `${displayValue(s)}: only http and https URLs reach the master`;
};

/**
 * An apt source URI: one word (it is a field of a sources.list line). Fuel's own
 * samples carry placeholders (`uri1`) that mean nothing but change nothing; a
 * URI with a scheme must use one apt knows.
 */
export const aptUri: Rule = (s) => {
  const t = token(s);
  if (t) return t;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s)?.[1]?.toLowerCase();
  if (scheme === undefined) return undefined;
  const known = ['http', 'https', 'ftp', 'file', 'copy', 'cdrom', 'mirror', 'mirror+http', 'mirror+https', 'mirror+file', 'tor+http', 'tor+https'];
  return known.includes(scheme) ? undefined : `${displayValue(s)}: apt has no "${scheme}" method`;
};

export const repoName: Rule = (s) => (/^[A-Za-z0-9_.-]{1,64}$/.test(s) ? undefined : `${displayValue(s)} is not a repository name (A-Z a-z 0-9 _ . -)`);
export const aptSuite: Rule = (s) => (/^[A-Za-z0-9_.~+/-]{1,128}$/.test(s) ? undefined : `${displayValue(s)} is not an apt suite`);
export const aptSections: Rule = (s) =>
  /^([A-Za-z0-9_.~+/-]+( [A-Za-z0-9_.~+/-]+)*)?$/.test(s) ? undefined : `${displayValue(s)} is not a space-separated list of apt components`;
export const aptType: Rule = (s) => (s === 'deb' || s === 'deb-src' ? undefined : `${displayValue(s)}: expected "deb" or "deb-src"`);

/** tzdata names (`Europe/Moscow`, `UTC`, `Etc/GMT+3`). */
export const timezone: Rule = (s) =>
  /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(s) ? undefined : `${displayValue(s)} is not a time zone name`;

export const word: Rule = (s) => (/^\w{1,64}$/.test(s) ? undefined : `${displayValue(s)} must be letters, digits and _`);

/** Nailgun quotes name server lists: `"\"10.20.0.2\""`, sometimes comma- or space-separated. */
export function splitQuotedList(v: unknown): string[] {
  const one = (x: unknown): string => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : '');
  const raw = Array.isArray(v) ? v.map(one).join(',') : one(v);
  return raw
    .split(/[\s,]+/)
    .map((s) => s.replace(/^["']+|["']+$/g, '').trim())
    .filter(Boolean);
}

/** `kernel_options.udevrules`: `MAC_name` entries, comma-separated; any other shape is an error. */
export function parseUdevRules(s: string): { rules: { mac: string; name: string }[]; problem?: string } {
  const rules: { mac: string; name: string }[] = [];
  for (const entry of s.split(',').map((r) => r.trim()).filter(Boolean)) {
    const m = /^([^_]+)_(.+)$/.exec(entry);
    const why = !m ? 'is not MAC_name' : mac(m[1] ?? '') ?? interfaceName(m[2] ?? '');
    if (why || !m) return { rules, problem: `entry ${displayValue(entry)}: ${why ?? 'is not MAC_name'}` };
    rules.push({ mac: (m[1] ?? '').toLowerCase(), name: m[2] ?? '' });
  }
  return { rules };
}

/** Nailgun sends booleans as 1/0, "1"/"0", "yes"/"no" or true/false. */
export function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return ['1', 'yes', 'true', 'on'].includes(v.trim().toLowerCase());
  return false;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `s` holds a UTF-16 surrogate UTF-8 cannot encode (only a JSON `\ud800` escape makes one). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}
