// Configuration of the master's deployment services (pure, unit tested): the
// RabbitMQ broker mcollective talks STOMP to, the mcollective client the master
// runs `mco` with, and rsyncd serving the puppet code. Fuel's master set RabbitMQ
// up the same way: one vhost and user for mcollective from the cluster's mco_*
// settings, and the two exchanges mcollective's rabbitmq connector publishes to
// (`<collective>_broadcast`, topic; `<collective>_directed`, direct).
import { createHash, randomBytes } from 'node:crypto';
import { ForgeError } from '../../agent/core/errors.js';

/** The mco_* settings both ends must agree on (ks_meta.mco_user, mco_password, mco_vhost, mco_pskey). */
export interface McoSettings {
  user: string;
  password: string;
  vhost: string;
  pskey: string;
}

export const STOMP_PORT = 61613;
export const COLLECTIVE = 'mcollective';

/**
 * RabbitMQ's stored form of a password (rabbit_password_hashing_sha256):
 * base64(salt ‖ sha256(salt ‖ password)), 4-byte salt.
 */
export function rabbitPasswordHash(password: string, salt: Buffer = randomBytes(4)): string {
  const hash = createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest();
  return Buffer.concat([salt, hash]).toString('base64');
}

/** Definitions RabbitMQ imports at boot: vhost, user, permissions, mcollective's exchanges. */
export function brokerDefinitions(m: McoSettings, salt?: Buffer): Record<string, unknown> {
  const exchange = (name: string, type: 'topic' | 'direct'): Record<string, unknown> => ({
    name, vhost: m.vhost, type, durable: true, auto_delete: false, internal: false, arguments: {},
  });
  return {
    users: [{ name: m.user, password_hash: rabbitPasswordHash(m.password, salt), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] }],
    vhosts: [{ name: m.vhost }],
    permissions: [{ user: m.user, vhost: m.vhost, configure: '.*', write: '.*', read: '.*' }],
    exchanges: [exchange(`${COLLECTIVE}_broadcast`, 'topic'), exchange(`${COLLECTIVE}_directed`, 'direct')],
  };
}

export const BROKER_DEFINITIONS_PATH = '/etc/rabbitmq/definitions.json';

/** rabbitmq.conf: STOMP on its port, definitions from the file, log to the console (docker logs). */
export function rabbitmqConf(): string {
  return [
    '# fuel-forge lab broker: mcollective over STOMP',
    // Nodes and the master's client log in from other hosts with a real user; no guest.
    'loopback_users = none',
    `stomp.listeners.tcp.1 = 0.0.0.0:${STOMP_PORT}`,
    'definitions.import_backend = local_filesystem',
    `definitions.local.path = ${BROKER_DEFINITIONS_PATH}`,
    'log.console = true',
    'log.console.level = info',
    'log.file = false',
    '',
  ].join('\n');
}

export const ENABLED_PLUGINS = '[rabbitmq_stomp].\n';

/** mcollective settings are `key = value` lines: a value may not carry a line break. */
function cfgValue(name: string, v: string): string {
  if (/[\r\n]/.test(v)) throw new ForgeError('CONFIG_INVALID', `mcollective ${name} may not contain a line break`, { field: `mco_${name}` });
  return v;
}

/** The master's mcollective client config: the node's server.cfg, seen from the other side. */
export function mcoClientConfig(m: McoSettings, brokerHost: string): string {
  const c = 'rabbitmq';
  return [
    '# fuel-forge lab: the master side of mcollective',
    `main_collective = ${COLLECTIVE}`,
    `collectives = ${COLLECTIVE}`,
    'libdir = /usr/share/mcollective/plugins',
    'logger_type = console',
    'loglevel = warn',
    'direct_addressing = 1',
    'securityprovider = psk',
    `plugin.psk = ${cfgValue('pskey', m.pskey)}`,
    `connector = ${c}`,
    `plugin.${c}.vhost = ${cfgValue('vhost', m.vhost)}`,
    `plugin.${c}.pool.size = 1`,
    `plugin.${c}.pool.1.host = ${brokerHost}`,
    `plugin.${c}.pool.1.port = ${STOMP_PORT}`,
    `plugin.${c}.pool.1.user = ${cfgValue('user', m.user)}`,
    `plugin.${c}.pool.1.password = ${cfgValue('password', m.password)}`,
    // A client that cannot reach the broker fails instead of retrying for ever.
    `plugin.${c}.max_reconnect_attempts = 2`,
    'factsource = yaml',
    'plugin.yaml = /etc/mcollective/facts.yaml',
    '',
  ].join('\n');
}

export const RSYNC_MODULE = 'puppet';
export const PUPPET_DIR_IN_CONTAINER = '/srv/puppet';

/** rsyncd.conf: one read-only module with the deployment's puppet code, as Fuel's master served it. */
export function rsyncdConf(): string {
  return [
    '# fuel-forge lab: puppet code for the deployment',
    'uid = root',
    'gid = root',
    'use chroot = no',
    'pid file = /tmp/rsyncd.pid',
    // Clients are named by address in the log; a lookup would only ask a name server.
    'reverse lookup = no',
    `[${RSYNC_MODULE}]`,
    `  path = ${PUPPET_DIR_IN_CONTAINER}`,
    '  read only = yes',
    '  comment = fuel-forge deployment puppet code',
    '',
  ].join('\n');
}
