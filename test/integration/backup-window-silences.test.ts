// A mute window's silence against a real Alertmanager: created once at open and really muting the
// known-transient pods (and nothing else), found again after a restart instead of duplicated,
// replaced when the window's configuration changes, expired at close, and the muted alert that is
// still firing at close is escalated in the summary.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BackupWindowService } from '../../src/backup-window/service.ts';
import { alertmanagerFiringAlerts } from '../../src/backup-window/firing-alerts.ts';
import { MemoryWindowStore } from '../../src/backup-window/state.ts';
import { parseWindowMarker, WINDOW_MARKER_PREFIX } from '../../src/backup-window/window-silence.ts';
import type { SilencesClient } from '../../src/alerts/silences.ts';
import { alertmanagerSkipReason, startAlertmanager, type RunningAlertmanager } from '../harness/alertmanager.ts';
import { ALERTS_CHANNEL, FixedMovers, ONCALL, RecordingPoster, RecordingThreads, testConfig, testServices } from '../unit/backup-window-fixtures.ts';
import { stopAll } from '../harness/stop-all.ts';

const skip = alertmanagerSkipReason();
const MINUTE = 60_000;

function hhmm(d: Date): string {
  return d.toISOString().slice(11, 16);
}

/** A daily UTC window that is open right now (opened a few minutes ago) and closes in under an hour. */
function openWindow(over: Record<string, unknown> = {}) {
  const now = Date.now();
  return { name: 'pbs', zone: 'UTC', start: hhmm(new Date(now - 5 * MINUTE)), end: hhmm(new Date(now + 50 * MINUTE)), graceMinutes: 5, mode: 'mute', ...over };
}

async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

function crashAlert(pod: string, namespace: string) {
  return {
    labels: { alertname: 'KubePodCrashLooping', namespace, pod, container: 'main', severity: 'warning' },
    annotations: { description: `Container main in pod ${pod} has restarted 7 times in the last hour.` },
    startsAt: new Date(Date.now() - MINUTE).toISOString(),
    endsAt: new Date(Date.now() + 60 * MINUTE).toISOString(),
  };
}

describe('a mute window against a real Alertmanager', { skip }, () => {
  let am: RunningAlertmanager;
  let silences: SilencesClient;
  const store = new MemoryWindowStore();
  const poster = new RecordingPoster();
  let clock: () => Date = () => new Date();
  const window = openWindow();

  function service(w: Record<string, unknown>) {
    const services = testServices({ config: testConfig({ windows: [w], alerts: { channel: ALERTS_CHANNEL, escalate: ONCALL } }) });
    return new BackupWindowService({
      services,
      store,
      silences,
      firingAlerts: alertmanagerFiringAlerts(am.url),
      poster,
      threads: new RecordingThreads(),
      movers: new FixedMovers(),
      now: () => clock(),
    });
  }
  const owned = () => silences.findOwned(WINDOW_MARKER_PREFIX);

  before(async () => {
    am = await startAlertmanager();
    silences = am.silences();
  });
  after(() => stopAll(am));

  it('creates exactly one silence at open, which mutes the transient pods and nothing else', async () => {
    const svc = service(window);
    await svc.reconcile('start-up');
    const list = await owned();
    assert.equal(list.length, 1);
    const s = list[0]!;
    assert.equal(s.createdBy, 'backup-bot');
    assert.equal(s.status.state, 'active');
    const instanceId = parseWindowMarker(s.comment)?.instanceId;
    const rec = (await store.read())[instanceId!];
    assert.ok(rec, 'the instance is recorded');
    assert.equal(new Date(s.endsAt).toISOString(), rec.graceEnd);
    assert.equal(rec.silence?.id, s.id);

    // The built-in patterns are kube-system's: the silence says so, and a tenant's etcd-0 stays loud.
    assert.deepEqual(s.matchers.find((m) => m.name === 'namespace'), { name: 'namespace', value: 'kube-system', isRegex: true, isEqual: true });

    await am.postAlerts([crashAlert('kube-scheduler-talos-monitor', 'kube-system'), crashAlert('plex-5d8c7b9f6d-abcde', 'media'), crashAlert('etcd-0', 'apps')]);
    const alerts = await eventually('all alerts to be processed', () => am.getAlerts(), (as) => as.length === 3 && as.every((a) => a.status.state !== 'unprocessed'));
    const byPod = Object.fromEntries(alerts.map((a) => [`${a.labels['namespace']}/${a.labels['pod']}`, a]));
    assert.deepEqual(byPod['kube-system/kube-scheduler-talos-monitor']?.status.silencedBy, [s.id]);
    assert.deepEqual(byPod['media/plex-5d8c7b9f6d-abcde']?.status.silencedBy, []);
    assert.deepEqual(byPod['apps/etcd-0']?.status.silencedBy, []);
  });

  it('a restart inside the window finds the silence and creates none', async () => {
    const before = (await owned()).map((s) => s.id);
    const restarted = service(window);
    await restarted.reconcile('start-up');
    await restarted.reconcile('safety tick');
    assert.deepEqual((await owned()).map((s) => s.id), before);
  });

  it('a configuration change replaces the silence: the old one expired, one new one active', async () => {
    const old = (await owned())[0]!;
    const changed = service({ ...window, transientPods: ['kube-scheduler-.*', 'kube-controller-manager-.*'] });
    await changed.reconcile('start-up');
    const list = await owned();
    assert.equal(list.length, 1);
    assert.notEqual(list[0]!.id, old.id);
    assert.equal((await silences.get(old.id)).status.state, 'expired');
    assert.equal(list[0]!.matchers.find((m) => m.name === 'pod')?.value, '(?:kube-scheduler-.*)|(?:kube-controller-manager-.*)');
    assert.equal(list[0]!.matchers.find((m) => m.name === 'namespace')?.value, 'kube-system');
    const scheduler = await eventually('the alert to be muted by the new silence', () => am.getAlerts({ labels: { pod: 'kube-scheduler-talos-monitor' } }), (as) => as[0]?.status.silencedBy.includes(list[0]!.id) === true);
    assert.equal(scheduler.length, 1);
  });

  it('close expires it and escalates the muted alert that is still firing', async () => {
    const changedWindow = { ...window, transientPods: ['kube-scheduler-.*', 'kube-controller-manager-.*'] };
    const svc = service(changedWindow);
    await svc.reconcile('safety tick'); // samples the muted alert while the window is open
    const id = (await owned())[0]!.id;
    const rec = Object.values(await store.read())[0]!;
    clock = () => new Date(new Date(rec.graceEnd).getTime() + 1000);
    await svc.reconcile('next window change');
    assert.deepEqual(await owned(), []);
    assert.equal((await silences.get(id)).status.state, 'expired');
    assert.equal(poster.posts.length, 1);
    const text = poster.posts[0]!.reply.blocks.map((b) => ('text' in b ? b.text : '')).join('\n');
    assert.match(text, /\*1\* crash-looped · \*0\* recovered · \*1\* still crash-looping/);
    assert.match(text, /<!subteam\^S0ONCALL> please investigate:\n• `kube-system\/kube-scheduler-talos-monitor` \(KubePodCrashLooping\).*was muted by the window/);
    // And once only.
    await service(changedWindow).reconcile('start-up');
    assert.equal(poster.posts.length, 1);
  });
});
