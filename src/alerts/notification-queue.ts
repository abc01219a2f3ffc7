/**
 * The bounded queue between the webhook and Slack. Notifications are coalesced per alert group:
 * Alertmanager sends a group's whole current alert set every group_interval, so a group that is
 * still waiting holds one entry per alert (by fingerprint, newest state wins) however many
 * notifications arrived. Capacity counts alerts waiting or being posted; when a notification
 * would overflow it, offer() refuses and the webhook answers 503 so Alertmanager retries:
 * back-pressure instead of dropping.
 */
import type { WebhookAlert, WebhookPayload } from './alertmanager-types.ts';

/** What a group needs for one round of posting: its latest metadata and the alerts that changed since the last round. */
export interface GroupBatch {
  groupKey: string;
  receiver: string;
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  truncatedAlerts: number;
  /** By fingerprint. */
  alerts: Map<string, WebhookAlert>;
  /** When the first notification in this batch arrived. */
  receivedAt: Date;
  /** Rounds this batch has been tried (for retry back-off). */
  attempts: number;
}

export interface OfferResult {
  accepted: boolean;
  /** Alerts waiting or in flight after the offer. */
  depth: number;
}

export class NotificationQueue {
  #capacity: number;
  /** Groups with work waiting, in arrival order (Map keeps insertion order). */
  #pending = new Map<string, GroupBatch>();
  /** Groups being posted right now, with how many alerts they hold. */
  #inFlight = new Map<string, number>();
  /** Groups whose retry is scheduled for later. */
  #notBefore = new Map<string, number>();
  #pendingAlerts = 0;
  #inFlightAlerts = 0;
  #listeners: Array<() => void> = [];

  constructor(opts: { capacity: number }) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) throw new RangeError('queue capacity must be a positive integer');
    this.#capacity = opts.capacity;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Alerts waiting or being posted. */
  get depth(): number {
    return this.#pendingAlerts + this.#inFlightAlerts;
  }

  get pendingGroups(): number {
    return this.#pending.size;
  }

  /** Called whenever work may have become available. */
  onWork(listener: () => void): void {
    this.#listeners.push(listener);
  }

  offer(p: WebhookPayload, receivedAt = new Date()): OfferResult {
    const existing = this.#pending.get(p.groupKey);
    const fresh = p.alerts.filter((a) => !existing?.alerts.has(a.fingerprint)).length;
    // An empty queue takes any notification, however large, so one big group cannot be refused for ever.
    if (this.depth > 0 && this.depth + fresh > this.#capacity) return { accepted: false, depth: this.depth };
    // The newest notification describes the group best.
    const latest = {
      receiver: p.receiver,
      status: p.status,
      groupLabels: p.groupLabels,
      commonLabels: p.commonLabels,
      commonAnnotations: p.commonAnnotations,
      externalURL: p.externalURL,
      truncatedAlerts: p.truncatedAlerts,
    };
    const batch: GroupBatch = existing ?? { groupKey: p.groupKey, ...latest, alerts: new Map(), receivedAt, attempts: 0 };
    Object.assign(batch, latest);
    for (const a of p.alerts) batch.alerts.set(a.fingerprint, a);
    this.#pendingAlerts += fresh;
    if (!existing) this.#pending.set(p.groupKey, batch);
    this.#notify();
    return { accepted: true, depth: this.depth };
  }

  /**
   * The oldest group that has work and is not already being posted (one round per group at a
   * time keeps a thread's messages in order). The caller must call done() or retry() with it.
   */
  take(now = Date.now()): GroupBatch | undefined {
    for (const [key, batch] of this.#pending) {
      if (this.#inFlight.has(key)) continue;
      const notBefore = this.#notBefore.get(key);
      if (notBefore !== undefined && notBefore > now) continue;
      this.#notBefore.delete(key);
      this.#pending.delete(key);
      this.#pendingAlerts -= batch.alerts.size;
      this.#inFlight.set(key, batch.alerts.size);
      this.#inFlightAlerts += batch.alerts.size;
      return batch;
    }
    return undefined;
  }

  /** When the next delayed group becomes available, if any is waiting only on its delay. */
  nextRetryAt(): number | undefined {
    let next: number | undefined;
    for (const [key, at] of this.#notBefore) {
      if (this.#pending.has(key) && !this.#inFlight.has(key)) next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  done(batch: GroupBatch): void {
    this.#release(batch.groupKey);
    this.#notify();
  }

  /**
   * Puts a batch that could not be posted back, under whatever arrived for the group meanwhile
   * (newer alert states win), to be tried again after `delayMs`.
   */
  retry(batch: GroupBatch, delayMs: number, now = Date.now()): void {
    this.#release(batch.groupKey);
    const newer = this.#pending.get(batch.groupKey);
    if (newer) {
      for (const [fp, a] of batch.alerts) {
        if (!newer.alerts.has(fp)) {
          newer.alerts.set(fp, a);
          this.#pendingAlerts++;
        }
      }
      newer.receivedAt = batch.receivedAt;
      newer.attempts = Math.max(newer.attempts, batch.attempts + 1);
      // Keep the group's place: move it to the front by re-inserting the others after it.
      const rest = [...this.#pending].filter(([k]) => k !== batch.groupKey);
      this.#pending = new Map([[batch.groupKey, newer], ...rest]);
    } else {
      batch.attempts++;
      this.#pending = new Map([[batch.groupKey, batch], ...this.#pending]);
      this.#pendingAlerts += batch.alerts.size;
    }
    this.#notBefore.set(batch.groupKey, now + delayMs);
    this.#notify();
  }

  #release(groupKey: string): void {
    const n = this.#inFlight.get(groupKey) ?? 0;
    this.#inFlight.delete(groupKey);
    this.#inFlightAlerts -= n;
  }

  #notify(): void {
    for (const l of this.#listeners) l();
  }
}
