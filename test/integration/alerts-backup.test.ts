// Alerts about backups, against a real API server and the Slack stand-in: VolSync's own
// VolSyncVolumeOutOfSync (obj_namespace/obj_name), kube-state-metrics' KubeJobFailed for the mover
// Job and KubePodCrashLooping of a mover pod each get the source's backup diagnosis in their
// thread (its mover state, last result, the classified mover log and the next command), not the
// generic pod diagnosis; the parent names the cause. Labels that are no Kubernetes name reach no
// API call.
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

describe('alerts about backups get the backup diagnosis: real API server, Slack stand-in', { skip }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  let slack: SlackStandIn;
  let deps: NotifierDeps;
  const ns = uniq('bbalert');

  before(async () => {
    ({ harness, fx } = await kubeFixtures(ns));
    const now = Date.now();
    // The seed's failing source: the lock left by a mover pod that is gone, VolSync retrying (no mover pod runs).
    await fx.pvc(ns, 'paperless');
    await fx.source(ns, 'paperless', { sourcePVC: 'paperless', trigger: { schedule: '0 * * * *' }, restic: { repository: 'paperless-volsync-secret', copyMethod: 'Clone' } }, {
      lastSyncStartTime: iso(now - 215_000), lastSyncTime: iso(now - 3 * 3_600_000), lastSyncDuration: '1m2s',
      latestMoverStatus: { result: 'Failed', logs: LOCK_LOG },
      conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', now - 215_000)],
    });
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
