/**
 * The bounded queue between the webhook and Slack. Notifications are coalesced per alert group:
 * Alertmanager sends a group's whole current alert set every group_interval, so a group that is
 * still waiting holds one entry per alert (by fingerprint, newest state wins) however many
 * notifications arrived. Capacity is counted three ways over what is waiting or being posted:
 * alerts (a group with none still takes one place), groups, and bytes (labels and annotations are
 * unbounded text). When a notification would overflow any of them, offer() refuses and the webhook
 * answers 503 so Alertmanager retries: back-pressure instead of dropping. One notification larger
 * than a whole empty queue is cut to fit, like Alertmanager's own max_alerts, and the rest counted
 * in truncatedAlerts: it is never refused for ever, and never takes more than the queue holds.
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

/** What one alert costs in the byte budget: its serialized size (UTF-8), as the webhook carried it. */
export function alertBytes(a: WebhookAlert): number {
  return Buffer.byteLength(JSON.stringify(a), 'utf8');
}

/** What a group costs besides its alerts: its key and shared labels. */
function metaBytes(p: Pick<WebhookPayload, 'groupKey' | 'receiver' | 'groupLabels' | 'commonLabels' | 'commonAnnotations' | 'externalURL'>): number {
  return Buffer.byteLength(JSON.stringify([p.groupKey, p.receiver, p.groupLabels, p.commonLabels, p.commonAnnotations, p.externalURL]), 'utf8');
}

/** A group's cost in the alert count: its alerts, and at least one, so empty notifications are not free. */
function places(alerts: number): number {
  return Math.max(1, alerts);
}

export interface QueueLimits {
  /** Alerts waiting or being posted (a group without alerts counts one). */
  capacity: number;
  /** Groups waiting or being posted (default: capacity). */
  maxGroups?: number;
  /** Bytes of alerts and group metadata waiting or being posted (default 64 MiB). */
  maxBytes?: number;
}

export const DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024;

export interface OfferResult {
  accepted: boolean;
  /** Alerts waiting or in flight after the offer. */
  depth: number;
  /** Alerts of this notification left out because the group alone would not fit the queue. */
  truncated?: number;
  /** Which limit refused it. */
  full?: 'alerts' | 'groups' | 'bytes';
}

export class NotificationQueue {
  #capacity: number;
  #maxGroups: number;
  #maxBytes: number;
  /** Groups with work waiting, in arrival order (Map keeps insertion order). */
  #pending = new Map<string, GroupBatch>();
  /** Groups being posted right now, with what they cost. */
  #inFlight = new Map<string, { places: number; bytes: number }>();
  /** Groups whose retry is scheduled for later. */
  #notBefore = new Map<string, number>();
  /** What each waiting batch costs in bytes. */
  #batchBytes = new WeakMap<GroupBatch, number>();
  #pendingPlaces = 0;
  #inFlightPlaces = 0;
  #bytes = 0;
  #listeners: Array<() => void> = [];

