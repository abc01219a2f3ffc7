// Alerts about backups, against a real API server and the Slack stand-in: VolSync's own
// VolSyncVolumeOutOfSync (obj_namespace/obj_name), kube-state-metrics' KubeJobFailed for the mover
// Job and KubePodCrashLooping of a mover pod each get the source's backup diagnosis in their
// thread (its mover state, last result, the classified mover log and the next command), not the
// generic pod diagnosis; the parent names the cause. Labels that are no Kubernetes name reach no
// API call. With the backup watch running (the whole bot), the alert thread and the watch's
// incident thread about the same source link each other, and the incident thread hears of an
// alert group once, also across a restart.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { stopAll } from '../harness/stop-all.ts';
import { NotificationQueue } from '../../src/alerts/notification-queue.ts';
import type { GroupBatch } from '../../src/alerts/notification-queue.ts';
import { notifyGroup } from '../../src/alerts/group-notifier.ts';
import type { NotifierDeps } from '../../src/alerts/group-notifier.ts';
import { Diagnoser } from '../../src/alerts/diagnoser.ts';
import { watchSettings } from '../../src/backup/incidents.ts';
import { parseFileConfig } from '../../src/config.ts';
import { Fixtures, kubeFixtures, LOCK_LOG, MINUTE, iso, moverLabels, syncCondition, uniq } from './backup-fixtures.ts';
import { notifierDeps, testDiagnoserOptions } from '../harness/notifier-deps.ts';
import { startHttpBot, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { postWebhook } from '../harness/alert-payloads.ts';

const skip = await kubeUnavailableReason();
const log = pino({ level: 'silent' });
const BOT_TOKEN = 'xoxb-test-backup-alerts-token';
const CH = 'C0BACKUPA';

const all = (m: StoredMessage) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;

function batch(groupKey: string, alerts: Array<{ labels: Record<string, string>; fingerprint: string }>): GroupBatch {
  const q = new NotificationQueue({ capacity: 1000 });
  const common = alerts[0]!.labels;
  q.offer({
    version: '4', groupKey, truncatedAlerts: 0, status: 'firing', receiver: 'backup-bot',
    groupLabels: { alertname: common['alertname']! }, commonLabels: { alertname: common['alertname']! }, commonAnnotations: { summary: 'A backup is in trouble.' },
    externalURL: 'http://127.0.0.1:9093',
    alerts: alerts.map((a) => ({ status: 'firing', labels: a.labels, annotations: {}, startsAt: new Date(Date.now() - 5 * MINUTE).toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: a.fingerprint })),
  });
  return q.take()!;
}

/** The seed's failing source: the lock left by a mover pod that is gone, VolSync retrying (no mover pod runs). */
async function lockedPaperless(fx: Fixtures, ns: string, now: number): Promise<void> {
    await fx.pvc(ns, 'paperless');
    await fx.source(ns, 'paperless', { sourcePVC: 'paperless', trigger: { schedule: '0 * * * *' }, restic: { repository: 'paperless-volsync-secret', copyMethod: 'Clone' } }, {
      lastSyncStartTime: iso(now - 215_000), lastSyncTime: iso(now - 3 * 3_600_000), lastSyncDuration: '1m2s',
      latestMoverStatus: { result: 'Failed', logs: LOCK_LOG },
      conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', now - 215_000)],
    });
}

describe('alerts about backups get the backup diagnosis: real API server, Slack stand-in', { skip }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  let slack: SlackStandIn;
  let deps: NotifierDeps;
  const ns = uniq('bbalert');

  before(async () => {
    ({ harness, fx } = await kubeFixtures(ns));
    const now = Date.now();
    await lockedPaperless(fx, ns, now);
    await fx.job(ns, 'volsync-src-paperless', { 'app.kubernetes.io/created-by': 'volsync' }, { backoffLimit: 2, status: { failed: 2, startTime: iso(now - 215_000) } });
    await fx.pod(ns, 'volsync-src-paperless-k2x9q', moverLabels('paperless'), { phase: 'Failed', startTime: iso(now - 200_000) });
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, postMessagePerSecondPerChannel: Infinity });
  }, { timeout: 180_000 });

  after(() => stopAll(slack, fx, harness));

  beforeEach(() => {
    slack.reset();
    const config = parseFileConfig({}, 'test');
    deps = notifierDeps({
      slackApiUrl: slack.apiUrl, botToken: BOT_TOKEN, log, channel: CH,
      diagnoser: new Diagnoser(testDiagnoserOptions({ kube: fx.kube, watch: watchSettings(config) })),
      hooks: () => [],
      maxDiagnoses: 3,
    });
  });

  const cases: Array<[string, Record<string, string>]> = [
    ['VolSyncVolumeOutOfSync', { alertname: 'VolSyncVolumeOutOfSync', obj_namespace: ns, obj_name: 'paperless', role: 'source', method: 'restic' }],
    ['KubeJobFailed', { alertname: 'KubeJobFailed', namespace: ns, job_name: 'volsync-src-paperless', condition: 'true' }],
    ['KubePodCrashLooping', { alertname: 'KubePodCrashLooping', namespace: ns, pod: 'volsync-src-paperless-k2x9q', container: 'restic', reason: 'CrashLoopBackOff' }],
  ];

  for (const [alertname, labels] of cases) {
    test(`${alertname}: the thread has the source's backup diagnosis and the parent its cause`, { timeout: 60_000 }, async () => {
      await notifyGroup(batch(`{}:{alertname="${alertname}"}`, [{ labels, fingerprint: `fp-${alertname}` }]), deps);
      await deps.poster.idle();
      const [parent] = slack.messages(CH);
      assert.ok(parent);
      const replies = slack.threadReplies(CH, parent.ts);
      assert.equal(replies.length, 1, 'one diagnosis, nothing listed twice');
      const d = all(replies[0]!);
      assert.deepEqual(validateBlocks(replies[0]!.blocks ?? []), []);
      assert.match(d, new RegExp(`Backup of \`${ns}/paperless\`\\* · failing · ${alertname}`));
      // The one truth about movers: the words /backup status and /restic locks use.
      assert.match(d, /VolSync is retrying; no mover pod runs \(sync in progress since 3m ago, last result Failed, 2 failed mover pods\)/);
      assert.equal(d.match(/no mover pod runs/g)?.length, 1, 'said once');
      assert.match(d, /Last result: \*Failed\* · last successful sync [0-9T:-]+Z \(3h ago\)/);
      // The mover log classified with the runbook patterns, and the next command.
      assert.match(d, /repository locked by a mover pod that no longer exists/);
      assert.match(d, new RegExp(`Next(?: step)?:\\* \`/restic locks ${ns} paperless\``));
      assert.match(d, /repository is already locked by PID 32 on volsync-src-plex-nzlv6/);
      assert.match(d, /Silence 1 h/);
      // Not the generic pod diagnosis.
      assert.doesNotMatch(d, /Unrecognised crash|Previous container's log/);
      const p = slack.message(CH, parent.ts)!;
      await slack.waitFor(() => (/:mag: backup/.test(JSON.stringify(p.blocks)) ? true : undefined), 5000, 'the parent updated with the cause');
      assert.match(JSON.stringify(p.blocks), new RegExp(`:mag: backup ${ns}/paperless: repository locked by a mover pod that no longer exists`));
      assert.deepEqual(validateBlocks(p.blocks ?? []), []);
    });
  }

  test('labels that are no Kubernetes name get no backup diagnosis and reach no API call; they are listed, escaped', { timeout: 60_000 }, async () => {
    const labels = { alertname: 'VolSyncVolumeOutOfSync', obj_namespace: ns, obj_name: '../<!channel>', role: 'source' };
    await notifyGroup(batch('{}:{alertname="VolSyncVolumeOutOfSync",bad="1"}', [{ labels, fingerprint: 'fp-bad' }]), deps);
    await deps.poster.idle();
    const [parent] = slack.messages(CH);
    const replies = slack.threadReplies(CH, parent!.ts);
    assert.equal(replies.length, 1);
    const t = all(replies[0]!);
    assert.doesNotMatch(t, /Backup of/);
    assert.match(t, /1 firing/);
    assert.doesNotMatch(t, /<!channel>/);
  });

  test('a source that is gone: said in one line, no crash', { timeout: 60_000 }, async () => {
    await notifyGroup(batch('{}:{alertname="KubeJobFailed",gone="1"}', [{ labels: { alertname: 'KubeJobFailed', namespace: ns, job_name: 'volsync-src-nothere' }, fingerprint: 'fp-gone' }]), deps);
    await deps.poster.idle();
    const [parent] = slack.messages(CH);
    const d = all(slack.threadReplies(CH, parent!.ts)[0]!);
    assert.match(d, new RegExp(`There is no ReplicationSource \`${ns}/nothere\``));
  });
});

