// `provision build-bootstrap` (build the ramdisk into the cache) and
// `provision bootstrap-daemon` (the node side of the master exchange, run by the ramdisk's /init).
import { parseArgs } from 'node:util';
import { createCtx } from '../core/context.js';
import type { Command } from './types.js';

export const buildCommand: Command = {
  name: 'build-bootstrap',
  summary: 'Build the bootstrap ramdisk (vmlinuz + initrd.img with the bundled agent) into <cache>/bootstrap/.',
  usage: 'usage: provision build-bootstrap [--cache-dir DIR] [--suite bookworm] [--mirror URL] [--packages a,b] [--force | --force-rootfs] [--json]',
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        'cache-dir': { type: 'string' },
        suite: { type: 'string' },
        mirror: { type: 'string' },
        packages: { type: 'string' },
        force: { type: 'boolean' },
        'force-rootfs': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      strict: true,
    });
    const { buildBootstrap } = await import('../bootstrap/build.js');
    const b = await buildBootstrap(createCtx(), {
      ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
      ...(values.suite ? { suite: values.suite } : {}),
      ...(values.mirror ? { mirror: values.mirror } : {}),
      ...(values.packages ? { packages: values.packages.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
      ...(values['force-rootfs'] ? { force: 'rootfs' as const } : values.force ? { force: true } : {}),
    });
    if (values.json) io.out(JSON.stringify(b, null, 2));
    else io.out(`${b.cached ? 'cached' : 'built'} ${b.vmlinuz} ${b.initrd} (${b.initrdBytes} bytes, kernel ${b.kernelVersion}) in ${(b.durationMs / 1000).toFixed(1)} s`);
    return 0;
  },
};

export const daemonCommand: Command = {
  name: 'bootstrap-daemon',
  summary: 'Bootstrap node loop: report discovery to forge.master, then run the tasks it hands out (upload/run/reboot/poweroff).',
  usage: 'usage: provision bootstrap-daemon [--cmdline "forge.master=URL ..."]',
  async run(args) {
    const { values } = parseArgs({ args, options: { cmdline: { type: 'string' } }, strict: true });
    const { runDaemon } = await import('../bootstrap/daemon.js');
    const ac = new AbortController();
    const stop = (): void => ac.abort(new Error('signal'));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return runDaemon(createCtx({ signal: ac.signal }), values.cmdline === undefined ? {} : { cmdline: values.cmdline });
  },
};
