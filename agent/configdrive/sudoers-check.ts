// The sudo rules we write to /etc/sudoers.d, checked by sudo's own parser before
// any disk is touched: a rule visudo refuses makes sudo refuse every sudoers file
// on the node ("parse error"), locking out the accounts that need it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx } from '../core/context.js';
import { ForgeError, ForgeErrors } from '../core/errors.js';

export interface SudoRule {
  user: string;
  rule: string;
  /** JSON path of the rule in the provision data. */
  field: string;
}

/** One sudoers line as the configdrive writes it (one per rule). */
export function sudoersLine(user: string, rule: string): string {
  return `${user} ${rule}`;
}

/**
 * Runs `visudo -c -f` on the rules, one line each. Returns false when visudo is
 * not installed (the schema's line checks still hold); throws CONFIG_INVALID
 * naming each rule visudo reports.
 */
export async function checkSudoRules(ctx: Ctx, rules: readonly SudoRule[]): Promise<boolean> {
  if (!rules.length) return true;
  const dir = await mkdtemp(join(tmpdir(), 'forge-sudoers-'));
  try {
    const file = join(dir, 'rules');
    await writeFile(file, rules.map((r) => sudoersLine(r.user, r.rule)).join('\n') + '\n', { mode: 0o440 });
    const r = await ctx.run(['visudo', '-c', '-f', file], { readOnly: true, okExitCodes: [0, 1, 127], timeoutMs: 30_000 });
    if (r.exitCode === 127) {
      ctx.log.warn('sudoers.unchecked', { reason: 'visudo not installed', rules: rules.length });
      return false;
    }
    if (r.exitCode === 0) return true;
    // `FILE:LINE:COL: syntax error` (sudo 1.9) or `parse error in FILE near line N` (older).
    const out = `${r.stdout}\n${r.stderr}`;
    const lines = new Set<number>();
    for (const m of out.matchAll(/:(\d+):\d+: |near line (\d+)/g)) lines.add(Number(m[1] ?? m[2]));
    const bad = [...lines].map((n) => rules[n - 1]).filter((x): x is SudoRule => x !== undefined);
    const errors = (bad.length ? bad : rules).map(
      (b) => new ForgeError('CONFIG_INVALID', `${b.field}: sudo's parser (visudo) refuses this rule`, { field: b.field, command: r.argv }),
    );
    throw errors.length === 1 ? errors[0]! : new ForgeErrors('CONFIG_INVALID', errors);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
