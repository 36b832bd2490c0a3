// Who made a lab directory (a VM's or a lab's), and whether that owner would have
// removed it on disposal. `lab ls`/`lab down` judge a directory by this mark: the
// owner alive = running; dead and `release` = a leftover of a killed run; dead
// and kept (--keep, keepDir) = artifacts someone asked for, never removed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const OWNER_MARK = 'forge-owner.json';

const ownerMark = z.object({ pid: z.number().int().positive(), release: z.boolean() });
export type OwnerMark = z.output<typeof ownerMark>;

export function writeOwnerMark(dir: string, release: boolean, pid = process.pid): void {
  writeFileSync(join(dir, OWNER_MARK), JSON.stringify({ pid, release } satisfies OwnerMark) + '\n');
}

/** The directory's mark; undefined when it has none (not ours to judge) or it does not parse. */
export function readOwnerMark(dir: string): OwnerMark | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, OWNER_MARK), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const r = ownerMark.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
