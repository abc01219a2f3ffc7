/**
 * Alert storm: 1,000 crash-loop alerts in 60 seconds, through a real Alertmanager (default) or
 * straight to the webhook (--direct, one POST per alert), into the real bot process, with the
 * Slack stand-in allowing one chat.postMessage per second per channel (HTTP 429 + Retry-After
 * otherwise). Prints one line per figure, each with a ratio against its reference.
 *
 *   node bench/storm.ts [--direct] [--alerts 1000] [--seconds 60] [--namespaces 20] [--slack-rate 1]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findAlertmanagerBinary, startAlertmanager } from '../test/harness/alertmanager.ts';
import type { RunningAlertmanager } from '../test/harness/alertmanager.ts';
import { startBotProcess } from '../test/harness/bot-process.ts';
import { freePort } from '../test/harness/kube/free-port.ts';
import { startSlackStandIn } from '../test/harness/slack/slack-stand-in.ts';
import { benchFlags } from './args.ts';

const args = benchFlags({ numbers: { alerts: 1000, seconds: 60, namespaces: 20, 'slack-rate': 1 }, switches: ['direct'] });
const ALERTS = args.alerts;
const SECONDS = args.seconds;
const NAMESPACES = args.namespaces;
const SLACK_RATE = args['slack-rate'];
const CHANNELS = ['C0STORMA1', 'C0STORMB1', 'C0STORMC1'];
const TOKEN = 'storm-bench-webhook-token';
const BOT_TOKEN = 'xoxb-7000000001-7000000002-stormbenchbottoken';
const SIGNING = 'storm-bench-signing-secret';
const DRAIN_TIMEOUT_MS = 15 * 60_000;

const direct = args.direct || !findAlertmanagerBinary();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ns = (i: number) => `ns-${String(i % NAMESPACES).padStart(2, '0')}`;
const pod = (i: number) => `app-${String(i).padStart(4, '0')}-7c9d8f6b5-x${(i * 7919).toString(36).slice(-4).padStart(4, '0')}`;
const line = (name: string, value: string, ratio: number, reference: string) =>
  console.log(`${name.padEnd(34)} ${value.padEnd(22)} ratio ${ratio.toFixed(3)} (${reference})`);

function payloadFor(i: number): string {
  const labels = { alertname: 'KubePodCrashLooping', namespace: ns(i), pod: pod(i), container: 'app', severity: 'warning' };
  return JSON.stringify({
    version: '4', groupKey: `{}:{alertname="KubePodCrashLooping", namespace="${ns(i)}"}`, truncatedAlerts: 0, status: 'firing', receiver: 'bot',
    groupLabels: { alertname: 'KubePodCrashLooping', namespace: ns(i) }, commonLabels: labels, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093',
    alerts: [{ status: 'firing', labels, annotations: { summary: 'Pod is crash looping.' }, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: `fp${i}` }],
  });
}

async function main(): Promise<void> {
  const slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING, postMessagePerSecondPerChannel: SLACK_RATE });
  const port = await freePort();
  let am: RunningAlertmanager | undefined;
  if (!direct) {
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, webhookToken: TOKEN, groupWait: '1s', groupInterval: '5s', groupBy: ['alertname', 'namespace'] });
  }
  const file = join(mkdtempSync(join(tmpdir(), 'bb-storm-')), 'backup-bot.yaml');
  writeFileSync(file, stringify({
    alerts: {
      channel: CHANNELS[0],
      routes: Array.from({ length: NAMESPACES }, (_, i) => ({ match: { namespace: ns(i) }, channel: CHANNELS[i % CHANNELS.length] })),
    },
  }));
  const bot = await startBotProcess({
    SLACK_MODE: 'http', SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING, SLACK_API_URL: slack.apiUrl, PORT: String(port),
    ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, ...(am ? { ALERTMANAGER_URL: am.url } : {}), BACKUP_BOT_CONFIG: file, LOG_LEVEL: 'info',
  });
  await bot.waitForLine(/authenticated with Slack/);
  await sleep(500);

  console.log(`storm: ${ALERTS} alerts in ${SECONDS} s over ${NAMESPACES} namespaces (= alert groups) and ${CHANNELS.length} channels, ${direct ? 'straight to the webhook, one POST per alert' : 'through a real Alertmanager (group_wait 1s, group_interval 5s)'}; Slack allows ${SLACK_RATE} post/s/channel`);
  const t0 = Date.now();
  let sent = 0;
  let webhook503 = 0;
  const perTick = Math.ceil(ALERTS / (SECONDS * 2));
  while (sent < ALERTS) {
    const due = t0 + (sent / ALERTS) * SECONDS * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    const batch = Array.from({ length: Math.min(perTick, ALERTS - sent) }, (_, k) => sent + k);
    if (am) {
      await am.postAlerts(batch.map((i) => ({
        labels: { alertname: 'KubePodCrashLooping', namespace: ns(i), pod: pod(i), container: 'app', severity: 'warning' },
        annotations: { summary: 'Pod is crash looping.' },
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
      })));
    } else {
      await Promise.all(batch.map(async (i) => {
        // The webhook's own retry contract: 503 means "try again", as Alertmanager does.
        for (;;) {
          const res = await fetch(`${bot.url}/alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: payloadFor(i) });
          if (res.status === 200) return;
          if (res.status !== 503) throw new Error(`webhook answered ${res.status}`);
          webhook503++;
          await sleep(500);
        }
      }));
    }
    sent += batch.length;
  }
  const sentDone = Date.now();

  // Delivered: the pod's name appears in some message (parent, list or diagnosis).
  const pods = Array.from({ length: ALERTS }, (_, i) => pod(i));
  const deliveredCount = () => {
    const all = slack.allMessages().map((m) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`).join('\n');
    return pods.filter((p) => all.includes(p)).length;
  };
  let delivered = 0;
  while (Date.now() - sentDone < DRAIN_TIMEOUT_MS) {
    delivered = deliveredCount();
    if (delivered === ALERTS) break;
    await sleep(250);
  }
  const drained = Date.now();
  await sleep(2000);
  const metrics = await (await fetch(`${bot.url}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const full = Number(/backup_bot_alert_webhook_requests_total\{outcome="full"\} (\S+)/.exec(metrics)?.[1] ?? 0);

  const posts = slack.calls('chat.postMessage');
  const ok = posts.filter((c) => c.status === 200);
  const limited = posts.filter((c) => c.status === 429);
  // A 429 is answered when the same message later went through to the same channel.
  const okKeys = ok.map((c) => ({ at: c.at, key: `${String(c.params['channel'])}\u0000${String(c.params['text'])}\u0000${String(c.params['thread_ts'] ?? '')}` }));
  const answered = limited.filter((c) => {
    const key = `${String(c.params['channel'])}\u0000${String(c.params['text'])}\u0000${String(c.params['thread_ts'] ?? '')}`;
    return okKeys.some((o) => o.key === key && o.at > c.at);
  }).length;
  const parents = CHANNELS.reduce((n, ch) => n + slack.messages(ch).length, 0);
  let maxPerSecond = 0;
  let busiest = 0;
  for (const ch of CHANNELS) {
    const times = ok.filter((c) => c.params['channel'] === ch).map((c) => c.at).sort((a, b) => a - b);
    busiest = Math.max(busiest, times.length);
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      maxPerSecond = Math.max(maxPerSecond, i - j + 1);
    }
  }
  const firstPost = Math.min(...ok.map((c) => c.at));
  const lastPost = Math.max(...ok.map((c) => c.at));
  const rate = ok.length / Math.max(1, (lastPost - firstPost) / 1000) / CHANNELS.length;
  const totalS = (drained - t0) / 1000;
  // No schedule can beat the busiest channel's posts at one per second, nor the sending itself.
  const floorS = Math.max(SECONDS, busiest / SLACK_RATE);

  line('delivered / sent', `${delivered} / ${ALERTS}`, delivered / ALERTS, 'target 1.000');
  line('parent messages / alert groups', `${parents} / ${NAMESPACES}`, parents / NAMESPACES, 'one parent per group');
  line('alerts per Slack post (batching)', `${(ALERTS / ok.length).toFixed(1)} (${ok.length} posts)`, ALERTS / ok.length, 'vs 1 post per alert');
  const diagnoses = slack.allMessages().filter((m) => m.thread_ts !== undefined && /Next step/.test(JSON.stringify(m.blocks ?? []))).length;
  line('diagnoses / list replies', `${diagnoses} / ${ok.length - parents - diagnoses}`, diagnoses / NAMESPACES, 'diagnoses per group');
  line('max posts in any 1 s, one channel', String(maxPerSecond), maxPerSecond / Math.max(1, SLACK_RATE), `Slack limit ${SLACK_RATE}/s/channel`);
  line('mean posts/s per channel', rate.toFixed(2), rate / SLACK_RATE, `Slack limit ${SLACK_RATE}/s/channel`);
  line('time to drain after last alert', `${((drained - sentDone) / 1000).toFixed(1)} s`, totalS / floorS, `total ${totalS.toFixed(1)} s vs floor ${floorS} s`);
  line('HTTP 429s seen / answered', `${limited.length} / ${answered}`, limited.length ? answered / limited.length : 1, 'target 1.000');
  line('webhook 503s (back-pressure)', String(direct ? webhook503 : full), 0, 'retried by the sender, nothing dropped');
  line('bot queue depth at the end', String(metric('backup_bot_alert_queue_depth')), 0, 'target 0');

  await bot.stop();
  await am?.stop();
  await slack.close();
  if (delivered !== ALERTS || answered !== limited.length) process.exitCode = 1;
}

await main();
