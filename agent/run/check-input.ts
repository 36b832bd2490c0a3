// Whole-input validation, shared by `provision run` and `provision plan` so the
// two agree on what they refuse: the schema (done when the data was loaded), the
// configdrive rendered in memory, and the sudo rules through sudo's own parser.
import { buildConfigDrive, type ConfigDriveContents } from '../configdrive/build.js';
import { checkSudoRules, type SudoRule } from '../configdrive/sudoers-check.js';
import type { Ctx } from '../core/context.js';
import type { ProvisionData } from '../schema/provision-data.js';

export interface CheckInputOptions {
  callbackUrl?: string;
}

/** The sudo rules the configdrive will write, with their JSON paths (root's rules are not written). */
export function sudoRulesOf(data: ProvisionData): SudoRule[] {
  return (data.ks_meta.user_accounts ?? []).flatMap((u, i) =>
    u.name === 'root' ? [] : (u.sudo ?? []).map((rule, j) => ({ user: u.name, rule, field: `ks_meta.user_accounts[${i}].sudo[${j}]` })),
  );
}

/** Throws on the first refusal; returns the configdrive it rendered in memory (for `--out`). */
export async function checkInput(ctx: Ctx, data: ProvisionData, o: CheckInputOptions = {}): Promise<ConfigDriveContents> {
  const contents = buildConfigDrive(data, o.callbackUrl === undefined ? {} : { callbackUrl: o.callbackUrl });
  await checkSudoRules(ctx, sudoRulesOf(data));
  return contents;
}
