/**
 * Level-triggered delivery: Alertmanager does not resend a notification the bot answered 200 to,
 * so anything queued when the bot was killed (SIGKILL, OOM, node loss) would never be posted.
 * On start and periodically the leader compares the thread map with what Alertmanager holds
 * (GET /api/v2/alerts/groups) and queues what is missing: firing alerts the thread does not show
 * yet, and alerts the thread shows firing that Alertmanager no longer holds (they ended while the
 * bot was away). The queue and the notifier do the rest, so nothing is posted twice.
 */
import type { Logger } from 'pino';
import type { AlertGroup, WebhookAlert, WebhookPayload } from './alertmanager-types.ts';
import type { OfferResult } from './notification-queue.ts';
import type { ThreadRecord, ThreadStore } from './thread-store.ts';
import { alertKey, isWholeKey } from './thread-store.ts';

export interface ReconcileSource {
  alertGroups(): Promise<AlertGroup[]>;
  /** Receivers whose webhook points at the bot (from Alertmanager's configuration). */
  webhookReceivers?(): Promise<string[]>;
}

export interface ReconcileDeps {
  source: ReconcileSource;
  store: ThreadStore;
  offer(p: WebhookPayload): OfferResult;
  /** Nothing waiting or being posted: a busy queue is left alone (its rounds re-read the map anyway). */
  queueIdle(): boolean;
  /** Receivers the bot has had webhooks from. */
  seenReceivers: ReadonlySet<string>;
  log: Logger;
  /** Groups queued per run at most (default 50); the next run takes the rest. */
  maxGroups?: number;
  /**
   * Alerts younger than this are left to Alertmanager's own notification (its group_wait) so a
   * periodic run does not race it; 0 on the first run after a start, when nothing may be waiting.
   */
  minAgeMs?: number;
  now?: () => Date;
}

export interface ReconcileResult {
  /** Groups queued. */
  groups: number;
  /** Firing alerts the threads did not show. */
  missing: number;
  /** Alerts shown firing that Alertmanager no longer holds. */
  ended: number;
  /** Groups left for a later run (queue full or the per-run bound). */
  deferred: number;
  skipped?: 'queue-busy';
}

