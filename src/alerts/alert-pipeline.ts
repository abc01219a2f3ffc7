/**
 * Drains the notification queue: several groups at once (the poster keeps each channel at its
 * pace), one round per group at a time. A round that fails for a passing reason (Slack or the
 * network down) goes back to the queue and is retried with back-off for as long as it takes;
 * one that can never succeed (the bot is not in the channel, no channel configured) is logged
 * with what to fix and counted.
 */
import type { Logger } from 'pino';
import type { GroupBatch, NotificationQueue } from './notification-queue.ts';
import { GroupBusy, UnroutableGroup } from './group-notifier.ts';

/** Slack errors that no retry will fix. */
const PERMANENT_SLACK_ERRORS = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'account_inactive', 'token_revoked',
  'missing_scope', 'invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'no_text', 'restricted_action',
  'not_authed', 'team_access_not_granted', 'invalid_attachments',
]);

export function slackErrorCode(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

export function isPermanent(err: unknown): boolean {
  if (err instanceof UnroutableGroup) return true;
  const code = slackErrorCode(err);
  return code !== undefined && PERMANENT_SLACK_ERRORS.has(code);
}

export interface PipelineOptions {
  queue: NotificationQueue;
  process: (b: GroupBatch) => Promise<void>;
  log: Logger;
  /** Groups posted at once (default 16). */
  concurrency?: number;
  /** Retry back-off: min(maxDelayMs, baseDelayMs * 2^attempts). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  onOutcome?: (o: 'posted' | 'retried' | 'undeliverable', b: GroupBatch) => void;
}

export class AlertPipeline {
  #o: PipelineOptions;
  #active = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #idle: Array<() => void> = [];

  constructor(o: PipelineOptions) {
    this.#o = o;
    o.queue.onWork(() => this.#pump());
  }

  get active(): number {
    return this.#active;
  }

  /** Resolves when nothing is queued or being posted (tests, the storm bench, shutdown). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #isIdle(): boolean {
    return this.#active === 0 && this.#o.queue.depth === 0;
  }

  #pump(): void {
    if (this.#stopped) return;
    const limit = this.#o.concurrency ?? 16;
    while (this.#active < limit) {
      const batch = this.#o.queue.take();
      if (!batch) break;
      this.#active++;
      void this.#run(batch).finally(() => {
        this.#active--;
        this.#pump();
        if (this.#isIdle()) for (const done of this.#idle.splice(0)) done();
      });
    }
    this.#armRetryTimer();
  }

  #armRetryTimer(): void {
    const at = this.#o.queue.nextRetryAt();
    if (at === undefined || this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.max(0, at - Date.now()) + 5);
    this.#timer.unref();
  }

  async #run(batch: GroupBatch): Promise<void> {
    const { queue, log } = this.#o;
    try {
      await this.#o.process(batch);
      queue.done(batch);
      this.#o.onOutcome?.('posted', batch);
    } catch (err) {
      if (isPermanent(err)) {
        log.error({ err: (err as Error).message, slackError: slackErrorCode(err), groupKey: batch.groupKey.slice(0, 200), alerts: batch.alerts.size },
          'cannot deliver an alert group to Slack, and retrying will not help: invite the bot to the channel, or fix alerts.channel / alerts.routes');
        queue.done(batch);
        this.#o.onOutcome?.('undeliverable', batch);
        return;
      }
      if (err instanceof GroupBusy) {
        // Another replica is posting the same notification (HA Alertmanager pairs send it to both): look again shortly.
        log.debug({ groupKey: batch.groupKey.slice(0, 200) }, err.message);
        queue.retry(batch, 500 + Math.floor(Math.random() * 1000));
        this.#o.onOutcome?.('retried', batch);
        return;
      }
      const delay = Math.min(this.#o.maxDelayMs ?? 60_000, (this.#o.baseDelayMs ?? 1000) * 2 ** Math.min(batch.attempts, 10));
      log.warn({ err: (err as Error).message, groupKey: batch.groupKey.slice(0, 200), attempt: batch.attempts + 1, retryInMs: delay }, 'could not post an alert group; will retry');
      queue.retry(batch, delay);
      this.#o.onOutcome?.('retried', batch);
    }
  }
}
