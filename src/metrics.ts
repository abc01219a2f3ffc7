/** Prometheus metrics, one registry per bot instance (tests run several bots in one process). */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  registry = new Registry();
  commands = new Counter({ name: 'backup_bot_commands_total', help: 'Slash commands handled, by command, verb and outcome', labelNames: ['command', 'verb', 'outcome'] as const, registers: [this.registry] });
  slackRequestsRejected = new Counter({ name: 'backup_bot_slack_requests_rejected_total', help: 'HTTP requests to /slack/events rejected by signature or timestamp checks', labelNames: ['reason'] as const, registers: [this.registry] });
  slackWorkRefused = new Counter({ name: 'backup_bot_slack_work_refused_total', help: 'Verified Slack requests whose work was not run: the queue was full (busy) or the bot was stopping; the user was told', labelNames: ['kind', 'reason'] as const, registers: [this.registry] });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
