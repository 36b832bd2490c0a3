// Test helper: the tiny initramfs (lab/vm/test-kernel.ts) with an /init that
// answers on the serial console — every line typed comes back as `echo: <line>` —
// so a test can drive a console end to end. Built by appending a second cpio
// archive (the kernel unpacks them in order, the later /init wins).
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runner } from '../../agent/core/runner.js';
import { cacheDir, tinyInitrd, TINY_INIT_MARKER } from '../vm/test-kernel.js';

export const ECHO_PREFIX = 'echo: ';

export async function echoInitrd(runner: Runner): Promise<string> {
  const base = await tinyInitrd(runner);
  const out = join(cacheDir(), 'lab', 'echo-initrd.cpio');
  const dir = mkdtempSync(join(tmpdir(), 'forge-echo-init-'));
  try {
    writeFileSync(join(dir, 'init'), `#!/bin/dash\necho ${TINY_INIT_MARKER}\nwhile read -r line; do echo "${ECHO_PREFIX}$line"; done\nwhile :; do /bin/sleep 3600; done\n`);
    chmodSync(join(dir, 'init'), 0o755);
    const extra = join(dir, 'extra.cpio');
    await runner.run(['cpio', '--quiet', '-o', '-H', 'newc', '-O', extra], { cwd: dir, input: 'init\n' });
    // Per process, then renamed: concurrent builders never see half a file.
    writeFileSync(`${out}.${process.pid}`, Buffer.concat([readFileSync(base), readFileSync(extra)]));
    renameSync(`${out}.${process.pid}`, out);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
