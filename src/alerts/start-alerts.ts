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
import { mountWebhook } from './webhook-route.ts';
import type { ThreadStore } from './thread-store.ts';
import { ConfigMapThreadStore, MemoryThreadStore } from './thread-store.ts';
import { BackupActivity } from './backup-activity.ts';
import type { ButtonSigner } from './button-values.ts';
import { Diagnoser } from './diagnoser.ts';
import type { LogReader } from './pod-log.ts';
import { crashLoopMatcher, DiagnosisBudget, notifyGroup } from './group-notifier.ts';
import { AlertPipeline } from './alert-pipeline.ts';
import { watchChannels } from './channel-watch.ts';
import { registerAlertMetrics } from './alert-metrics.ts';

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
  slack: { app: App; client: WebClient; poster: ChannelPoster };
  hooks?: AlertHooks;
  /** Tests: a log reader other than the API server's (pods have no kubelet there). */
  readLog?: LogReader;
  /** Groups posted at once (default 16). */
  concurrency?: number;
  /** Diagnoses per group round (default 3). */
  maxDiagnoses?: number;
}

export interface Alerts {
  threads: AlertThreads;
  /** Present when ALERTMANAGER_URL is set. */
  silences?: SilencesClient;
  queue: NotificationQueue;
  store: ThreadStore;
  diagnoser: Diagnoser;
  /** Whether POST /alertmanager is mounted (it is not without ALERTMANAGER_WEBHOOK_TOKEN). */
  webhookMounted: boolean;
  /** For hooks created after startAlerts (e.g. by the window scheduler). */
  addHooks(h: AlertHooks): void;
  /** Resolves when nothing is queued or being posted. */
  idle(): Promise<void>;
  stop(): Promise<void>;
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

  const activity = new BackupActivity({ ...(kube ? { kube } : {}), windows: config.windows });
  const diagnoser = new Diagnoser({
    ...(kube ? { kube } : {}),
    patterns,
    activity,
    ...(silences ? { signer } : {}),
    buttonTtlMs: config.alerts.silenceButtonHours * 3600_000,
    ...(o.readLog ? { readLog: o.readLog } : {}),
  });

  const store: ThreadStore = kube
    ? new ConfigMapThreadStore(kube, { namespace: botNamespace(kube), log })
    : new MemoryThreadStore();
  if (!kube) log.warn('no cluster: the alert group → thread map is kept in memory, so after a restart a group\'s next notification opens a new thread');

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
      });
    },
    onOutcome: (outcome) => counters.groups.inc({ outcome }),
  });

  let stopping = false;
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
      offer: (p, at) => queue.offer(p, at),
      stopping: () => stopping,
      onOutcome: (outcome) => counters.webhook.inc({ outcome }),
    })
    : false;

  if (config.alerts.watchChannels.length > 0) {
    watchChannels({ app: slack.app, channels: config.alerts.watchChannels, pattern: crashPattern, diagnoser, poster: slack.poster, ...(kube ? { kube } : {}), log, hooks: () => hooks });
    log.info({ channels: config.alerts.watchChannels }, 'watching channels for crash-loop alerts other integrations post');
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
    async stop() {
      stopping = true;
      // Give rounds under way a moment to finish, so their threads are recorded, then save the map.
      await Promise.race([pipeline.idle(), new Promise((r) => setTimeout(r, 3000).unref())]);
      pipeline.stop();
      await store.flush().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not save the alert thread map on shutdown'));
    },
  };
}
