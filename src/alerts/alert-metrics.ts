/** Alert-thread metrics on the bot's registry: queue depths, webhook outcomes, Slack 429s. */
import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../metrics.ts';
import type { ChannelPoster } from '../slack/poster.ts';
import type { NotificationQueue } from './notification-queue.ts';
import type { ThreadStore } from './thread-store.ts';

export interface AlertMetrics {
  webhook: Counter<'outcome'>;
  groups: Counter<'outcome'>;
}

export function registerAlertMetrics(metrics: Metrics, src: { queue: NotificationQueue; poster: ChannelPoster; store: ThreadStore }): AlertMetrics {
  const registers = [metrics.registry];
  new Gauge({ name: 'backup_bot_alert_queue_depth', help: 'Alerts received from Alertmanager and not yet posted (waiting or being posted)', registers, collect() { this.set(src.queue.depth); } });
  new Gauge({ name: 'backup_bot_alert_queue_capacity', help: 'Alerts the queue holds before the webhook answers 503', registers, collect() { this.set(src.queue.capacity); } });
  new Gauge({ name: 'backup_bot_slack_post_queue_depth', help: 'Slack messages and updates waiting in the per-channel queues', registers, collect() { this.set(src.poster.depth); } });
  new Gauge({ name: 'backup_bot_alert_threads', help: 'Alert groups with a known Slack thread', registers, collect() { this.set(src.store.size); } });
  let seen = 0;
  let answered = 0;
  new Counter({ name: 'backup_bot_slack_rate_limited_total', help: 'HTTP 429 answers from Slack', registers, collect() { const s = src.poster.stats().rateLimited; this.inc(s - seen); seen = s; } });
  new Counter({ name: 'backup_bot_slack_rate_limited_answered_total', help: 'Calls that got a 429 and went through after waiting Retry-After', registers, collect() { const s = src.poster.stats().rateLimitedAnswered; this.inc(s - answered); answered = s; } });
  return {
    webhook: new Counter({ name: 'backup_bot_alert_webhook_requests_total', help: 'POST /alertmanager requests by outcome (queued, unauthorized, invalid, full, stopping)', labelNames: ['outcome'] as const, registers }),
    groups: new Counter({ name: 'backup_bot_alert_group_rounds_total', help: 'Alert group posting rounds by outcome (posted, retried, undeliverable)', labelNames: ['outcome'] as const, registers }),
  };
}
