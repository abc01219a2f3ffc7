// Nothing answered 200 is lost: the real bot process stopped with a full queue posts all of it
// (taking no new work meanwhile), and a bot SIGKILLed in the middle of a 300-alert storm from a
// real Alertmanager posts every firing alert after its restart, by reconciling with Alertmanager.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postTargetDownAlerts, postWebhook, targetDownPayload as payload } from '../harness/alert-payloads.ts';
import { alertmanagerSkipReason, startAlertmanager } from '../harness/alertmanager.ts';
import type { RunningAlertmanager } from '../harness/alertmanager.ts';
import { startHttpBot, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { freePort } from '../harness/kube/free-port.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';
import { startSlackStandIn } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { stopAll } from '../harness/stop-all.ts';

const CHANNEL = 'C0DELIVER';
const TOKEN = 'delivery-webhook-token-7c1d';
const BOT_TOKEN = 'xoxb-test-delivery-bot-token';
const SIGNING = 'delivery-signing-secret-42';

const text = (m: StoredMessage) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`;

const configFile = () => writeBotConfig('delivery', { alerts: { channel: CHANNEL } });

/** Pods named in the channel's thread replies (a parent names only a few pods, so it proves nothing delivered). */
function podsPosted(slack: SlackStandIn, pods: string[]): { posted: Set<string>; mentions: Map<string, number> } {
  const all = slack.allMessages(CHANNEL).filter((m) => m.thread_ts !== undefined).map(text);
  const mentions = new Map<string, number>();
  for (const pod of pods) mentions.set(pod, all.filter((t) => new RegExp(`${pod}(?![0-9])`).test(t)).length);
  return { posted: new Set(pods.filter((p) => mentions.get(p)! > 0)), mentions };
}

function exited(bot: BotProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (bot.child.exitCode !== null || bot.child.signalCode !== null) return Promise.resolve({ code: bot.child.exitCode, signal: bot.child.signalCode });
  return new Promise((resolve) => bot.child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('stop() with a full queue, real bot process', () => {
  let slack: SlackStandIn;
  let bot: BotProcess;

  before(async () => {
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING });
    bot = await startHttpBot(slack, { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, BACKUP_BOT_CONFIG: configFile(), SHUTDOWN_GRACE_SECONDS: '90' });
  }, { timeout: 60_000 });

  after(() => stopAll(bot, slack));

  test('SIGTERM: readiness off and 503 for new notifications, every accepted alert posted, then exit 0', { timeout: 150_000 }, async () => {
    const post = (b: string) => postWebhook(bot.url, TOKEN, b);
    // 30 webhooks answered 200: 6 groups, one new alert each time (Alertmanager resends the group's whole set).
    const pods = await postTargetDownAlerts(bot.url, TOKEN, 30, 6);
    const done = exited(bot);
    bot.child.kill('SIGTERM');
    await bot.waitForLine(/shutting down/, 10_000);
    const refused = await post(payload('late', ['late-pod0']));
    assert.equal(refused.status, 503, 'a stopping bot takes no new notifications: Alertmanager retries them');
    assert.equal((await fetch(`${bot.url}/readyz`)).status, 503, 'and is not ready, so the Service sends them elsewhere');
    const { code } = await done;
    assert.equal(code, 0);
    const { posted } = podsPosted(slack, pods);
    const lost = pods.length - posted.size;
    console.log(`fault: SIGTERM with a full queue: ${pods.length} accepted, ${lost} lost`);
    assert.equal(lost, 0, `not posted: ${pods.filter((p) => !posted.has(p)).join(', ')}`);
    assert.equal(slack.messages(CHANNEL).length, 6, 'one parent per group');
  });
});

const skip = alertmanagerSkipReason() || (await kubeUnavailableReason());

describe('SIGKILL in the middle of an alert storm, then restart: real Alertmanager, API server and bot', { skip }, () => {
  const STATE_NS = `delivery-${process.pid}`;
  let slack: SlackStandIn;
  let am: RunningAlertmanager;
  let harness: KubeHarness;
  let bot: BotProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    ({ harness } = await kubeWithNamespaces(STATE_NS));
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING });
    const port = await freePort();
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, webhookToken: TOKEN, groupWait: '500ms', groupInterval: '1h', repeatInterval: '4h', groupBy: ['alertname', 'namespace'] });
    env = {
      PORT: String(port), KUBECONFIG: harness.kubeconfigPath, POD_NAMESPACE: STATE_NS,
      ALERTMANAGER_URL: am.url, ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, BACKUP_BOT_CONFIG: configFile(),
    };
    bot = await startHttpBot(slack, env);
  }, { timeout: 180_000 });

  after(() => stopAll(bot, am, slack, harness));

  test('every firing alert ends up posted (target: 0 lost), each group in one thread', { timeout: 240_000 }, async () => {
    const pods: string[] = [];
    const alerts = [];
    for (let n = 0; n < 10; n++) {
      for (let i = 0; i < 30; i++) {
        const pod = `storm${n}-pod${i}`;
        pods.push(pod);
        alerts.push({ labels: { alertname: 'TargetDown', namespace: `storm${n}`, pod }, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString() });
      }
    }
    await am.postAlerts(alerts);
    // Alertmanager delivers the ten groups at once and the bot answers 200 to each; it has posted a few when it dies.
    await slack.waitFor(() => (podsPosted(slack, pods).posted.size >= 30 ? true : undefined), 60_000, 'the storm has started posting');
    const done = exited(bot!);
    bot!.child.kill('SIGKILL');
    await done;
    const before = podsPosted(slack, pods).posted.size;
    assert.ok(before < pods.length, `the kill came mid-storm (${before} of ${pods.length} posted)`);

    bot = await startHttpBot(slack, env);
    let lost = pods.length;
    try {
      await slack.waitFor(() => (podsPosted(slack, pods).posted.size === pods.length ? true : undefined), 150_000, 'every alert posted after the restart');
    } finally {
      const { posted, mentions } = podsPosted(slack, pods);
      lost = pods.length - posted.size;
      const repeated = [...mentions.values()].filter((n) => n > 1).length;
      console.log(`fault: SIGKILL mid-storm: ${pods.length} sent, ${lost} lost (${before} posted before the kill; ${repeated} alerts listed twice)`);
    }
    assert.equal(lost, 0);
    const parents = slack.messages(CHANNEL).map(text);
    for (let n = 0; n < 10; n++) {
      assert.ok(parents.filter((t) => t.includes(`namespace=storm${n}`)).length >= 1, `group storm${n} has a parent`);
    }
  });
});
