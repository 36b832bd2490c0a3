import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { brokerDefinitions, mcoClientConfig, rabbitmqConf, rabbitPasswordHash, rsyncdConf } from './deploy-config.js';

const mco = { user: 'mcollective', password: 'marionette', vhost: 'mcollective', pskey: 'unset' };

describe('deploy services config', () => {
  it('hashes a password the way RabbitMQ stores it (the worked example of its password guide)', () => {
    // rabbitmq.com/docs/passwords: salt 908D C60A, password test12.
    expect(rabbitPasswordHash('test12', Buffer.from('908DC60A', 'hex'))).toBe('kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR');
    const h = Buffer.from(rabbitPasswordHash('marionette'), 'base64');
    expect(h).toHaveLength(36);
    expect(h.subarray(4).equals(createHash('sha256').update(Buffer.concat([h.subarray(0, 4), Buffer.from('marionette')])).digest())).toBe(true);
  });

  it('defines the vhost, the user with full rights there and the two exchanges the rabbitmq connector publishes to', () => {
    const d = brokerDefinitions(mco, Buffer.alloc(4)) as Record<string, any[]>;
    expect(d['vhosts']).toEqual([{ name: 'mcollective' }]);
    expect(d['users']?.[0]).toMatchObject({ name: 'mcollective', hashing_algorithm: 'rabbit_password_hashing_sha256' });
    expect(d['permissions']).toEqual([{ user: 'mcollective', vhost: 'mcollective', configure: '.*', write: '.*', read: '.*' }]);
    expect(d['exchanges']?.map((e) => [e.name, e.type, e.vhost])).toEqual([
      ['mcollective_broadcast', 'topic', 'mcollective'],
      ['mcollective_directed', 'direct', 'mcollective'],
    ]);
  });

  it('rabbitmq.conf listens for STOMP and imports the definitions; rsyncd serves one read-only module', () => {
    expect(rabbitmqConf()).toMatch(/^stomp\.listeners\.tcp\.1 = 0\.0\.0\.0:61613$/m);
    expect(rabbitmqConf()).toMatch(/^definitions\.local\.path = \/etc\/rabbitmq\/definitions\.json$/m);
    expect(rsyncdConf()).toMatch(/^\[puppet\]\n {2}path = \/srv\/puppet\n {2}read only = yes$/m);
  });

  it('the mco client talks to the broker with the data\'s account and refuses values that would add config lines', () => {
    const c = mcoClientConfig(mco, '10.97.3.4');
    expect(c).toContain('plugin.rabbitmq.pool.1.host = 10.97.3.4\n');
    expect(c).toContain('plugin.rabbitmq.pool.1.password = marionette\n');
    expect(c).toContain('plugin.psk = unset\n');
    expect(() => mcoClientConfig({ ...mco, password: 'x\nplugin.psk = y' }, '10.97.3.4')).toThrow(/mcollective password/);
  });
});
