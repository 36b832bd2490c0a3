// `--plan FILE` is input: parsed by the plan schema and checked for soundness before
// anything runs (issue 13). Through the CLI, with every runner watched: a refused
// plan leaves no command run, so no disk written.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ExecaRunner, RecordingRunner } from '../core/runner.js';
import { runCli as run } from '../testing/cli/run-cli.js';
import { testPlan } from './test-layouts.js';

describe('--plan with an overlapping partition', () => {
  it('is refused by partition, image and verify with exit 2, naming the partition, before any command runs', async () => {
    const calls = [ExecaRunner, RecordingRunner].flatMap((R) => (['run', 'spawn', 'start'] as const).map((m) => vi.spyOn(R.prototype, m)));
    const device = '/dev/forge-plancheck-absent';
    const dir = await mkdtemp(join(tmpdir(), 'forge-plancheck-'));
    try {
      const plan = testPlan([
        {
          device,
          sizeMiB: 128,
          sectorSize: 512,
          parts: [{ size: 1, flags: ['bios_grub'] }, { size: 32, fs: { type: 'vfat', label: 'EFI' }, flags: ['esp'] }, { size: 64, fs: { type: 'ext4', label: 'root', mount: '/' } }],
        },
      ]);
      // p3 starts 8 MiB inside p2.
      const [, p2, p3] = plan.parteds[0]!.partitions;
      p3!.begin -= 8;
      p3!.end -= 8;
      plan.images.push({ uri: 'http://127.0.0.1:9/root.img.gz', mount: '/', targetDevice: p3!.device, format: 'ext4', container: 'gzip', md5: 'a'.repeat(32) });
      const planFile = join(dir, 'plan.json');
      await writeFile(planFile, JSON.stringify(plan));
      const err = `error [PLAN_INVALID] --plan "${planFile}": parteds[0].partitions[2].begin: ${p3!.device}: begins at ${p3!.begin}, inside ${p2!.device} (which ends at ${p2!.end})`;
      for (const argv of [
        ['partition', '--plan', planFile],
        ['partition', '--plan', planFile, '--dry-run'],
        ['image', '--plan', planFile],
        ['verify', '--plan', planFile],
      ]) {
        expect({ argv, ...(await run(argv)) }).toEqual({ argv, code: 2, out: '', err });
      }
      expect(calls.map((c) => c.mock.calls.length)).toEqual(calls.map(() => 0));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