/** Alertmanager's own groupKey for a group of the root route: `{}:{a="1", b="2"}` (labels sorted, Go-quoted). */
export function rootGroupKey(labels: Record<string, string>): string {
  const parts = Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `{}:{${parts.join(', ')}}`;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  if (!a) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

const NO_END = '0001-01-01T00:00:00Z';

function firingAlert(a: AlertGroup['alerts'][number]): WebhookAlert {
  return {
    status: 'firing',
    labels: a.labels,
    annotations: a.annotations ?? {},
    startsAt: typeof a.startsAt === 'string' ? a.startsAt : NO_END,
    endsAt: NO_END,
    generatorURL: typeof a.generatorURL === 'string' ? a.generatorURL : '',
    fingerprint: a.fingerprint,
  };
}

function endedAlert(key: string, groupLabels: Record<string, string>, now: Date): WebhookAlert {
  return {
    status: 'resolved',
    labels: { ...groupLabels },
    annotations: { summary: 'ended while the bot was not running: Alertmanager no longer holds it' },
    startsAt: NO_END,
    endsAt: now.toISOString(),
    generatorURL: '',
    fingerprint: key,
  };
}

function commonLabels(alerts: WebhookAlert[], fallback: Record<string, string>): Record<string, string> {
  const [first, ...rest] = alerts.filter((a) => a.status === 'firing');
  if (!first) return { ...fallback };
  return Object.fromEntries(Object.entries(first.labels).filter(([k, v]) => rest.every((a) => a.labels[k] === v)));
}

export async function reconcileOnce(d: ReconcileDeps): Promise<ReconcileResult> {
  const now = d.now?.() ?? new Date();
  const result: ReconcileResult = { groups: 0, missing: 0, ended: 0, deferred: 0 };
  if (!d.queueIdle()) return { ...result, skipped: 'queue-busy' };
  // The map first, Alertmanager second: whatever the map shows was posted before Alertmanager
  // was asked, so an alert posted in between is never taken for one that ended.
  const records = (await d.store.all()).filter((r) => r.receiver !== undefined && r.groupLabels !== undefined && isWholeKey(r.groupKey));
  const groups = await d.source.alertGroups();
  let configured: string[] = [];
  try {
    configured = (await d.source.webhookReceivers?.()) ?? [];
  } catch (err) {
    d.log.debug({ err: (err as Error).message }, 'reconcile: could not read Alertmanager\'s receivers; using the ones seen');
  }
  // Receivers that deliver to this bot. Only their groups are reconciled: another receiver's
  // groups go elsewhere, and a group of another Alertmanager is never "ended" by this one.
  const ours = new Set([...configured, ...d.seenReceivers]);
  const amReceivers = new Set([...configured, ...groups.map((g) => g.receiver.name)]);
  for (const r of records) if (amReceivers.has(r.receiver!)) ours.add(r.receiver!);

  const recordFor = (receiver: string, labels: Record<string, string>): ThreadRecord | undefined =>
    records.filter((r) => r.receiver === receiver && sameLabels(r.groupLabels, labels)).sort((a, b) => b.updatedAt - a.updatedAt)[0];

  const work: WebhookPayload[] = [];
  const matched = new Set<ThreadRecord>();
  for (const g of groups) {
    if (!ours.has(g.receiver.name)) continue;
    const rec = recordFor(g.receiver.name, g.labels);
    if (rec) matched.add(rec);
    // Alertmanager notifies about active alerts only (silenced and inhibited ones are muted).
    const settled = (a: AlertGroup['alerts'][number]) => !d.minAgeMs || !(now.getTime() - Date.parse(a.startsAt) < d.minAgeMs);
    const missing = g.alerts.filter((a) => a.status?.state === 'active' && settled(a) && rec?.alerts[alertKey(a.fingerprint)] !== 'f').map(firingAlert);
    const held = new Set(g.alerts.map((a) => alertKey(a.fingerprint)));
    const ended = Object.entries(rec?.alerts ?? {}).filter(([k, s]) => s === 'f' && !held.has(k)).map(([k]) => endedAlert(k, g.labels, now));
    if (missing.length === 0 && ended.length === 0) continue;
    work.push(payloadFor(rec?.groupKey ?? rootGroupKey(g.labels), g.receiver.name, g.labels, [...missing, ...ended]));
  }
  // Threads still firing whose whole group is gone from Alertmanager: everything in them ended.
  for (const rec of records) {
    if (matched.has(rec) || !amReceivers.has(rec.receiver!)) continue;
    const ended = Object.entries(rec.alerts).filter(([, s]) => s === 'f').map(([k]) => endedAlert(k, rec.groupLabels!, now));
    if (ended.length) work.push(payloadFor(rec.groupKey, rec.receiver!, rec.groupLabels!, ended));
  }

  const max = d.maxGroups ?? 50;
  for (const p of work) {
    if (result.groups >= max || !d.offer(p).accepted) {
      result.deferred++;
      continue;
    }
    result.groups++;
    result.missing += p.alerts.filter((a) => a.status === 'firing').length;
    result.ended += p.alerts.filter((a) => a.status === 'resolved').length;
  }
  return result;
}

function payloadFor(groupKey: string, receiver: string, groupLabels: Record<string, string>, alerts: WebhookAlert[]): WebhookPayload {
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels,
    commonLabels: commonLabels(alerts, groupLabels),
    commonAnnotations: {},
    externalURL: '',
    alerts,
  };
}

/**
 * Runs reconcileOnce on the leader: soon after it becomes leader (a restart), then every
 * `intervalMs`. One run at a time; a failed run is logged and the next one tries again.
 */
export class Reconciler {
  #d: ReconcileDeps & { intervalMs: number; firstDelayMs: number };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #leader = false;
  #stopped = false;
  #runs = 0;

  constructor(d: ReconcileDeps & { intervalMs?: number; firstDelayMs?: number }) {
    this.#d = { ...d, intervalMs: d.intervalMs ?? 5 * 60_000, firstDelayMs: d.firstDelayMs ?? 2000 };
  }

  /** Leadership changed: start (soon) or stop the periodic runs. */
  leader(isLeader: boolean): void {
    if (this.#stopped || isLeader === this.#leader) return;
    this.#leader = isLeader;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (isLeader) this.#arm(this.#d.firstDelayMs);
  }

  /** One run now (tests, and the timer). */
  async run(): Promise<ReconcileResult | undefined> {
    if (this.#running) return undefined;
    // The first run after a start catches up on everything; later ones leave the youngest alerts to Alertmanager.
    const run = reconcileOnce({ ...this.#d, minAgeMs: this.#runs++ === 0 ? 0 : this.#d.minAgeMs ?? 120_000 });
    this.#running = run;
    try {
      const r = await run;
      if (r.groups || r.deferred) this.#d.log.info(r, 'reconciled the alert threads with Alertmanager: queued what was missing');
      else this.#d.log.debug(r, 'reconciled the alert threads with Alertmanager: nothing missing');
      return r;
    } catch (err) {
      this.#d.log.warn({ err: (err as Error).message }, 'could not reconcile the alert threads with Alertmanager; will try again');
      return undefined;
    } finally {
      this.#running = undefined;
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.run().finally(() => {
        if (this.#leader && !this.#stopped) this.#arm(this.#d.intervalMs);
      });
    }, ms);
    this.#timer.unref();
  }
}
