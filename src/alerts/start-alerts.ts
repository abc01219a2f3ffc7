/**
 * Alerts in threads, wired: the webhook route, the bounded queue, the pipeline that posts each
 * group into its thread, the thread map (in the cluster when there is one), the diagnoser, the
 * channel watcher and the metrics. app.ts calls startAlerts()
 * once the Slack transport exists; the backup-window scheduler plugs in through `hooks`.
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { HttpServer } from '../http/server.ts';
import type { Metrics } from '../metrics.ts';
import type { Kube } from '../kube/client.ts';
import { botNamespace } from '../kube/client.ts';
import type { ChannelPoster } from '../slack/poster.ts';
import { renderBlocks } from '../slack/render-blocks.ts';
import type { Reply } from '../reply.ts';
import { DEFAULT_PATTERNS, mergePatterns, parseCrashPatterns } from './classify.ts';
import type { SilencesClient } from './silences.ts';
import type { AlertHooks, AlertThreads } from './hooks.ts';
import { NotificationQueue } from './notification-queue.ts';
import { mountWebhook, WEBHOOK_PATH } from './webhook-route.ts';
import type { ThreadStore } from './thread-store.ts';
import { ConfigMapThreadStore, MemoryThreadStore } from './thread-store.ts';
import { BackupFacts } from '../backup-window/facts.ts';
import { cachedMoverPods } from '../volsync/mover-pods.ts';
import type { MoverPodSource } from '../volsync/mover-pods.ts';
import type { ButtonSigner } from './button-values.ts';
import type { Diagnosing, DiagnoserOptions } from './diagnoser.ts';
import { lazy } from '../command/lazy.ts';
import { watchSettings } from '../backup/incidents.ts';
import type { LogReader } from './pod-log.ts';
import { crashLoopMatcher, DiagnosisBudget, notifyGroup } from './group-notifier.ts';
import { AlertPipeline } from './alert-pipeline.ts';
import { watchChannels } from './channel-watch.ts';
import { registerAlertMetrics } from './alert-metrics.ts';
import type { Leadership } from '../leader.ts';
import { Reconciler } from './reconcile.ts';
import type { IncidentStore } from '../backup/incident-store.ts';
import { incidentLinks } from './incident-links.ts';

export interface StartAlertsOptions {
  config: Config;
  log: Logger;
  server: HttpServer;
  metrics: Metrics;
  /** Present when ALERTMANAGER_URL is set; startBot makes it, since the silence buttons use it too. */
  silences: SilencesClient | undefined;
  /** Signs the silence buttons' values; the buttons' handlers check them with the same one. */
  signer: ButtonSigner;
  kube?: Kube;
  /** The bot's one mover lookup (default: one made from `kube`). */
  moverPods?: MoverPodSource;
  slack: { app: App; client: WebClient; poster: ChannelPoster };
  hooks?: AlertHooks;
  /** Tests: a log reader other than the API server's (pods have no kubelet there). */
  readLog?: LogReader;
  /** Groups posted at once (default 16). */
  concurrency?: number;
  /** Diagnoses per group round (default 3). */
  maxDiagnoses?: number;
  /** Reconciling with Alertmanager runs on the leader only (default: this process is the leader). */
  leadership?: Leadership;
  /** How often the leader reconciles the threads with Alertmanager (default 5 min). */
  reconcileIntervalMs?: number;
  /** The backup watch's incidents, when it runs: alerts about a source link its incident thread and back. */
  incidents?: Pick<IncidentStore, 'all'>;
}

