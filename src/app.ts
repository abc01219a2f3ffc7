/**
 * Composition root: config → logger and clients → transports → commands, schedules and routes.
 * Nothing else constructs long-lived objects, so tests can start a whole bot in-process.
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';
import { HttpServer } from './http/server.ts';
import { AuditLog } from './audit.ts';
import { AccessControl } from './access.ts';
import type { GroupResolver } from './access.ts';
import type { Services } from './command/context.ts';
import { commandSet } from './command/dispatch.ts';
import type { CommandSet } from './command/dispatch.ts';
import { backupActions, backupCommands } from '../commands/backup.ts';
import type { BackupCommandDeps } from '../commands/backup.ts';
import { BackupCache } from './backup/backup-cache.ts';
import { stopFollowing } from './backup/run.ts';
import { resticActions, resticCommands } from '../commands/restic.ts';
import { createSlackTransport } from './slack/transport.ts';
import type { SlackTransport } from './slack/transport.ts';
import { createWebClient } from './slack/web-client.ts';
import { runTerminal } from './terminal/terminal.ts';
import { botNamespace, loadKube } from './kube/client.ts';
import { LeaseLeadership, SingleReplica } from './leader.ts';
import { ConfigMapConfirmationStore, Confirmations, MemoryConfirmationStore } from './confirm/confirmations.ts';
import type { Kube } from './kube/client.ts';
import { startAlerts } from './alerts/start-alerts.ts';
import type { Alerts } from './alerts/start-alerts.ts';
import { startBackupWindows } from '../schedules/backup-window.ts';
import { kubeMoverSource } from './backup-window/mover-evidence.ts';
import { cachedMoverPods } from './volsync/mover-pods.ts';
import type { BackupWindows } from '../schedules/backup-window.ts';

export interface Bot {
  config: Config;
  log: Logger;
  /** The port /healthz, /readyz, /metrics (and /slack/events in HTTP mode) listen on; undefined if the terminal mode could not bind it. */
  port: number | undefined;
  /** Resolves when the bot has nothing more to do (the terminal's input ended). Slack modes run until stop(). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  stdin?: Readable;
  stdout?: Writable;
  /** Use this cluster instead of the one from KUBECONFIG / in-cluster config. */
  kube?: Kube;
  /** Override whether the terminal is interactive (default: stdin.isTTY). */
  interactive?: boolean;
  listenHost?: string;
}

export function buildCommands(deps: { backup?: BackupCommandDeps } = {}): CommandSet {
  return commandSet([backupCommands(deps.backup), resticCommands()], { ...backupActions(deps.backup), ...resticActions() });
}

export async function startBot(config: Config, opts: StartOptions = {}): Promise<Bot> {
  const env = config.env;
  const log = opts.log ?? createLogger({ level: env.logLevel, pretty: env.mode === 'terminal' });
  const metrics = new Metrics({ defaultMetrics: true });
  const server = new HttpServer(log, metrics);
  const audit = new AuditLog(log);

  let groups: GroupResolver | undefined;
  if (env.botToken) {
    const client = createWebClient(env.botToken, { slackApiUrl: env.slackApiUrl, log });
    groups = { members: async (usergroup) => (await client.usergroups.users.list({ usergroup })).users ?? [] };
  }
  const buttonChannels = [config.alerts.channel, ...config.alerts.routes.map((r) => r.channel), ...config.alerts.watchChannels, ...config.windows.map((w) => w.channel)]
    .filter((c): c is string => typeof c === 'string');
  const access = new AccessControl({ operators: config.slack.operators, channels: config.slack.channels, buttonChannels, groups, log });
  const kube = opts.kube ?? loadKube();
  if (kube) log.info({ server: kube.server, context: kube.context }, 'using this Kubernetes API server');
  else log.warn('no Kubernetes cluster is configured (no KUBECONFIG, ~/.kube/config or in-cluster service account); cluster commands will say so. Set KUBECONFIG, or run `npm run demo` for the local sample cluster.');
  // The terminal answers its own prompts in-process; Slack answers may reach another replica or a restarted bot.
  const confirmations = new Confirmations({
    store: kube && env.mode !== 'terminal' ? new ConfigMapConfirmationStore(kube, { namespace: botNamespace(kube) }) : new MemoryConfirmationStore(),
    ttlMs: config.restic.confirmTimeoutMinutes * 60_000,
  });
  const leaseLeadership = kube && env.mode !== 'terminal' ? new LeaseLeadership(kube, { namespace: botNamespace(kube), log }) : undefined;
  const services: Services = { config, log, access, audit, kube, confirmations, leadership: leaseLeadership ?? new SingleReplica() };
  leaseLeadership?.start();
  // A running Slack bot answers /backup status from watches; the terminal lists on demand.
  const backupCache = kube && env.mode !== 'terminal' ? new BackupCache(kube, log) : undefined;
  backupCache?.start();
  const commands = buildCommands({ backup: { cache: backupCache } });
  if (kube) {
    server.readiness('kubernetes', async () => {
      try {
        await kube.core.getAPIResources();
        return undefined;
      } catch (err) {
        return `the API server at ${kube.server} did not answer: ${(err as Error).message.split('\n')[0]}`;
      }
    });
  }

  let slack: SlackTransport | undefined;
  let alerts: Alerts | undefined;
  let windows: BackupWindows | undefined;
  if (env.mode !== 'terminal') {
    slack = createSlackTransport({ config, log, server, metrics, commands, services });
    const transport = slack;
    server.readiness('slack', () => transport.notReady());
    // One mover lookup for the alert diagnosis and the window's annotation: a storm asks once.
    const moverPods = kube ? cachedMoverPods(kube) : undefined;
    alerts = startAlerts({ config, log, server, metrics, commands, kube, ...(moverPods ? { moverPods } : {}), slack, leadership: services.leadership });
    // Window ticks, silences and summaries run on the leader only (services.leadership).
    windows = startBackupWindows({
      services: { ...services, slack: { client: slack.client, poster: slack.poster } },
      threads: alerts.threads,
      ...(moverPods ? { movers: kubeMoverSource(moverPods) } : {}),
      ...(alerts.silences ? { silences: alerts.silences } : {}),
    });
    alerts.addHooks(windows.hooks);
  }

  let port: number | undefined;
  try {
    port = await server.listen(env.port, opts.listenHost);
    log.info({ port, mode: env.mode, config: config.source }, 'backup-bot listening');
  } catch (err) {
    if (env.mode !== 'terminal') throw err;
    // Trying commands locally should not fail because another process holds the port.
    log.warn({ port: env.port, err: (err as Error).message }, 'health/metrics listener not started; set PORT to a free port to get it');
  }

  const stop = async () => {
    await windows?.stop();
    await alerts?.stop();
    stopFollowing();
    await backupCache?.stop();
    await leaseLeadership?.stop();
    await slack?.stop();
    await server.close();
  };

  if (slack) {
    try {
      await slack.start();
    } catch (err) {
      await backupCache?.stop();
      await server.close();
      throw err;
    }
    return { config, log, port, done: new Promise(() => {}), stop };
  }

  const stdin = opts.stdin ?? process.stdin;
  const done = runTerminal({
    commands,
    services,
    input: stdin,
    output: opts.stdout ?? process.stdout,
    interactive: opts.interactive ?? Boolean((stdin as { isTTY?: boolean }).isTTY),
  }).finally(() => stop());
  return { config, log, port, done, stop };
}
