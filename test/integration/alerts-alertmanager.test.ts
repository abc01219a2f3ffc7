// Alerts in threads end to end: a real Alertmanager posts its webhook to the real bot process,
// which keeps its group → thread map in a real API server and posts to the Slack stand-in.
// Silences are made by clicking the buttons (signed interactions over HTTP) and checked in
// Alertmanager's own API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alertmanagerSkipReason, startAlertmanager } from '../harness/alertmanager.ts';
import type { RunningAlertmanager } from '../harness/alertmanager.ts';
import { startBotProcess, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { freePort } from '../harness/kube/free-port.ts';
import { buttonLabelled } from '../harness/slack/payloads.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { MERGE_PATCH } from '../../src/kube/client.ts';
import type { Kube } from '../../src/kube/client.ts';
import { stopAll } from '../harness/stop-all.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';

const amSkip = alertmanagerSkipReason();
const kubeSkip = await kubeUnavailableReason();
const skip = amSkip || kubeSkip;

const SECRETS = {
  botToken: 'xoxb-test-alerts-bot-token',
  signingSecret: 'alerts-it-signing-secret-91c2',
  webhookToken: 'alerts-it-webhook-token-3b7e',
};
const OPERATOR = 'U0OLIVE01';
const OTHER = 'U0NORA001';
const CHANNEL = 'C0ALERTS1';
const ROUTED = 'C0MEDIA01';
const STATE_NS = `bot-${process.pid}`;
const APP_NS = `media-${process.pid}`;
const HOUR = 3600_000;

function configFile(extra: Record<string, unknown> = {}): string {
  return writeBotConfig('alerts', {
    slack: { operators: { users: [OPERATOR] } },
    alerts: { channel: CHANNEL, routes: [{ match: { namespace: 'routed' }, channel: ROUTED }], ...extra },
    // A window that is not open now, so the buttons are the 1 h and 4 h ones whatever the hour.
    windows: [{ name: 'pbs', zone: 'UTC', days: ['mon'], start: '02:00', end: '02:01', transientPods: ['kube-scheduler-.*'] }],
  });
}

function crashAlert(pod: string, opts: { namespace?: string; resolved?: boolean } = {}) {
  const now = Date.now();
  return {
    labels: { alertname: 'KubePodCrashLooping', namespace: opts.namespace ?? APP_NS, pod, container: 'app', severity: 'warning' },
    annotations: { description: `Container app in pod ${pod} has restarted 7 times in the last hour.`, summary: 'Pod is crash looping.' },
    startsAt: new Date(now - 10 * 60_000).toISOString(),
    endsAt: new Date(opts.resolved ? now - 1000 : now + HOUR).toISOString(),
  };
}


const body = (m: StoredMessage) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}\n${JSON.stringify(m.attachments ?? [])}`;
const latest = (m: StoredMessage) => {
  const e = m.edits.at(-1);
  return e ? `${e.text}\n${JSON.stringify(e.blocks ?? [])}` : body(m);
};

describe('alerts in threads: real Alertmanager → bot → Slack stand-in', { skip }, () => {
  let kubeHarness: KubeHarness;
  let kube: Kube;
  let slack: SlackStandIn;
  let am: RunningAlertmanager;
  let bot: BotProcess;
  let port: number;
  let env: Record<string, string>;
  let parentTs: string;

  const startBot = async () => {
    bot = await startBotProcess(env);
    slack.setRequestUrl(`${bot.url}/slack/events`);
    await bot.waitForLine(/authenticated with Slack/);
  };
  const threadOf = () => slack.threadReplies(CHANNEL, parentTs);

  before(async () => {
    ({ harness: kubeHarness, kube } = await kubeWithNamespaces(STATE_NS, APP_NS));
    // The first alert's pod exists, crash-looping; the others do not (the diagnosis says so).
    await kube.core.createNamespacedPod({ namespace: APP_NS, body: { metadata: { name: 'api-7c9d8f6b5-aaaaa' }, spec: { containers: [{ name: 'app', image: 'ghcr.io/example/api:2.1' }] } } });
    await kube.core.patchNamespacedPodStatus({ name: 'api-7c9d8f6b5-aaaaa', namespace: APP_NS, body: { status: { phase: 'Running', containerStatuses: [{
      name: 'app', ready: false, restartCount: 9, image: 'ghcr.io/example/api:2.1', imageID: '',
      state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: new Date(Date.now() - 60_000).toISOString() } },
    }] } } }, MERGE_PATCH);

    slack = await startSlackStandIn({
      botToken: SECRETS.botToken,
      signingSecret: SECRETS.signingSecret,
      users: [{ id: OPERATOR, name: 'olive', tz: 'UTC' }, { id: OTHER, name: 'nora', tz: 'UTC' }],
    });
    port = await freePort();
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, webhookToken: SECRETS.webhookToken, groupWait: '1s', groupInterval: '2s', groupBy: ['alertname', 'namespace'] });
    env = {
      SLACK_MODE: 'http', SLACK_BOT_TOKEN: SECRETS.botToken, SLACK_SIGNING_SECRET: SECRETS.signingSecret, SLACK_API_URL: slack.apiUrl,
      PORT: String(port), KUBECONFIG: kubeHarness.kubeconfigPath, POD_NAMESPACE: STATE_NS,
      ALERTMANAGER_URL: am.url, ALERTMANAGER_WEBHOOK_TOKEN: SECRETS.webhookToken, BACKUP_BOT_CONFIG: configFile(),
    };
    await startBot();
  }, { timeout: 180_000 });

  after(() => stopAll(bot, am, slack, kubeHarness));

  test('a firing crash-loop alert opens one parent message with the diagnosis in its thread', async () => {
    await am.postAlerts([crashAlert('api-7c9d8f6b5-aaaaa')]);
    const [parent] = await slack.waitFor(() => { const m = slack.messages(CHANNEL); return m.length ? m : undefined; }, 20_000, 'a parent message');
    parentTs = parent!.ts;
    assert.match(body(parent!), /FIRING/);
    assert.match(body(parent!), new RegExp(`KubePodCrashLooping · namespace=${APP_NS}`));
    assert.equal((parent!.attachments?.[0] as { color?: string }).color, '#E01E5A');
    const [diag] = await slack.waitFor(() => { const r = threadOf(); return r.length ? r : undefined; }, 20_000, 'a diagnosis in the thread');
    const d = body(diag!);
    assert.match(d, /Application start-up failure \(exit code 1\)/);
    assert.match(d, /Restarts: \*9\*/);
    assert.match(d, /Silence 1 h/);
    assert.deepEqual(validateBlocks(diag!.blocks ?? []), []);
    // The parent says what and where: the pod, and the diagnosis' headline once known (updated in place).
    assert.match(body(parent!), new RegExp(`Pod: \`${APP_NS}/api-7c9d8f6b5-aaaaa\``));
    const updated = await slack.waitFor(() => { const p = slack.message(CHANNEL, parentTs)!; return /:mag: Application start-up failure \(exit code 1\)/.test(latest(p)) ? p : undefined; }, 10_000, 'the headline in the parent');
    assert.deepEqual(validateBlocks(updated.blocks ?? []), []);
    assert.match(updated.text, new RegExp(`— ${APP_NS}/api-7c9d8f6b5-aaaaa: Application start-up failure \\(exit code 1\\)`));
  });

  test('a second alert of the group goes into the same thread, and the parent is updated with the counts', async () => {
    await am.postAlerts([crashAlert('api-7c9d8f6b5-aaaaa'), crashAlert('worker-5f6d7c8b9-bbbbb')]);
    await slack.waitFor(() => threadOf().find((m) => /worker-5f6d7c8b9-bbbbb/.test(body(m))), 20_000, 'the second alert in the thread');
    assert.equal(slack.messages(CHANNEL).length, 1, 'still one parent');
    const parent = await slack.waitFor(() => { const p = slack.message(CHANNEL, parentTs)!; return /2 firing/.test(latest(p)) ? p : undefined; }, 10_000, 'the parent updated to 2 firing');
    assert.ok(parent.edits.length >= 1);
    assert.match(JSON.stringify(parent.attachments), /2 firing\* · 0 resolved/);
    // The first alert is not repeated: Alertmanager sends the whole group, the bot posts what changed.
    assert.equal(threadOf().filter((m) => /api-7c9d8f6b5-aaaaa/.test(body(m))).length, 1);
  });

  test('a group routed by label goes to its own channel', async () => {
    await am.postAlerts([crashAlert('plex-6b7c8d9e0-ccccc', { namespace: 'routed' })]);
    const [routed] = await slack.waitFor(() => { const m = slack.messages(ROUTED); return m.length ? m : undefined; }, 20_000, 'a parent in the routed channel');
    assert.match(body(routed!), /namespace=routed/);
    assert.equal(slack.messages(CHANNEL).length, 1);
  });

  test('a non-operator click on a silence button is refused, and no silence is made', async () => {
    const diag = threadOf().find((m) => /api-7c9d8f6b5-aaaaa/.test(body(m)))!;
    const sent = await slack.sendInteractionHttp({ blockAction: { action_id: buttonLabelled(diag, 'Silence 4 h').actionId, message: diag, user_id: OTHER, channel_id: CHANNEL } });
    assert.equal(sent.status, 200);
    const res = await slack.waitFor(() => slack.responses(sent.responseUrlId).find((r) => r.via === 'response_url'), 10_000, 'the refusal');
    assert.match(JSON.stringify(res.body), /Only operators can do that/);
    await bot.waitForLine(/"audit":true.*"action":"alerts silence".*"outcome":"denied"/);
    assert.equal((await am.silences().list({ activeOnly: true })).length, 0);
  });

  test('an operator\'s "Silence 1 h" makes an Alertmanager silence scoped to the alert\'s labels that mutes it, linked in the thread', async () => {
    const diag = threadOf().find((m) => /api-7c9d8f6b5-aaaaa/.test(body(m)))!;
    const before = threadOf().length;
    const sent = await slack.sendInteractionHttp({ blockAction: { action_id: buttonLabelled(diag, 'Silence 1 h').actionId, message: diag, user_id: OPERATOR, channel_id: CHANNEL } });
    assert.equal(sent.status, 200);
    const note = await slack.waitFor(() => threadOf().slice(before).find((m) => /silenced/i.test(m.text)), 10_000, 'the silence note in the thread');
    const [silence] = await am.silences().list({ activeOnly: true });
    assert.ok(silence, 'a silence exists in Alertmanager');
    assert.deepEqual(
      silence.matchers.map((m) => [m.name, m.value, m.isRegex, m.isEqual ?? true]).sort(),
      [['alertname', 'KubePodCrashLooping', false, true], ['container', 'app', false, true], ['namespace', APP_NS, false, true], ['pod', 'api-7c9d8f6b5-aaaaa', false, true]],
    );
    assert.match(silence.createdBy, new RegExp(`olive \\(Slack ${OPERATOR}\\)`));
    assert.match(silence.comment, new RegExp(`https://[^ ]+/archives/${CHANNEL}/p${parentTs.replace('.', '')}`));
    const hours = (Date.parse(silence.endsAt) - Date.parse(silence.startsAt)) / HOUR;
    assert.ok(Math.abs(hours - 1) < 0.01, `a 1 h silence, got ${hours} h`);
    assert.match(body(note), new RegExp(silence.id.slice(0, 8)));
    assert.match(body(note), new RegExp(`${am.url.replace(/[/.]/g, '\\$&')}/#/silences/${silence.id}`));
    assert.match(body(note), /Unsilence/);
    const muted = await slack.waitFor(async () => (await am.getAlerts({ labels: { pod: 'api-7c9d8f6b5-aaaaa' } })).find((a) => a.status.state === 'suppressed'), 10_000, 'the alert suppressed');
    assert.deepEqual(muted.status.silencedBy, [silence.id]);
    await bot.waitForLine(/"audit":true.*"action":"alerts silence".*"outcome":"succeeded"/);

    // Unsilence expires it, and the note loses its button.
    const again = await slack.sendInteractionHttp({ blockAction: { action_id: buttonLabelled(note, 'Unsilence').actionId, message: note, user_id: OPERATOR, channel_id: CHANNEL } });
    assert.equal(again.status, 200);
    await slack.waitFor(async () => (await am.silences().get(silence.id)).status.state === 'expired', 10_000, 'the silence expired');
    await slack.waitFor(() => /lifted the silence/.test(latest(slack.message(CHANNEL, note.ts)!)), 10_000, 'the note replaced');
  });

  test('a late click is refused: the buttons carry a signed expiry', async () => {
    const diag = threadOf().find((m) => /api-7c9d8f6b5-aaaaa/.test(body(m)))!;
    const id = buttonLabelled(diag, 'Silence 4 h').actionId;
    const original = ((diag.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>).flatMap((b) => b.elements ?? []).find((e) => e.action_id === id))!.value;
    // Moving the expiry breaks the signature; that is as far as a forged value gets.
    const [payload, mac] = original.split('.');
    const v = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { x: number };
    const forged = `${Buffer.from(JSON.stringify({ ...v, x: v.x + 3600 })).toString('base64url')}.${mac}`;
    const sent = await slack.sendInteractionHttp({ blockAction: { action_id: id, value: forged, message: diag, user_id: OPERATOR, channel_id: CHANNEL } });
    const res = await slack.waitFor(() => slack.responses(sent.responseUrlId).find((r) => r.via === 'response_url'), 10_000, 'the refusal');
    assert.match(JSON.stringify(res.body), /not one this bot made/);
    assert.equal((await am.silences().list({ activeOnly: true })).length, 0);
  });

  test('a resolved alert is reported in the thread and the parent shows it', async () => {
    await am.postAlerts([crashAlert('worker-5f6d7c8b9-bbbbb', { resolved: true })]);
    await slack.waitFor(() => threadOf().find((m) => /resolved/.test(m.text) && /worker-5f6d7c8b9-bbbbb/.test(body(m))), 20_000, 'the resolved note');
    await slack.waitFor(() => /1 firing\* · 1 resolved/.test(JSON.stringify(slack.message(CHANNEL, parentTs)!.attachments)), 10_000, 'the parent counts');
  });

  test('after a restart the group\'s next notification goes into the same thread (the map is in a ConfigMap)', async () => {
    const cm = await kube.core.readNamespacedConfigMap({ name: 'backup-bot-alert-threads', namespace: STATE_NS });
    assert.ok(Object.values(cm.data ?? {}).some((v) => v.includes(parentTs)), 'the thread is recorded in the cluster');
    assert.equal(await bot.stop(), 0);
    await startBot();
    await am.postAlerts([crashAlert('api-7c9d8f6b5-aaaaa'), crashAlert('cron-8d9e0f1a2-ddddd')]);
    await slack.waitFor(() => threadOf().find((m) => /cron-8d9e0f1a2-ddddd/.test(body(m))), 25_000, 'the third alert in the old thread');
    assert.equal(slack.messages(CHANNEL).length, 1, 'no second parent after the restart');
    assert.equal(threadOf().filter((m) => /api-7c9d8f6b5-aaaaa/.test(body(m)) && /Restarts/.test(body(m))).length, 1, 'the first alert is not diagnosed again');
    // The headline came back from the ConfigMap: the restarted bot's update still names the cause, and the pods firing now.
    const parent = await slack.waitFor(() => { const p = slack.message(CHANNEL, parentTs)!; return /cron-8d9e0f1a2-ddddd/.test(latest(p)) ? p : undefined; }, 10_000, 'the parent naming the new pod');
    assert.match(latest(parent), /:mag: Application start-up failure \(exit code 1\)/);
    const pods = /Pods?: ([^"]*)"/.exec(latest(parent))?.[1] ?? '';
    for (const pod of ['api-7c9d8f6b5-aaaaa', 'cron-8d9e0f1a2-ddddd']) assert.ok(pods.includes(`\`${APP_NS}/${pod}\``), `${pod} in: ${latest(parent)}`);
    assert.doesNotMatch(latest(parent), /worker-5f6d7c8b9-bbbbb/, 'a resolved pod is no longer named');
  });

  test('the webhook refuses a wrong token (401) and a bad payload (400); metrics show the queue', async () => {
    const url = `${bot.url}/alertmanager`;
    const wrong = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(wrong.status, 401);
    const bad = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${SECRETS.webhookToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ version: '4', alerts: 'no' }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /not an Alertmanager webhook payload/);
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    assert.match(metrics, /backup_bot_alert_queue_depth \d+/);
    assert.match(metrics, /backup_bot_alert_webhook_requests_total\{outcome="unauthorized"\} [1-9]/);
    assert.match(metrics, /backup_bot_alert_webhook_requests_total\{outcome="queued"\} [1-9]/);
  });

  test('no secret appears in the bot\'s log', () => {
    const out = bot.output();
    for (const [name, value] of Object.entries(SECRETS)) assert.ok(!out.includes(value), `${name} leaked into the log`);
  });
});
