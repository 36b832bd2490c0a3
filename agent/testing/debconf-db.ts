// A private debconf database for tests: debconf's own tools (debconf-set-selections,
// debconf-show) read and write it instead of the host's.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lays out a database under `dir`; returns the environment that points debconf at it. */
export function privateDebconf(dir: string): NodeJS.ProcessEnv {
  mkdirSync(dir, { recursive: true });
  const rc = join(dir, 'debconf.conf');
  writeFileSync(rc, [
    'Config: configdb', 'Templates: templatedb', '',
    'Name: configdb', 'Driver: File', `Filename: ${join(dir, 'config.dat')}`, '',
    'Name: templatedb', 'Driver: File', 'Mode: 644', `Filename: ${join(dir, 'templates.dat')}`, '',
  ].join('\n'));
  return { ...process.env, DEBCONF_SYSTEMRC: rc };
}
