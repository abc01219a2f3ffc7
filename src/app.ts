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
import { backupCommands } from '../commands/backup/index.ts';
import type { BackupCommandDeps } from '../commands/backup/index.ts';
import { BackupCache } from './backup/backup-cache.ts';
import { resticCommands } from '../commands/restic/index.ts';
import type { ResticCommandDeps } from '../commands/restic/index.ts';
import { silenceActions } from '../commands/alerts.ts';
import type { SilenceActionDeps } from '../commands/alerts.ts';
import { BackgroundWork } from './command/background.ts';
import { SilencesClient } from './alerts/silences.ts';
import { ButtonSigner } from './alerts/button-values.ts';
import { createSlackTransport } from './slack/transport.ts';
import type { SlackTransport } from './slack/transport.ts';
import { createWebClient } from './slack/web-client.ts';
import { botNamespace, loadKube } from './kube/client.ts';
import { LeaseLeadership, SingleReplica } from './leader.ts';
import { ConfigMapConfirmationStore, Confirmations, MemoryConfirmationStore } from './confirm/confirmations.ts';
import type { Kube } from './kube/client.ts';
import { startAlerts } from './alerts/start-alerts.ts';
import type { Alerts } from './alerts/start-alerts.ts';
import { startBackupWindows } from '../schedules/backup-window.ts';
import { kubeMoverSource } from './backup-window/mover-evidence.ts';
import { cachedMoverPods } from './volsync/mover-pods.ts';
import { sweepDrillDirs } from './restic/drill-dirs.ts';
import { resticOptions } from '../commands/restic/restic-options.ts';
import type { BackupWindows } from '../schedules/backup-window.ts';
import { startBackupWatch } from '../schedules/backup-watch.ts';
import type { BackupWatch } from '../schedules/backup-watch.ts';
import { IncidentStore } from './backup/incident-store.ts';

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

export interface CommandDeps {
  backup?: BackupCommandDeps;
  restic?: ResticCommandDeps;
  /** The alert buttons, when alerts run (Slack modes). */
  alerts?: SilenceActionDeps;
}

/** Every command family and button, with the services they reach through their deps. */
export function buildCommands(deps: CommandDeps = {}): CommandSet {
  return commandSet([backupCommands(deps.backup), resticCommands(deps.restic)], deps.alerts ? silenceActions(deps.alerts) : []);
}

export interface ServiceOptions {
  log: Logger;
  kube: Kube | undefined;
  /** Where the bot keeps its own state (default: botNamespace(kube)). */
  namespace?: string;
  /**
   * Keep confirmations in the cluster (default: in the Slack modes). The terminal answers its own
   * prompts in-process; Slack answers may reach another replica or a restarted bot.
   */
  confirmationsInCluster?: boolean;
  /** The clock of the confirmations (tests move it). */
  now?: () => Date;
}

/**
 * The services every command handler gets: access control, audit, confirmations, leadership and
 * the cluster. startBot and the in-process test bots build them here, so they are the same.
 * The Lease leadership (Slack modes with a cluster) is returned unstarted.
 */
export function buildServices(config: Config, opts: ServiceOptions): { services: Services; leaseLeadership?: LeaseLeadership } {
  const env = config.env;
  const { log, kube } = opts;
  const audit = new AuditLog(log);
  let groups: GroupResolver | undefined;
  if (env.botToken) {
    const client = createWebClient(env.botToken, { slackApiUrl: env.slackApiUrl, log });
    groups = { members: async (usergroup) => (await client.usergroups.users.list({ usergroup })).users ?? [] };
  }
  const buttonChannels = [config.alerts.channel, config.watch.channel, ...config.alerts.routes.map((r) => r.channel), ...config.alerts.watchChannels, ...config.windows.map((w) => w.channel)]
    .filter((c): c is string => typeof c === 'string');
  const access = new AccessControl({ operators: config.slack.operators, channels: config.slack.channels, buttonChannels, groups, log });
  const inCluster = kube && (opts.confirmationsInCluster ?? env.mode !== 'terminal') ? kube : undefined;
  const now = opts.now ? { now: opts.now } : {};
  const confirmations = new Confirmations({
    store: inCluster ? new ConfigMapConfirmationStore(inCluster, { namespace: opts.namespace ?? botNamespace(inCluster), ...now }) : new MemoryConfirmationStore(),
    ttlMs: config.restic.confirmTimeoutMinutes * 60_000,
    ...now,
  });
  const leaseLeadership = kube && env.mode !== 'terminal' ? new LeaseLeadership(kube, { namespace: opts.namespace ?? botNamespace(kube), log }) : undefined;
  const services: Services = { config, log, access, audit, kube, confirmations, leadership: leaseLeadership ?? new SingleReplica() };
  return { services, ...(leaseLeadership ? { leaseLeadership } : {}) };
}

