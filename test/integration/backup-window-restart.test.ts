// Restarts and replicas with everything real: window state in a ConfigMap on a real kube-apiserver,
// silences in a real Alertmanager, messages through the Slack stand-in (which enforces Block Kit
// and the per-channel rate limit). A restart inside the window duplicates neither the silence nor
// a post; a webhook handled by a non-leader replica still counts; the summary and the escalation in
// the still-firing alert's thread go out exactly once, even when two replicas both think they lead.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebClient } from '@slack/web-api';
import pino from 'pino';
import type { Services } from '../../src/command/context.ts';
import { ConfigMapWindowStore } from '../../src/backup-window/configmap-window-store.ts';
import { alertmanagerFiringAlerts } from '../../src/backup-window/firing-alerts.ts';
import { BackupWindowService } from '../../src/backup-window/service.ts';
import { windowCommand } from '../../commands/backup/window.ts';
import { SlackUserZones } from '../../src/slack/user-zones.ts';
import { WINDOW_MARKER_PREFIX } from '../../src/backup-window/window-silence.ts';
import type { CrashAlertEvent } from '../../src/backup-window/alert-hooks.ts';
import type { Kube } from '../../src/kube/client.ts';
import { ChannelPoster } from '../../src/slack/poster.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { createWebClient } from '../../src/slack/web-client.ts';
import type { Reply } from '../../src/reply.ts';
import { alertmanagerSkipReason, startAlertmanager, type RunningAlertmanager } from '../harness/alertmanager.ts';
import { kubeUnavailableReason, type KubeHarness } from '../harness/kube/index.ts';
import { startSlackStandIn, validateBlocks, type SlackStandIn } from '../harness/slack/slack-stand-in.ts';
import { ALERTS_CHANNEL, ONCALL, TestLeadership, testConfig } from '../unit/backup-window-fixtures.ts';
import { stopAll } from '../harness/stop-all.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';

const kubeSkip = await kubeUnavailableReason();
const amSkip = alertmanagerSkipReason();
const skip = kubeSkip ?? amSkip;
const MINUTE = 60_000;
const KIWI = 'U0KIWI';

function hhmm(d: Date): string {
  return d.toISOString().slice(11, 16);
}

function crashAlert(pod: string, namespace: string, endsAt = new Date(Date.now() + 60 * MINUTE)) {
  return {
    labels: { alertname: 'KubePodCrashLooping', namespace, pod, container: 'main' },
    startsAt: new Date(Date.now() - 10 * MINUTE).toISOString(),
    endsAt: endsAt.toISOString(),
  };
}

