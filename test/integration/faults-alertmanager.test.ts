// Alertmanager down while the bot has silences to make: a `mute` backup window opens during the
// outage, and an operator clicks "Silence 1 h" in an alert's thread during it. Everything is real:
// the Alertmanager binary (stopped and started again on the same port with its silences kept), the
// bot process (`node src/main.ts`) and the Slack stand-in. Targets: the window's silence exists
// soon after Alertmanager is back (the bot retries with backoff; it does not wait for the 5-minute
// safety tick), the click is answered with the truth (unreachable, nothing silenced, click again),
// a click after the return makes exactly one silence, nothing is duplicated, and the failures are
// logged without secrets.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { alertmanagerSkipReason, startAlertmanager } from '../harness/alertmanager.ts';
import type { RunningAlertmanager } from '../harness/alertmanager.ts';
import { startHttpBot } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { freePort } from '../harness/kube/free-port.ts';
import { noteSecrets } from '../harness/secrets-scan.ts';
import { buttonLabelled } from '../harness/slack/payloads.ts';
import { startSlackStandIn } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { WINDOW_MARKER_PREFIX } from '../../src/backup-window/window-silence.ts';
import type { Silence } from '../../src/alerts/alertmanager-types.ts';

const skip = alertmanagerSkipReason();
// ALERTMANAGER_URL carries Basic credentials (an Alertmanager behind a proxy): they, like the tokens, never reach a log line.
const SECRETS = { botToken: 'xoxb-test-am-fault-bot-token', signingSecret: 'am-fault-signing-secret-5d1e', webhookToken: 'am-fault-webhook-token-8c4a', amPassword: 'am-fault-basic-password-2f9b' };
const CHANNEL = 'C0AMFAULT1';
const OPERATOR = 'U0OSCAR01';
const MINUTE = 60_000;
/** The window's failures must be followed by its silence this soon after Alertmanager is back. */
const RECOVERY_BOUND_MS = 40_000;
const WINDOW_FAILED = /backup window: cannot reconcile silences/;

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
/** When the bot wrote a log line (pino's `time`). */
const loggedAt = (line: string) => new Date((JSON.parse(line) as { time: string | number }).time).getTime();
const everything = (m: StoredMessage) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('Alertmanager down while a window silence and a silence button are due (real Alertmanager, bot, Slack stand-in)', { skip }, () => {
  let slack: SlackStandIn;
  let am: RunningAlertmanager;
  let bot: BotProcess;
  // The window opens on a minute boundary at least 50 s away, so the setup is done and Alertmanager down by then.
  const opensAt = Math.ceil((Date.now() + 50_000) / MINUTE) * MINUTE;
  const window = { name: 'pbs', zone: 'UTC', start: hhmm(opensAt), end: hhmm(opensAt + 20 * MINUTE), graceMinutes: 1, mode: 'mute', transientPods: ['kube-scheduler-.*'], namespaces: ['kube-system'] };
  const pod = 'plex-5d8c7b9f6d-qwert';
  const alert = (name: string, namespace: string) => ({
    labels: { alertname: 'KubePodCrashLooping', namespace, pod: name, container: 'main' },
    startsAt: new Date(Date.now() - 10 * MINUTE).toISOString(),
    endsAt: new Date(Date.now() + 60 * MINUTE).toISOString(),
  });
  let parentTs = '';
  const thread = () => slack.threadReplies(CHANNEL, parentTs);
  const silences = () => am.silences().list();
  const figures = { windowFailures: 0, clickAnswered: false, windowSilenceMs: NaN };

  before(async () => {
    slack = await startSlackStandIn({ botToken: SECRETS.botToken, signingSecret: SECRETS.signingSecret, users: [{ id: OPERATOR, name: 'oscar', tz: 'UTC' }] });
    const port = await freePort();
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, webhookToken: SECRETS.webhookToken, groupWait: '1s', groupInterval: '2s' });
    const config = join(mkdtempSync(join(tmpdir(), 'bb-faults-am-')), 'backup-bot.yaml');
    writeFileSync(config, stringify({ slack: { operators: { users: [OPERATOR] } }, alerts: { channel: CHANNEL }, windows: [window] }));
    noteSecrets(SECRETS.amPassword);
    bot = await startHttpBot(slack, {
      PORT: String(port),
      ALERTMANAGER_URL: am.url.replace('//', `//backup-bot:${SECRETS.amPassword}@`),
      ALERTMANAGER_WEBHOOK_TOKEN: SECRETS.webhookToken,
      BACKUP_BOT_CONFIG: config,
    });
    // An alert thread with its diagnosis and buttons, while Alertmanager is up and the window not yet open.
    await am.postAlerts([alert(pod, 'media')]);
    const [parent] = await slack.waitFor(() => { const m = slack.messages(CHANNEL); return m.length ? m : undefined; }, 30_000, 'the alert\'s parent message');
    parentTs = parent!.ts;
    await slack.waitFor(() => thread().find((m) => /Silence 1 h/.test(everything(m))), 30_000, 'the diagnosis with its buttons');
  }, { timeout: 120_000 });
  after(async () => { await bot?.stop(); await am?.stop(); await slack?.close(); });

  test('Alertmanager down: a click is answered with the truth, the window opens, and both silences exist once it is back', { timeout: 240_000 }, async () => {
    assert.ok(Date.now() < opensAt - 3000, `the setup took too long: the window opened at ${new Date(opensAt).toISOString()} before Alertmanager went down`);
    assert.deepEqual(await silences(), [], 'no silence before the outage');
    await am.halt();

    // 1. The operator clicks "Silence 1 h" while Alertmanager is down.
    const diagnosis = thread().find((m) => /Silence 1 h/.test(everything(m)))!;
    const threadBefore = thread().length;
    const click = await slack.sendInteractionHttp({ blockAction: { action_id: buttonLabelled(diagnosis, 'Silence 1 h').actionId, message: diagnosis, user_id: OPERATOR, channel_id: CHANNEL } });
    assert.equal(click.status, 200, 'the click is acknowledged');
    const answer = await slack.waitFor(() => slack.responses(click.responseUrlId).find((r) => r.via === 'response_url'), 20_000, 'the answer to the click');
    figures.clickAnswered = true;
    const said = JSON.stringify(answer.body);
    assert.match(said, /Alertmanager at http:\/\/127\.0\.0\.1:\d+ is unreachable/, 'it says Alertmanager is unreachable');
    assert.match(said, /Nothing was silenced/, 'it says the click did not silence anything');
    assert.match(said, /click .*again/i, 'it says what to do');
    assert.doesNotMatch(said, /:no_bell:|Unsilence|\n\s+at |\.ts:\d+/, 'no "silenced" claim, no stack trace');
    assert.ok(((answer.body as { text?: string }).text ?? '').length <= 400, 'a short answer');
    assert.doesNotMatch(said, new RegExp(SECRETS.amPassword), 'Alertmanager\'s credentials are not shown');
    await bot.waitForLine(/"audit":true.*"action":"alerts silence".*"outcome":"failed"/);
    assert.equal(thread().length, threadBefore, 'nothing was posted in the thread');

    // 2. The window opens while Alertmanager is still down: its silence cannot be made.
    const from = bot.lines.length;
    const failures = () => bot.lines.slice(from).filter((l) => WINDOW_FAILED.test(l) && loggedAt(l) >= opensAt - 1000);
    await slack.waitFor(() => (failures().length > 0 ? true : undefined), opensAt - Date.now() + 30_000, 'the window\'s failure to mute, logged');
    await sleep(8_000); // down a while longer: the bot keeps trying
    figures.windowFailures = failures().length;
    const attempts = failures().map((l) => `+${((loggedAt(l) - opensAt) / 1000).toFixed(1)} s`);
    for (const line of failures()) assert.match(line, /unreachable/, 'the failure says why');

    // 3. Alertmanager comes back on the same port with its data; the window's silence follows by itself.
    await am.restart();
    const back = Date.now();
    let windowSilences: Silence[] = [];
    try {
      await slack.waitFor(async () => {
        windowSilences = (await silences()).filter((s) => s.comment.includes(WINDOW_MARKER_PREFIX));
        return windowSilences.length > 0 ? true : undefined;
      }, RECOVERY_BOUND_MS, `the window's silence within ${RECOVERY_BOUND_MS / 1000} s of Alertmanager's return`);
      figures.windowSilenceMs = Date.now() - back;
    } finally {
      console.log(`window silence after Alertmanager returned: ${Number.isNaN(figures.windowSilenceMs) ? 'none' : `${figures.windowSilenceMs} ms`}; failed attempts during the outage: ${figures.windowFailures} (${attempts.join(', ')} after the window opened)`);
    }

    // 4. A click after the return makes one silence; a second click reuses it.
    const threadAfter = thread().length;
    for (let i = 0; i < 2; i++) {
      const again = await slack.sendInteractionHttp({ blockAction: { action_id: buttonLabelled(diagnosis, 'Silence 1 h').actionId, message: diagnosis, user_id: OPERATOR, channel_id: CHANNEL } });
      assert.equal(again.status, 200);
      if (i === 0) await slack.waitFor(() => thread().slice(threadAfter).find((m) => /silenced/i.test(m.text)), 20_000, 'the silence note in the thread');
      else await slack.waitFor(() => slack.responses(again.responseUrlId).find((r) => r.via === 'response_url' && /already silenced/i.test(JSON.stringify(r.body))), 20_000, 'the second click answered "already silenced"');
    }
    // Prometheus sends its alerts again after a restart; the silences mute them.
    await am.postAlerts([alert(pod, 'media'), alert('kube-scheduler-talos-cp1', 'kube-system')]);
    for (const name of [pod, 'kube-scheduler-talos-cp1']) {
      await slack.waitFor(async () => (await am.getAlerts({ labels: { pod: name } })).find((a) => a.status.state === 'suppressed'), 20_000, `${name} suppressed`);
    }
    await sleep(6_000); // a late retry or click would land by now

    const all = await silences();
    const byWindow = all.filter((s) => s.comment.includes(WINDOW_MARKER_PREFIX));
    const byClick = all.filter((s) => s.comment.includes('[backup-bot:alert:'));
    const created = byWindow.length + byClick.length;
    const lost = [byWindow, byClick].filter((made) => made.length === 0).length;
    const duplicated = [byWindow, byClick].reduce((n, made) => n + Math.max(0, made.length - 1), 0);
    console.log(`fault: Alertmanager down while a window silence and a silence button were due — ${created} silences created after it returned, ${lost} lost, ${duplicated} duplicated`);
    assert.equal(lost, 0, 'the window silence and the clicked silence both exist');
    assert.equal(duplicated, 0, 'no silence made twice');
    assert.equal(all.length, 2, 'nothing else was made');
    assert.ok(all.every((s) => s.status.state === 'active'), 'both active');
    assert.equal(Date.parse(byWindow[0]!.endsAt), opensAt + 21 * MINUTE, 'the window silence lasts until the grace period ends');
    assert.ok(Math.abs(Date.parse(byClick[0]!.endsAt) - Date.parse(byClick[0]!.startsAt) - 60 * MINUTE) < 5000, 'the clicked silence lasts 1 h');

    // The bot is still the same process, and no line it wrote holds a secret.
    assert.equal(bot.child.exitCode, null, 'the bot did not crash');
    const leaked = bot.lines.filter((l) => Object.values(SECRETS).some((s) => l.includes(s)));
    assert.deepEqual(leaked, [], 'no secret in the logs');
  });
});
