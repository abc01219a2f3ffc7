// Storm safety of the real bot process: a full queue answers 503 and the alert still arrives
// after the retry (ours, and a real Alertmanager's); a Slack that rate-limits harder than the
// bot paces gets its 429s answered after Retry-After, and every alert is delivered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postWebhook, webhookPayload } from '../harness/alert-payloads.ts';
import { alertmanagerSkipReason, startAlertmanager } from '../harness/alertmanager.ts';
import type { RunningAlertmanager } from '../harness/alertmanager.ts';
import { startBotProcess, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { freePort } from '../harness/kube/free-port.ts';
import { startSlackStandIn } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { stopAll } from '../harness/stop-all.ts';

const skip = alertmanagerSkipReason();
const CHANNEL = 'C0STORM01';
const TOKEN = 'backpressure-webhook-token-55aa';
const BOT_TOKEN = 'xoxb-test-backpressure-bot-token';

/** A crash-loop group whose key is also its namespace. */
const payload = (groupKey: string, pods: string[]) => webhookPayload({ groupKey, alertname: 'KubePodCrashLooping', namespace: groupKey, pods, labels: { container: 'app' } });

const text = (m: StoredMessage) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`;

describe('back-pressure and Slack rate limits, real bot process', { skip }, () => {
  let slack: SlackStandIn;
  let bot: BotProcess;
  let am: RunningAlertmanager;
  let port: number;

  const post = (b: string) => postWebhook(bot.url, TOKEN, b);
  // In a thread reply: a parent names its pods too, before anything about them is posted.
  const delivered = (pod: string) => slack.allMessages(CHANNEL).some((m) => m.thread_ts !== undefined && text(m).includes(pod));

  before(async () => {
    // Slack allows one post every 2 s here: stricter than the bot's 1.1 s pacing, so 429s happen.
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: 'bp-signing-secret', postMessagePerSecondPerChannel: 0.5 });
    port = await freePort();
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, webhookToken: TOKEN, groupWait: '500ms', groupInterval: '1s', groupBy: ['alertname', 'namespace'] });
    const file = writeBotConfig('bp', { alerts: { channel: CHANNEL, queueCapacity: 2 } });
    bot = await startBotProcess({
      SLACK_MODE: 'http', SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: 'bp-signing-secret', SLACK_API_URL: slack.apiUrl,
      PORT: String(port), ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, BACKUP_BOT_CONFIG: file,
    });
    await bot.waitForLine(/authenticated with Slack/);
  }, { timeout: 60_000 });

  after(() => stopAll(bot, am, slack));

  test('a full queue answers 503, and the refused alerts arrive after a retry: ours and Alertmanager\'s', { timeout: 120_000 }, async () => {
    assert.equal((await post(payload('g1', ['one-a', 'one-b']))).status, 200);
    // g1's two alerts fill the queue until they are posted (three posts at one per 2 s).
    const refused = await post(payload('g2', ['two-a']));
    assert.equal(refused.status, 503);
    assert.match(((await refused.json()) as { error: string }).error, /queue is full/);

    // Alertmanager meets the same 503 and retries on its own.
    await am.postAlerts([{ labels: { alertname: 'KubePodCrashLooping', namespace: 'g3', pod: 'three-a', container: 'app' }, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString() }]);
    await bot.waitForLine(/alert queue is full.*g3|g3.*alert queue is full/, 20_000);

    // Our retry: once the queue drains, the same notification is taken.
    await slack.waitFor(() => delivered('one-a') && delivered('one-b'), 60_000, 'g1 delivered');
    let status = 503;
    for (let i = 0; i < 60 && status === 503; i++) {
      status = (await post(payload('g2', ['two-a']))).status;
      if (status === 503) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, 200);
    await slack.waitFor(() => delivered('two-a') && delivered('three-a'), 60_000, 'g2 and g3 delivered');
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    assert.match(metrics, /backup_bot_alert_webhook_requests_total\{outcome="full"\} ([2-9]|\d\d)/);
  });

  test('every 429 was answered: the refused posts went through after Retry-After, none was dropped', async () => {
    const limited = slack.rateLimited('chat.postMessage');
    assert.ok(limited.length > 0, 'Slack rate-limited the bot at least once');
    assert.ok(limited.every((c) => (c.retryAfter ?? 0) >= 1));
    const accepted = slack.calls('chat.postMessage').filter((c) => c.status === 200);
    // Each group: a parent and a diagnosis per pod; nothing beyond that, and nothing missing.
    assert.equal(slack.messages(CHANNEL).length, 3);
    assert.equal(accepted.length, 3 + 4);
    // Accepted posts are at least the stand-in's 2 s apart: the bot waited, it did not hammer.
    const times = accepted.map((c) => c.at).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 2000 - 5, `posts ${i - 1} and ${i} ${times[i]! - times[i - 1]!} ms apart`);
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    const seen = Number(/backup_bot_slack_rate_limited_total (\d+)/.exec(metrics)?.[1]);
    const answered = Number(/backup_bot_slack_rate_limited_answered_total (\d+)/.exec(metrics)?.[1]);
    assert.equal(seen, limited.length, 'the bot counted every 429 it got');
    assert.ok(answered >= 1 && answered <= seen);
    assert.match(metrics, /backup_bot_alert_queue_depth 0/);
  });
});
