// `lab ls [--json]`: every lab resource on this machine and whether its owner
// still runs (running) or died without releasing it (leftover; `lab down` removes those).
import { parseArgs } from 'node:util';
import { ExecaRunner } from '../../agent/core/runner.js';
import { discoverLabResources, formatResources } from '../resources.js';

export async function lsCommand(args: string[], _signal: AbortSignal): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
  const found = await discoverLabResources(new ExecaRunner());
  const out = (l: string): void => void process.stdout.write(l + '\n');
  if (values.json) {
    out(JSON.stringify(found, null, 2));
    return 0;
  }
  if (!found.length) {
    out('no lab resources on this machine');
    return 0;
  }
  for (const l of formatResources(found)) out(l);
  const left = found.filter((r) => r.state === 'leftover').length;
  if (left) out(`\n${left} leftover(s) of runs that died: \`npx tsx lab/cli.ts down\` removes them`);
  return 0;
}
