// Test helper run as a child process: starts a master network with one tap,
// prints its facts as one JSON line and waits to be killed — so a test can
// leave leftovers the way a crashed lab process would.
import { silentLogger } from '../../agent/core/log.js';
import { ForgeError } from '../../agent/core/errors.js';
import { ExecaRunner } from '../../agent/core/runner.js';
import { startMasterNetwork } from './master-net.js';

const [tftpRoot, imagesDir] = process.argv.slice(2);
if (!tftpRoot || !imagesDir) throw new ForgeError('USAGE', 'usage: hold-master-net.ts TFTP_ROOT IMAGES_DIR');
const m = await startMasterNetwork({ runner: new ExecaRunner(), tftpRoot, imagesDir, log: silentLogger });
const tap = await m.addTap();
process.stdout.write(JSON.stringify({ name: m.name, bridge: m.bridge, tap, pid: process.pid }) + '\n');
setInterval(() => undefined, 60_000);