describe('one conversation per problem: the whole bot with the watch, an alert about a source with an open incident', { skip }, () => {
  const SIGNING = 'test-alerts-backup-link-signing';
  const TOKEN = 'test-alerts-backup-link-webhook-token';
  const CH2 = 'C0BACKUPLINK';
  const ns = uniq('bblink');
  const state = uniq('bblink-state');
  let harness: KubeHarness;
  let fx: Fixtures;
  let slack: SlackStandIn;
  let bot: BotProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    ({ harness, fx } = await kubeFixtures(ns));
    await fx.namespace(state);
    const now = Date.now();
    await lockedPaperless(fx, ns, now);
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING, postMessagePerSecondPerChannel: Infinity });
    // The API server is shared by every test file: this bot routes only its own namespace to a channel.
    const config = writeBotConfig('alerts-link', { alerts: { routes: [{ match: { namespace: ns }, channel: CH2 }] }, watch: { enabled: true } });
    env = { KUBECONFIG: harness.kubeconfigPath, BACKUP_BOT_CONFIG: config, POD_NAMESPACE: state, ALERTMANAGER_WEBHOOK_TOKEN: TOKEN };
    bot = await startHttpBot(slack, env);
  }, { timeout: 180_000 });

  after(async () => {
    await bot?.stop();
    await stopAll(slack, fx, harness);
  });

  const payload = () => JSON.stringify({
    version: '4', groupKey: `{}:{alertname="VolSyncVolumeOutOfSync", namespace="${ns}"}`, truncatedAlerts: 0, status: 'firing', receiver: 'backup-bot',
    groupLabels: { alertname: 'VolSyncVolumeOutOfSync', namespace: ns }, commonLabels: { alertname: 'VolSyncVolumeOutOfSync', namespace: ns }, commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: [{ status: 'firing', labels: { alertname: 'VolSyncVolumeOutOfSync', namespace: ns, obj_namespace: ns, obj_name: 'paperless', role: 'source' }, annotations: {}, startsAt: new Date(Date.now() - 5 * MINUTE).toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'fp-link' }],
  });
  const incidentParent = () => slack.messages(CH2).find((m) => /backups failing/.test(m.text) && m.text.includes(`${ns}/paperless`));
  const alertParent = () => slack.messages(CH2).find((m) => /VolSyncVolumeOutOfSync/.test(m.text));

  test('the alert thread\'s diagnosis links the incident thread; the incident thread gets one line linking the alert thread, not again on a repeat or after a restart', { timeout: 150_000 }, async () => {
    const inc = await slack.waitFor(() => incidentParent(), 60_000, 'the watch opens the incident by itself');
    assert.equal((await postWebhook(bot!.url, TOKEN, payload())).status, 200);
    const parent = await slack.waitFor(() => alertParent(), 30_000, 'the alert thread');
    const diag = await slack.waitFor(() => slack.threadReplies(CH2, parent.ts).find((m) => /Backup of/.test(all(m))), 30_000, 'the backup diagnosis');
    const d = all(diag);
    assert.match(d, new RegExp(`backup watch has an incident open for \`${ns}/paperless\`: backups failing`));
    assert.ok(d.includes(`/archives/${CH2}/p${inc.ts.replace('.', '')}|incident thread>`), `the incident thread's permalink in: ${d}`);
    assert.deepEqual(validateBlocks(diag.blocks ?? []), []);
    const noteOf = () => slack.threadReplies(CH2, inc.ts).filter((m) => /Alertmanager: /.test(all(m)));
    const note = await slack.waitFor(() => noteOf()[0], 30_000, 'the note in the incident thread');
    assert.match(all(note), /`VolSyncVolumeOutOfSync` fired about this source/);
    assert.ok(all(note).includes(`/archives/${CH2}/p${parent.ts.replace('.', '')}|alert thread>`), 'the alert thread\'s permalink');

    // Alertmanager repeats the group (repeat_interval): nothing new anywhere.
    const before = slack.threadReplies(CH2, parent.ts).length;
    assert.equal((await postWebhook(bot!.url, TOKEN, payload())).status, 200);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(noteOf().length, 1, 'one note per alert group');
    assert.equal(slack.threadReplies(CH2, parent.ts).length, before);

    // A restart reads the thread map back from the cluster: the repeat still adds nothing.
    await bot!.stop();
    bot = await startHttpBot(slack, env);
    assert.equal((await postWebhook(bot.url, TOKEN, payload())).status, 200);
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(noteOf().length, 1, 'not after a restart either');
    assert.equal(slack.threadReplies(CH2, parent.ts).length, before);
    assert.equal(slack.messages(CH2).filter((m) => /VolSyncVolumeOutOfSync/.test(m.text)).length, 1, 'one alert thread');
  });
});