export async function startBot(config: Config, opts: StartOptions = {}): Promise<Bot> {
  const env = config.env;
  const log = opts.log ?? createLogger({ level: env.logLevel, pretty: env.mode === 'terminal' });
  const metrics = new Metrics({ defaultMetrics: true });
  const server = new HttpServer(log, metrics);
  const kube = opts.kube ?? loadKube();
  if (kube) log.info({ server: kube.server, context: kube.context }, 'using this Kubernetes API server');
  else log.warn('no Kubernetes cluster is configured (no KUBECONFIG, ~/.kube/config or in-cluster service account); cluster commands will say so. Set KUBECONFIG, or run `npm run demo` for the local sample cluster.');
  const { services, leaseLeadership } = buildServices(config, { log, kube });
  leaseLeadership?.start();
  // A restore drill a crash interrupted left its private directory behind: removed first.
  void sweepDrillDirs().then((n) => n && log.warn({ removed: n }, 'removed restore-drill directories a previous run left behind'), () => undefined);
  // A running Slack bot answers /backup status from watches; the terminal lists on demand.
  const backupCache = kube && env.mode !== 'terminal' ? new BackupCache(kube, log) : undefined;
  backupCache?.start();
  // Follow-ups commands leave running (a sync, a VolSync unlock), ended by stop().
  const background = new BackgroundWork();
  // Alerts and their silence buttons share one Alertmanager client and one button signer.
  const silences = env.mode !== 'terminal' && env.alertmanagerUrl ? new SilencesClient({ baseUrl: env.alertmanagerUrl }) : undefined;
  const signer = new ButtonSigner(env.botToken);
  let windows: BackupWindows | undefined;
  let watch: BackupWatch | undefined;
  // The backup watch's incidents live in the cluster, so a restart or another replica continues them.
  const incidents = kube && backupCache && config.watch.enabled ? IncidentStore.inConfigMap(kube, { namespace: botNamespace(kube) }) : undefined;
  const commands = buildCommands({
    backup: { cache: backupCache, background, windows: () => windows?.service, incidents: () => (watch ? incidents : undefined) },
    restic: { background },
    ...(env.mode !== 'terminal' ? { alerts: { silences, signer } } : {}),
  });
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
  if (env.mode !== 'terminal') {
    slack = createSlackTransport({ config, log, server, metrics, commands, services });
    const transport = slack;
    server.readiness('slack', () => transport.notReady());
    // One mover lookup for the alert diagnosis and the window's annotation: a storm asks once.
    const moverPods = kube ? cachedMoverPods(kube) : undefined;
    alerts = startAlerts({ config, log, server, metrics, silences, signer, kube, ...(moverPods ? { moverPods } : {}), slack, leadership: services.leadership, ...(incidents ? { incidents } : {}) });
    // Window ticks, silences and summaries run on the leader only (services.leadership).
    windows = startBackupWindows({
      services: { ...services, slack: { client: slack.client, poster: slack.poster } },
      threads: alerts.threads,
      ...(moverPods ? { movers: kubeMoverSource(moverPods) } : {}),
      ...(alerts.silences ? { silences: alerts.silences } : {}),
    });
    alerts.addHooks(windows.hooks);
    // The backup watch: incidents from the watch cache, on the leader only.
    if (backupCache && incidents) {
      const kubeForLocks = backupCache.kube;
      watch = startBackupWatch({
        services: { ...services, slack: { client: slack.client, poster: slack.poster } }, cache: backupCache, store: incidents,
        // A mover that failed on a lock: its thread gets /restic locks' answer, buttons included (restic loaded on first use).
        lockEvidence: async (namespace, name) => (await (await import('../commands/restic/locks.ts')).lockReport(kubeForLocks, namespace, name, {
          buttons: true, restic: resticOptions({ services }), now: () => new Date(),
        })).blocks.filter((b) => b.type !== 'header'),
      });
    }
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
    await watch?.stop();
    await alerts?.stop();
    background.stop();
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

  // The terminal's code is loaded only in the terminal mode.
  const { runTerminal } = await import('./terminal/terminal.ts');
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