describe('backup window across restarts and replicas (real cluster, Alertmanager, Slack stand-in)', { skip }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let am: RunningAlertmanager;
  let slack: SlackStandIn;
  let client: WebClient;
  let poster: ChannelPoster;
  const ns = `bw-${process.pid}-${Date.now().toString(36)}`;
  const now = Date.now();
  const window = { name: 'pbs', zone: 'UTC', start: hhmm(new Date(now - 5 * MINUTE)), end: hhmm(new Date(now + 50 * MINUTE)), graceMinutes: 5, mode: 'mute' };
  const config = testConfig(
    { windows: [window], alerts: { channel: ALERTS_CHANNEL, escalate: ONCALL } },
    { SLACK_MODE: 'http', SLACK_BOT_TOKEN: 'xoxb-standin-0000-bot', SLACK_SIGNING_SECRET: 'standin-signing-secret' },
  );
  let clock: () => Date = () => new Date();
  const log = pino({ level: process.env['TEST_LOG'] ?? 'silent' });

  function replica(leader: TestLeadership): { svc: BackupWindowService; services: Services } {
    const services: Services = {
      config,
      log,
      access: undefined as unknown as Services['access'],
      audit: undefined as unknown as Services['audit'],
      confirmations: undefined as unknown as Services['confirmations'],
      leadership: leader,
      kube,
      slack: { client, poster },
    };
    // Everything else (poster, threads, movers) comes from the services, as in the bot.
    const svc = new BackupWindowService({
      services,
      store: new ConfigMapWindowStore(kube, { namespace: ns }),
      silences: am.silences(),
      firingAlerts: alertmanagerFiringAlerts(am.url),
      now: () => clock(),
    });
    return { svc, services };
  }

  /** What the alerts pipeline does for a crash-loop notification: thread parent, annotation first, then observed. */
  async function webhook(svc: BackupWindowService, pod: string, namespace: string, resolves?: CrashAlertEvent): Promise<CrashAlertEvent> {
    const threadTs = resolves?.threadTs;
    const status = resolves ? 'resolved' : 'firing';
    const ts = threadTs ?? (await client.chat.postMessage({ channel: ALERTS_CHANNEL, text: `:fire: KubePodCrashLooping ${namespace}/${pod}` })).ts!;
    // The webhook carries Alertmanager's own fingerprint, which the close checks against.
    const fingerprint = resolves?.fingerprint ?? (await am.getAlerts({ labels: { pod } }))[0]?.fingerprint;
    assert.ok(fingerprint, `${pod} is in Alertmanager`);
    const e: CrashAlertEvent = {
      groupKey: `{}:{alertname="KubePodCrashLooping", namespace="${namespace}"}`,
      channel: ALERTS_CHANNEL,
      threadTs: ts,
      status,
      labels: { alertname: 'KubePodCrashLooping', namespace, pod, container: 'main' },
      startsAt: new Date(Date.now() - 10 * MINUTE).toISOString(),
      ...(status === 'resolved' ? { endsAt: new Date().toISOString() } : {}),
      fingerprint,
      receivedAt: clock(),
    };
    const blocks = await svc.annotate(e);
    if (blocks) {
      const r: Reply = { text: `${pod} is crash-looping`, blocks, visibility: 'channel' };
      await poster.post({ channel: ALERTS_CHANNEL, thread_ts: ts, ...renderBlocks(r) });
    }
    svc.observe(e);
    await svc.flush();
    return e;
  }

  const owned = () => am.silences().findOwned(WINDOW_MARKER_PREFIX);
  const topLevel = () => slack.messages(ALERTS_CHANNEL);

  let leaderA = new TestLeadership(true);
  const leaderB = new TestLeadership(false);
  let a: BackupWindowService;
  let b: BackupWindowService;
  let plexThread = '';

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns));
    am = await startAlertmanager();
    slack = await startSlackStandIn({ users: [{ id: KIWI, name: 'kiwi', tz: 'Pacific/Auckland' }], channels: [{ id: ALERTS_CHANNEL, name: 'alerts' }] });
    client = createWebClient(slack.botToken, { slackApiUrl: slack.apiUrl, log });
    poster = new ChannelPoster(client);
    a = replica(leaderA).svc;
    b = replica(leaderB).svc;
  }, { timeout: 240_000 });

  after(() => stopAll(slack, am, harness));

  it('the leader mutes at open and records the instance in the ConfigMap; the other replica does nothing', async () => {
    await b.reconcile('start-up');
    assert.equal((await owned()).length, 0);
    await a.reconcile('start-up');
    const list = await owned();
    assert.equal(list.length, 1);
    const cm = await kube.core.readNamespacedConfigMap({ name: 'backup-bot-windows', namespace: ns });
    const recs = Object.values(JSON.parse(cm.data?.['pbs.json'] ?? '{}') as Record<string, { silence?: { id: string } }>);
    assert.equal(recs.length, 1);
    assert.equal(recs[0]?.silence?.id, list[0]!.id);
  });

  it('alerts handled by the non-leader replica are annotated with cluster evidence and recorded for the leader', async () => {
    // A VolSync mover that is running, as evidence (no kubelet: the status is written directly).
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'volsync-src-plex-abcde', labels: { 'app.kubernetes.io/created-by': 'volsync', 'job-name': 'volsync-src-plex' } },
        spec: { containers: [{ name: 'restic', image: 'quay.io/backube/volsync:0.11.0' }] },
      },
    });
    await kube.core.replaceNamespacedPodStatus({
      name: 'volsync-src-plex-abcde',
      namespace: ns,
      body: {
        ...(await kube.core.readNamespacedPod({ name: 'volsync-src-plex-abcde', namespace: ns })),
        status: { phase: 'Running', startTime: new Date(Date.now() - 3 * MINUTE) },
      },
    });
    await am.postAlerts([crashAlert('kube-scheduler-talos-monitor', 'kube-system'), crashAlert('plex-5d8c7b9f6d-abcde', 'media'), crashAlert('grafana-7f9c-x2x2x', 'monitoring')]);

    const plex = await webhook(b, 'plex-5d8c7b9f6d-abcde', 'media');
    plexThread = plex.threadTs;
    const grafana = await webhook(b, 'grafana-7f9c-x2x2x', 'monitoring');
    const replies = slack.threadReplies(ALERTS_CHANNEL, plexThread);
    assert.equal(replies.length, 1);
    const annotation = JSON.stringify(replies[0]!.blocks);
    assert.match(annotation, /but not a known-transient pod: investigate/);
    assert.match(annotation, new RegExp(`backup of ${ns}/plex running since \\d\\d:\\d\\d UTC`));

    // Grafana recovers before the window closes, in Alertmanager and by notification.
    await am.postAlerts([crashAlert('grafana-7f9c-x2x2x', 'monitoring', new Date(Date.now() - 1000))]);
    await webhook(b, 'grafana-7f9c-x2x2x', 'monitoring', grafana);
    const state = await new ConfigMapWindowStore(kube, { namespace: ns }).read();
    const rec = Object.values(state)[0]!;
    assert.equal(rec.alerts[plex.fingerprint]?.annotated?.verdict, 'investigate');
    assert.equal(rec.alerts[plex.fingerprint]?.threadTs, plexThread);
    assert.equal(rec.alerts[grafana.fingerprint]?.status, 'resolved');
  });

  it('a restart of the leader inside the window posts nothing and creates no second silence', async () => {
    const silencesBefore = (await owned()).map((s) => s.id);
    const messagesBefore = slack.allMessages(ALERTS_CHANNEL).length;
    leaderA = new TestLeadership(true);
    a = replica(leaderA).svc; // the old process is gone without stopping
    await a.reconcile('start-up');
    await a.reconcile('safety tick');
    assert.deepEqual((await owned()).map((s) => s.id), silencesBefore);
    assert.equal(slack.allMessages(ALERTS_CHANNEL).length, messagesBefore);
  });

  it('at close, two replicas that both believe they lead post one summary and one escalation between them', async () => {
    const silenceId = (await owned())[0]!.id;
    await a.reconcile('safety tick'); // samples the muted scheduler alert
    const rec = Object.values(await new ConfigMapWindowStore(kube, { namespace: ns }).read())[0]!;
    clock = () => new Date(new Date(rec.graceEnd).getTime() + 1000);
    leaderB.leader = true;
    const parentsBefore = topLevel().length;
    await Promise.all([a.reconcile('next window change'), b.reconcile('next window change')]);

    assert.equal(topLevel().length, parentsBefore + 1, 'one summary');
    const summary = topLevel().at(-1)!;
    assert.equal(summary.blocks && validateBlocks(summary.blocks).length, 0);
    const text = JSON.stringify(summary.blocks);
    assert.match(text, /\*3\* crash-looped · \*1\* recovered · \*2\* still crash-looping/);
    assert.match(text, /<!subteam\^S0ONCALL> please investigate/);
    assert.match(text, /kube-scheduler-talos-monitor.*was muted by the window/);
    assert.match(text, /Recovered:\*\\n• `monitoring\/grafana-7f9c-x2x2x`/);

    const plexReplies = slack.threadReplies(ALERTS_CHANNEL, plexThread);
    assert.equal(plexReplies.length, 2, 'the annotation, then one escalation');
    assert.match(plexReplies[1]!.text ?? '', /still crash-looping after the pbs backup window closed/);
    assert.equal((await am.silences().get(silenceId)).status.state, 'expired');
    assert.deepEqual(await owned(), []);
  });

  it('restarts and leadership changes after the close post nothing more', async () => {
    const before = slack.allMessages(ALERTS_CHANNEL).length;
    await replica(new TestLeadership(true)).svc.reconcile('start-up');
    leaderB.set(true);
    await b.reconcile('became the leader');
    assert.equal(slack.allMessages(ALERTS_CHANNEL).length, before);
    assert.deepEqual(await owned(), []);
  });

  it('/backup window on another replica reads the same state, in the caller\'s Slack time zone', async () => {
    process.env['POD_NAMESPACE'] = ns;
    try {
      const { services } = replica(new TestLeadership(false)); // not registered: the command builds its own view
      services.config.env.alertmanagerUrl = am.url;
      // The actor as the Slack transport makes it: its zone from the user's profile.
      const zones = new SlackUserZones(services.slack!.client, services.log);
      const r = await windowCommand()(
        { command: '/backup', verb: 'window', args: {}, flags: new Set() },
        { actor: { id: KIWI, via: 'slack', timeZone: () => zones.of(KIWI, clock()) }, channel: ALERTS_CHANNEL, services, now: () => clock(), notify: async () => undefined },
      );
      assert.deepEqual(validateBlocks(renderBlocks(r).blocks), []);
      const text = r.blocks.map((b) => ('text' in b ? b.text : '')).join('\n');
      assert.match(text, /Your time \(Pacific\/Auckland, from your Slack profile\): \w{3} \d+ \w{3} \d\d:\d\d NZ[SD]T/);
      assert.match(text, /in the last window\* \(.*\):\n• `media\/plex-5d8c7b9f6d-abcde`: not a known-transient pod: investigate · .* still firing, escalated/);
      assert.match(text, /kube-scheduler-talos-monitor`: muted by the window's silence/);
      assert.match(text, /\*Silences it owns:\* none/);
      assert.equal(slack.calls('users.info').length, 1);
    } finally {
      delete process.env['POD_NAMESPACE'];
    }
  });
});
