// `provision build-bootstrap` (build the ramdisk into the cache) and
// `provision bootstrap-daemon` (the node side of the master exchange, run by the ramdisk's /init).
import { createCtx } from '../core/context.js';
import { cacheDirOption, commaList, debootstrapOptions, defineOptions, jsonOption, optionCommand } from './options.js';

const buildOptions = defineOptions({
  ...cacheDirOption,
  ...debootstrapOptions,
  force: { type: 'boolean', help: 'rebuild the ramdisk (and its rootfs) even when the cache has it' },
  'force-rootfs': { type: 'boolean', help: 'rebuild only the ramdisk rootfs' },
  ...jsonOption,
});

export const buildCommand = optionCommand({
  name: 'build-bootstrap',
  summary: 'Build the bootstrap ramdisk (vmlinuz + initrd.img with the bundled agent) into <cache>/bootstrap/.',
  options: buildOptions,
  async run(values, io, env) {
    const { buildBootstrap } = await import('../host/ramdisk/build.js');
    const b = await buildBootstrap(createCtx({ signal: env.signal }), {
      ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
      ...(values.suite ? { suite: values.suite } : {}),
      ...(values.mirror ? { mirror: values.mirror } : {}),
      ...(values.packages ? { packages: commaList(values.packages) } : {}),
      ...(values['force-rootfs'] ? { force: 'rootfs' as const } : values.force ? { force: true } : {}),
    });
    if (values.json) io.out(JSON.stringify(b, null, 2));
    else io.out(`${b.cached ? 'cached' : 'built'} ${b.vmlinuz} ${b.initrd} (${b.initrdBytes} bytes, kernel ${b.kernelVersion}) in ${(b.durationMs / 1000).toFixed(1)} s`);
    return 0;
  },
});

const daemonOptions = defineOptions({
  cmdline: { type: 'string', arg: '"forge.master=URL ..."', help: 'kernel command line to read forge.* from (default /proc/cmdline)' },
});

export const daemonCommand = optionCommand({
  name: 'bootstrap-daemon',
  summary: 'Bootstrap node loop: report discovery to forge.master, then run the tasks it hands out (upload/run/reboot/poweroff).',
  options: daemonOptions,
  async run(values, _io, env) {
    const { runDaemon } = await import('../bootstrap/daemon.js');
    return runDaemon(createCtx({ signal: env.signal }), values.cmdline === undefined ? {} : { cmdline: values.cmdline });
  },
});