  constructor(opts: QueueLimits) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) throw new RangeError('queue capacity must be a positive integer');
    this.#capacity = opts.capacity;
    this.#maxGroups = opts.maxGroups ?? opts.capacity;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_QUEUE_BYTES;
    if (!Number.isInteger(this.#maxGroups) || this.#maxGroups < 1) throw new RangeError('queue maxGroups must be a positive integer');
    if (!(this.#maxBytes >= 1024)) throw new RangeError('queue maxBytes must be at least 1024');
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Alerts waiting or being posted (a group without alerts counts one). */
  get depth(): number {
    return this.#pendingPlaces + this.#inFlightPlaces;
  }

  /** Bytes waiting or being posted. */
  get bytes(): number {
    return this.#bytes;
  }

  get pendingGroups(): number {
    return this.#pending.size;
  }

  /** Groups waiting or being posted. */
  get groups(): number {
    let n = this.#inFlight.size;
    for (const key of this.#pending.keys()) if (!this.#inFlight.has(key)) n++;
    return n;
  }

  /** Called whenever work may have become available. */
  onWork(listener: () => void): void {
    this.#listeners.push(listener);
  }

  offer(p: WebhookPayload, receivedAt = new Date()): OfferResult {
    const existing = this.#pending.get(p.groupKey);
    const known = this.#inFlight.has(p.groupKey) || existing !== undefined;
    // The batch as it would be after this notification: the group's alerts, newest state wins.
    const merged = new Map(existing?.alerts ?? []);
    const meta = metaBytes(p);
    let mergedBytes = meta;
    for (const a of merged.values()) mergedBytes += alertBytes(a);
    let truncated = 0;
    // Alone, one group may use the whole queue and no more: cut what does not fit (and say so).
    const othersPlaces = this.depth - (existing ? places(existing.alerts.size) : 0);
    const othersBytes = this.#bytes - (existing ? this.#batchBytes.get(existing) ?? 0 : 0);
    for (const a of p.alerts) {
      const size = alertBytes(a);
      const old = merged.get(a.fingerprint);
      if (old) {
        mergedBytes += size - alertBytes(old);
        merged.set(a.fingerprint, a);
        continue;
      }
      if (merged.size + 1 > this.#capacity || mergedBytes + size > this.#maxBytes) {
        truncated++;
        continue;
      }
      merged.set(a.fingerprint, a);
      mergedBytes += size;
    }
    const refuse = (full: OfferResult['full']): OfferResult => ({ accepted: false, depth: this.depth, full });
    if (!known && this.groups + 1 > this.#maxGroups) return refuse('groups');
    if (othersPlaces + places(merged.size) > this.#capacity) return refuse('alerts');
    if (othersBytes + mergedBytes > this.#maxBytes) return refuse('bytes');

    // The newest notification describes the group best.
    const latest = {
      receiver: p.receiver,
      status: p.status,
      groupLabels: p.groupLabels,
      commonLabels: p.commonLabels,
      commonAnnotations: p.commonAnnotations,
      externalURL: p.externalURL,
      truncatedAlerts: p.truncatedAlerts + truncated,
    };
    const batch: GroupBatch = existing ?? { groupKey: p.groupKey, ...latest, alerts: new Map(), receivedAt, attempts: 0 };
    const before = existing ? places(existing.alerts.size) : 0;
    const bytesBefore = existing ? this.#batchBytes.get(existing) ?? 0 : 0;
    Object.assign(batch, latest);
    batch.alerts = merged;
    this.#pendingPlaces += places(merged.size) - before;
    this.#bytes += mergedBytes - bytesBefore;
    this.#batchBytes.set(batch, mergedBytes);
    if (!existing) this.#pending.set(p.groupKey, batch);
    this.#notify();
    return { accepted: true, depth: this.depth, ...(truncated ? { truncated } : {}) };
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
      const cost = { places: places(batch.alerts.size), bytes: this.#batchBytes.get(batch) ?? 0 };
      this.#pendingPlaces -= cost.places;
      this.#inFlightPlaces += cost.places;
      this.#inFlight.set(key, cost);
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
      // Only alerts the queue already held come back, so the merged batch stays within the limits.
      const placesBefore = places(newer.alerts.size);
      let bytes = this.#batchBytes.get(newer) ?? 0;
      for (const [fp, a] of batch.alerts) {
        if (!newer.alerts.has(fp)) {
          newer.alerts.set(fp, a);
          bytes += alertBytes(a);
        }
      }
      this.#pendingPlaces += places(newer.alerts.size) - placesBefore;
      this.#bytes += bytes - (this.#batchBytes.get(newer) ?? 0);
      this.#batchBytes.set(newer, bytes);
      newer.receivedAt = batch.receivedAt;
      newer.attempts = Math.max(newer.attempts, batch.attempts + 1);
      // Keep the group's place: move it to the front by re-inserting the others after it.
      const rest = [...this.#pending].filter(([k]) => k !== batch.groupKey);
      this.#pending = new Map([[batch.groupKey, newer], ...rest]);
    } else {
      batch.attempts++;
      this.#pending = new Map([[batch.groupKey, batch], ...this.#pending]);
      this.#pendingPlaces += places(batch.alerts.size);
      this.#bytes += this.#batchBytes.get(batch) ?? 0;
    }
    this.#notBefore.set(batch.groupKey, now + delayMs);
    this.#notify();
  }

  #release(groupKey: string): void {
    const cost = this.#inFlight.get(groupKey);
    if (!cost) return;
    this.#inFlight.delete(groupKey);
    this.#inFlightPlaces -= cost.places;
    this.#bytes -= cost.bytes;
  }

  #notify(): void {
    for (const l of this.#listeners) l();
  }
}