export interface Alerts {
  threads: AlertThreads;
  /** Present when ALERTMANAGER_URL is set. */
  silences?: SilencesClient;
  queue: NotificationQueue;
  store: ThreadStore;
  diagnoser: Diagnosing;
  /** Whether POST /alertmanager is mounted (it is not without ALERTMANAGER_WEBHOOK_TOKEN). */
  webhookMounted: boolean;
  /** For hooks created after startAlerts (e.g. by the window scheduler). */
  addHooks(h: AlertHooks): void;
  /** Resolves when nothing is queued or being posted. */
  idle(): Promise<void>;
  /** Present when ALERTMANAGER_URL is set. */
  reconciler?: Reconciler;
  /**
   * Stops taking notifications (the webhook answers 503, /readyz fails, so Alertmanager retries
   * elsewhere or later) and posts what was accepted until `graceMs` (default: the configured
   * shutdown grace) has passed; what is left then is found again by the next start's reconcile.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

/**
 * The diagnoser (pod facts, previous logs, the diagnosis reply) is imported on the first crash
 * alert, not at start: most of the bot's life no pod is crash-looping, and its code is held for
 * nothing until one does.
 */
function lazyDiagnoser(opts: DiagnoserOptions): Diagnosing {
  const load = lazy(async () => new (await import('./diagnoser.ts')).Diagnoser(opts));
  return { diagnose: async (req) => (await load()).diagnose(req), diagnoseBackup: async (target, labels) => (await load()).diagnoseBackup(target, labels) };
}

export function startAlerts(o: StartAlertsOptions): Alerts {
  const { config, log: parentLog, server, metrics, kube, slack } = o;
  const log = parentLog.child({ component: 'alerts' });
  const env = config.env;
  const hooks: AlertHooks[] = o.hooks ? [o.hooks] : [];
  const patterns = mergePatterns(parseCrashPatterns(config.alerts.patterns, 'alerts.patterns'), DEFAULT_PATTERNS);
  const crashPattern = new RegExp(config.alerts.watchPattern);
  const { silences, signer } = o;
  if (!silences) log.warn('ALERTMANAGER_URL is not set: alert threads get no silence buttons. Set it to your Alertmanager (e.g. http://alertmanager.monitoring:9093).');

  const moverPods = o.moverPods ?? (kube ? cachedMoverPods(kube) : undefined);
  const backup = new BackupFacts({ ...(moverPods ? { moverPods } : {}), windows: config.windows });
  const diagnoser = lazyDiagnoser({
    ...(kube ? { kube } : {}),
    patterns,
    backup,
    ...(silences ? { signer } : {}),
    buttonTtlMs: config.alerts.silenceButtonHours * 3600_000,
    ...(o.readLog ? { readLog: o.readLog } : {}),
    watch: watchSettings(config),
  });

  const store: ThreadStore = kube
    ? new ConfigMapThreadStore(kube, { namespace: botNamespace(kube), log })
    : new MemoryThreadStore();
  if (!kube) log.warn('no cluster: the alert group → thread map is kept in memory, so after a restart a group\'s next notification opens a new thread');

  const incidents = o.incidents ? incidentLinks(o.incidents, slack.client) : undefined;

  const queue = new NotificationQueue({ capacity: config.alerts.queueCapacity });
  const budget = new DiagnosisBudget({ perWindow: 5 });
  const counters = registerAlertMetrics(metrics, { queue, poster: slack.poster, store });
  const pipeline = new AlertPipeline({
    queue,
    log,
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    process: async (batch) => {
      await notifyGroup(batch, {
        poster: slack.poster,
        store,
        log,
        routes: config.alerts.routes,
        defaultChannel: config.alerts.channel,
        isCrashLoop: crashLoopMatcher(crashPattern),
        diagnoser,
        hooks: () => hooks,
        maxDiagnoses: o.maxDiagnoses ?? 3,
        budget,
        ...(incidents ? { incidents } : {}),
      });
    },
    onOutcome: (outcome) => counters.groups.inc({ outcome }),
  });

  let stopping = false;
  const seenReceivers = new Set<string>();
  if (!config.alerts.channel && config.alerts.routes.length === 0) {
    log.warn('alerts.channel is not set and there are no alerts.routes: POST /alertmanager is not mounted. Set alerts.channel to the channel alert threads go to.');
  } else if (!config.alerts.channel) {
    log.warn('alerts.channel is not set: alert groups that match no alerts.routes entry cannot be posted. Set alerts.channel as the default.');
  }
  const webhookMounted = (config.alerts.channel || config.alerts.routes.length > 0)
    ? mountWebhook({
      server,
      token: env.alertmanagerWebhookToken,
      log,
      offer: (p, at) => {
        if (seenReceivers.size < 32) seenReceivers.add(p.receiver.slice(0, 128));
        return queue.offer(p, at);
      },
      stopping: () => stopping,
      onOutcome: (outcome) => counters.webhook.inc({ outcome }),
    })
    : false;

  if (config.alerts.watchChannels.length > 0) {
    watchChannels({ app: slack.app, channels: config.alerts.watchChannels, pattern: crashPattern, diagnoser, poster: slack.poster, ...(kube ? { kube } : {}), log, hooks: () => hooks });
    log.info({ channels: config.alerts.watchChannels }, 'watching channels for crash-loop alerts other integrations post');
  }

  const reconciler = silences && webhookMounted
    ? new Reconciler({
      source: { alertGroups: () => silences.alertGroups(), webhookReceivers: () => silences.webhookReceivers(WEBHOOK_PATH) },
      store,
      offer: (p) => queue.offer(p),
      queueIdle: () => queue.depth === 0,
      seenReceivers,
      log,
      ...(o.reconcileIntervalMs ? { intervalMs: o.reconcileIntervalMs } : {}),
    })
    : undefined;
  if (reconciler) {
    if (o.leadership) o.leadership.onChange((leader) => reconciler.leader(leader));
    else reconciler.leader(true);
  }

  const threads: AlertThreads = {
    async postInThread(channel: string, threadTs: string, r: Reply) {
      await slack.poster.post({ channel, thread_ts: threadTs, ...renderBlocks(r), unfurl_links: false });
    },
  };

  return {
    threads,
    ...(silences ? { silences } : {}),
    queue,
    store,
    diagnoser,
    webhookMounted,
    addHooks: (h) => {
      hooks.push(h);
    },
    idle: () => pipeline.idle(),
    ...(reconciler ? { reconciler } : {}),
    async stop(opts = {}) {
      stopping = true;
      server.stopTakingWork('shutting down: posting the alerts already accepted, taking no new ones');
      reconciler?.stop();
      // Everything answered 200 is posted, as long as the termination grace period allows.
      const graceMs = opts.graceMs ?? config.env.shutdownGraceSeconds * 1000;
      const left = queue.depth;
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        pipeline.idle().then(() => true),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(false), graceMs); }),
      ]);
      clearTimeout(timer);
      if (left > 0 || !drained) {
        log.info({ drained, posted: left - queue.depth, left: queue.depth, graceMs }, drained
          ? 'posted every alert accepted before the shutdown'
          : 'shutdown grace period over with alerts still queued; the next start reconciles them with Alertmanager');
      }
      pipeline.stop();
      await store.flush().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not save the alert thread map on shutdown'));
    },
  };
}
