// The one reader for every input file the agent is handed (`--input`,
// `--inventory`, `--plan`): a regular file, at most `maxBytes`, valid UTF-8.
// A FIFO must not block the run, a device (`/dev/zero`) or a huge file must not
// fill a bootstrap node's 1 GiB of RAM.
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { displayValue } from './display.js';
import { ForgeError } from './errors.js';

/**
 * 16 MiB: Nailgun's provision data for a node with dozens of disks is well under
 * 1 MiB (our largest fixture is 14 KiB), and so are inventories and saved plans.
 * 16 MiB of JSON parses to a few hundred MiB of objects at worst, which a 1 GiB
 * bootstrap node survives; anything bigger is a mistake or an attack.
 */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

const CHUNK = 256 * 1024;

export interface ReadInputOptions {
  /** Refuse files larger than this (default MAX_INPUT_BYTES). */
  maxBytes?: number;
  /** The option that named the file (`--input`): the error's `field` and message prefix. */
  what?: string;
}

/** How an input file is named in an error: `--input "/tmp/x.json"`. */
export function inputLabel(path: string, what?: string): string {
  const shown = displayValue(path, 256);
  return what ? `${what} ${shown}` : shown;
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
};

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code) return ERRNO[code] ? `${code} (${ERRNO[code]})` : code;
  return e instanceof Error ? e.message : String(e);
}

function size(n: number): string {
  const MiB = 1024 * 1024;
  if (n < MiB) return `${n} bytes`;
  return n % MiB === 0 ? `${n / MiB} MiB` : `${(n / MiB).toFixed(1)} MiB (${n} bytes)`;
}

/**
 * The file's text. Throws ForgeError(INPUT_UNREADABLE) naming `what` (or the
 * path) for a missing file, anything that is not a regular file, a file over
 * the cap (reading at most cap+1 bytes) or text that is not UTF-8.
 */
export async function readInputFile(path: string, opts: ReadInputOptions = {}): Promise<string> {
  const max = opts.maxBytes ?? MAX_INPUT_BYTES;
  const label = inputLabel(path, opts.what);
  const fail = (problem: string, details: Record<string, unknown> = {}, cause?: unknown): ForgeError =>
    new ForgeError('INPUT_UNREADABLE', `${label}: ${problem}`, {
      field: opts.what ?? path,
      details: { path, ...details },
      ...(cause === undefined ? {} : { cause }),
    });
  const check = (st: Stats): void => {
    if (!st.isFile()) throw fail(`is ${kindOf(st)}, not a regular file`, { kind: kindOf(st) });
    if (st.size > max) throw fail(`is ${size(st.size)}, over the ${size(max)} limit for input files`, { size: st.size, maxBytes: max });
  };

  // stat before open: opening a device can act on it (a watchdog arms, a tape
  // rewinds), so devices, FIFOs and directories are refused without opening.
  try {
    check(await stat(path));
  } catch (e) {
    if (e instanceof ForgeError) throw e;
    throw fail(`cannot read: ${errnoText(e)}`, {}, e);
  }
  // The path may have been swapped since: open without waiting for a FIFO's
  // writer or taking a controlling tty, then check what was actually opened.
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw fail(`cannot read: ${errnoText(e)}`, {}, e);
  }
  try {
    check(await fh.stat());
    // The size stat reported is a hint (the file may grow, /proc files say 0):
    // count what is read, and stop one byte past the cap.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(CHUNK, max + 1 - total);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > max) throw fail(`is larger than the ${size(max)} limit for input files`, { maxBytes: max });
    }
    const bytes = Buffer.concat(chunks, total);
    // Decoding with replacement would silently turn a bad byte in a password into U+FFFD.
    if (!isUtf8(bytes)) throw fail('is not UTF-8 text');
    return bytes.toString('utf8');
  } catch (e) {
    if (e instanceof ForgeError) throw e;
    throw fail(`cannot read: ${errnoText(e)}`, {}, e);
  } finally {
    await fh.close();
  }
}
