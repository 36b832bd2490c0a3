// ISO 9660 image creation argv lives here only (xorriso's mkisofs emulation):
// the configdrive's optional iso9660 format, with Rock Ridge and Joliet names.
import type { Ctx } from '../core/context.js';

export function mkisofsArgv(sourceDir: string, output: string, volumeId: string): string[] {
  return ['xorriso', '-as', 'mkisofs', '-quiet', '-o', output, '-V', volumeId, '-J', '-R', '-input-charset', 'utf-8', sourceDir];
}

export async function mkisofs(ctx: Ctx, sourceDir: string, output: string, volumeId: string): Promise<void> {
  await ctx.run(mkisofsArgv(sourceDir, output, volumeId), { timeoutMs: 300_000 });
}
