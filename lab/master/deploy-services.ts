// The master's deployment services, started once per lab on the master network
// (after dnsmasq and the image server): RabbitMQ with STOMP at .4 — the broker
// mcollective connects to, set up from the cluster's mco_* settings — and the
// deployment container at .5: rsyncd serving the puppet code (rsync://<.5>/puppet/,
// as Fuel's master served it) and the mcollective client the orchestrator runs
// `mco` with. Both from DEPLOY_IMAGE; the broker can be stopped and started again
// on the same address (a master whose broker was down while nodes booted).
import { fileURLToPath } from 'node:url';
import { Wait, type StartedTestContainer } from 'testcontainers';
import { CleanupStack } from '../../agent/core/cleanup.js';
import { createCtx } from '../../agent/core/context.js';
import type { Logger } from '../../agent/core/log.js';
import { ANY_EXIT, type Runner, type RunResult } from '../../agent/core/runner.js';
import { tcpPort } from '../vm/wait.js';
import { DEPLOY_IMAGE, ensureMasterImage } from './container-image.js';
import {
  BROKER_DEFINITIONS_PATH, ENABLED_PLUGINS, PUPPET_DIR_IN_CONTAINER, RSYNC_MODULE, STOMP_PORT, brokerDefinitions,
  mcoClientConfig, rabbitmqConf, rsyncdConf, type McoSettings,
} from './deploy-config.js';
import { labContainer } from './containers.js';
import { containerLogs, execArgv, startArgv, stopArgv } from './docker-cli.js';
import type { MasterNetwork } from './master-net.js';

/** The deployment's puppet code (modules + site manifest), served read-only. */
export const PUPPET_CODE_DIR = fileURLToPath(new URL('../deploy/puppet/', import.meta.url));
export const MCO_CLIENT_CFG = '/etc/mcollective/client.cfg';

export interface DeployServices extends AsyncDisposable {
  readonly brokerIp: string;
  readonly deployIp: string;
  /** rsync URL of the puppet code, as nodes reach it. */
  readonly puppetUrl: string;
  /** Runs a command in the deployment container (mco, with MCO_CLIENT_CFG). Never throws on a non-zero exit. */
  exec(argv: readonly string[], o?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** RabbitMQ's log so far (connections, refused logins). */
  brokerLog(): Promise<string>;
  /** Stops the broker: nodes' connections drop and new ones are refused. */
  stopBroker(): Promise<void>;
  /** Starts it again on the same address and waits for STOMP. */
  startBroker(): Promise<void>;
  dispose(): Promise<void>;
}

export interface DeployServicesOptions {
  runner: Runner;
  master: MasterNetwork;
  mco: McoSettings;
  /** Container image tag; default ensureMasterImage(DEPLOY_IMAGE). */
  image?: string;
  cacheDir?: string;
  log?: Logger;
}

export async function startDeployServices(o: DeployServicesOptions): Promise<DeployServices> {
  const { runner, master } = o;
  const log = o.log ?? createCtx({ runner }).log;
  const image = o.image ?? (await ensureMasterImage(createCtx({ runner, log }), o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir }, DEPLOY_IMAGE)).tag;
  const stack = new CleanupStack({ code: 'LAB_FAILED' });
  const file = (content: string, target: string): { content: string; target: string; mode: number } => ({ content, target, mode: 0o644 });
  try {
    // RabbitMQ runs as its own user (the Debian wrapper su's to it): config world-readable.
    const common = { image, network: master.name, labelValue: master.name, dns: [master.dnsmasqIp], startupTimeoutMs: 120_000 };
    const broker = await labContainer({ ...common, ip: master.brokerIp }, 'broker')
      .withCopyContentToContainer([
        file(rabbitmqConf(), '/etc/rabbitmq/rabbitmq.conf'),
        file(ENABLED_PLUGINS, '/etc/rabbitmq/enabled_plugins'),
        file(JSON.stringify(brokerDefinitions(o.mco), null, 2), BROKER_DEFINITIONS_PATH),
      ])
      .withCommand(['/usr/sbin/rabbitmq-server'])
      .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
      .start();
    stack.defer('broker container', () => broker.stop({ timeout: 1000 }).then(() => undefined));
    const deploy = await labContainer({ ...common, ip: master.deployIp }, 'deploy')
      .withBindMounts([{ source: PUPPET_CODE_DIR, target: PUPPET_DIR_IN_CONTAINER, mode: 'ro' }])
      .withCopyContentToContainer([file(rsyncdConf(), '/etc/rsyncd.conf'), file(mcoClientConfig(o.mco, master.brokerIp), MCO_CLIENT_CFG)])
      .withCommand(['/usr/bin/rsync', '--daemon', '--no-detach', '--config=/etc/rsyncd.conf', '--log-file=/dev/stdout'])
      .withWaitStrategy(Wait.forLogMessage(/rsyncd version .* starting/))
      .start();
    stack.defer('deployment container', () => deploy.stop({ timeout: 1000 }).then(() => undefined));
    const stomp = (): Promise<void> => tcpPort(master.brokerIp, STOMP_PORT, { timeoutMs: 120_000, pollMs: 500 }).until();
    await stomp();
    log.info('master.deploy.up', { brokerIp: master.brokerIp, deployIp: master.deployIp, image });
    const id = (c: StartedTestContainer): string => c.getId();
    const s: DeployServices = {
      brokerIp: master.brokerIp,
      deployIp: master.deployIp,
      puppetUrl: `rsync://${master.deployIp}/${RSYNC_MODULE}/`,
      exec: (argv, x = {}) => runner.run(execArgv(id(deploy), argv, { stdin: x.input !== undefined }), {
        timeoutMs: x.timeoutMs ?? 120_000, okExitCodes: ANY_EXIT, ...(x.input === undefined ? {} : { input: x.input }),
      }),
      brokerLog: () => containerLogs(runner, id(broker)),
      stopBroker: async () => {
        await runner.run(stopArgv(id(broker), 2), { timeoutMs: 60_000 });
      },
      startBroker: async () => {
        await runner.run(startArgv(id(broker)), { timeoutMs: 60_000 });
        await stomp();
      },
      dispose: () => stack.dispose(),
      [Symbol.asyncDispose]: () => stack.dispose(),
    };
    return s;
  } catch (e) {
    return await stack.unwind(e);
  }
}
