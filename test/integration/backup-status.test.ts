/**
 * /backup status against a real API server: every case from the VolSync runbook as objects with
 * the status VolSync and the kubelet would have written, compared with what kubectl shows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeUnavailableReason, kubectl } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { renderText } from '../../src/terminal/render-text.ts';
import { backupStatus } from '../../src/backup/status.ts';
import { duration as humanDuration } from '../../src/text.ts';
import { kubeFromConfig } from '../../src/kube/client.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Reply } from '../../src/reply.ts';
import { Fixtures, HOUR, LOCK_LOG, MINUTE, iso, kubeFixtures, kubeFor, moverLabels, syncCondition, uniq } from './backup-fixtures.ts';
import { serviceAccountKube } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';

const skip = await kubeUnavailableReason();

function blocksOk(r: Reply): void {
  const rendered = renderBlocks(r);
  assert.deepEqual(validateBlocks(rendered.blocks), [], JSON.stringify(rendered.blocks).slice(0, 2000));
}

describe('/backup status on a real API server', { skip }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  const ns = uniq('bbst-apps');
  const other = uniq('bbst-empty');
  const faultedVolume = uniq('pvc-bbst-faulted');
  const healthyVolume = uniq('pvc-bbst-healthy');
  const now = Date.now();

  before(async () => {
    ({ harness, fx } = await kubeFixtures(other));
    await fx.namespace(ns, { 'volsync.backube/privileged-movers': 'true' });
    const hourly = { schedule: '0 * * * *' };
    const restic = (pvc: string) => ({ repository: `${pvc}-volsync-secret`, copyMethod: 'Clone' });

    // Healthy, with a manual trigger requested but not done yet.
    await fx.pvc(ns, 'config', { volumeName: healthyVolume, labels: { backup: 'hourly' } });
    await fx.longhornVolume(healthyVolume, { state: 'attached', robustness: 'healthy' });
    await fx.source(ns, 'config', { sourcePVC: 'config', trigger: { ...hourly, manual: 'ops-1' }, restic: restic('config') }, {
      lastSyncStartTime: iso(now - 11 * MINUTE), lastSyncTime: iso(now - 10 * MINUTE), lastSyncDuration: '47.218s', nextSyncTime: iso(now + 50 * MINUTE),
      lastManualSync: 'ops-0', latestMoverStatus: { result: 'Successful', logs: 'snapshot 9c3f0e27 saved' },
      conditions: [syncCondition('False', 'WaitingForSchedule', 'Waiting for next scheduled synchronization', now - 10 * MINUTE)],
    });
    for (const pvc of ['fresh', 'broken', 'media', 'photos']) await fx.pvc(ns, pvc);
    // Never synced yet, created just now: healthy, "never".
    await fx.source(ns, 'fresh', { sourcePVC: 'fresh', trigger: hourly, restic: restic('fresh') });

    // Overdue: the run due hours ago is stuck behind a faulted Longhorn volume.
    await fx.pvc(ns, 'meili', { volumeName: faultedVolume, labels: { backup: 'hourly' } });
    await fx.longhornVolume(faultedVolume, { state: 'detached', robustness: 'faulted' });
    await fx.source(ns, 'meili', { sourcePVC: 'meili', trigger: hourly, restic: restic('meili') }, {
      lastSyncStartTime: iso(now - 5 * HOUR - MINUTE), lastSyncTime: iso(now - 5 * HOUR), lastSyncDuration: '51.604s', nextSyncTime: iso(now - 4 * HOUR),
      latestMoverStatus: { result: 'Successful', logs: 'snapshot saved' },
      conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', now - 4 * HOUR)],
    });
    await fx.pod(ns, 'volsync-src-meili-w8k4d', moverLabels('meili'), {
      phase: 'Pending', startTime: iso(now - 4 * HOUR),
      containerStatuses: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
    }, 'meili');
    await fx.event(ns, 'volsync-src-meili-w8k4d', {
      reason: 'FailedAttachVolume', count: 47, at: now - 2 * MINUTE,
      message: `AttachVolume.Attach failed for volume "${faultedVolume}" : rpc error: code = Aborted desc = volume ${faultedVolume} is not ready for workloads`,
    });

    // Failing: the last mover run failed on a stale restic lock; its Job is out of retries.
    await fx.pvc(ns, 'plex');
    await fx.source(ns, 'plex', { sourcePVC: 'plex', trigger: hourly, restic: restic('plex') }, {
      lastSyncStartTime: iso(now - 20 * MINUTE), lastSyncTime: iso(now - 8 * 24 * HOUR), lastSyncDuration: '2m13.551s', nextSyncTime: iso(now + 40 * MINUTE),
      latestMoverStatus: { result: 'Failed', logs: LOCK_LOG },
      conditions: [syncCondition('False', 'WaitingForSchedule', 'Waiting for next scheduled synchronization', now - 18 * MINUTE)],
    });
    await fx.job(ns, 'volsync-src-plex', { 'app.kubernetes.io/created-by': 'volsync' }, { backoffLimit: 2, status: { failed: 2, startTime: iso(now - 20 * MINUTE) } });
    // Failing: VolSync itself reports an error.
    await fx.source(ns, 'broken', { sourcePVC: 'broken', trigger: hourly }, {
      conditions: [syncCondition('False', 'Error', 'a replication method must be specified', now - 30 * MINUTE)],
    });
    // Paused two days ago.
    await fx.source(ns, 'media', { sourcePVC: 'media', paused: true, trigger: hourly, restic: restic('media') }, {
      lastSyncTime: iso(now - 2 * 24 * HOUR), lastSyncDuration: '3m2.004s', latestMoverStatus: { result: 'Successful', logs: 'ok' },
    });
    // Running for three minutes, mover pod Running.
    await fx.source(ns, 'photos', { sourcePVC: 'photos', trigger: hourly, restic: restic('photos') }, {
      lastSyncStartTime: iso(now - 3 * MINUTE), lastSyncTime: iso(now - 63 * MINUTE), lastSyncDuration: '1m2s', nextSyncTime: iso(now - 3 * MINUTE),
      latestMoverStatus: { result: 'Successful', logs: 'ok' },
      conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', now - 3 * MINUTE)],
    });
    await fx.pod(ns, 'volsync-src-photos-a1b2c', moverLabels('photos'), { phase: 'Running', startTime: iso(now - 3 * MINUTE) });

    // Percona: a running restore holds the restore lock; the backup of its cluster failed on it.
    await fx.perconaRestore(ns, 'restore-1', 'db1', { state: 'Running' });
    await fx.lease(ns, 'restore-lock-db1', 'restore-1', now - 5_000, 600);
    await fx.perconaBackup(ns, 'nightly-1', 'db1', { state: 'Error', stateDescription: 'backup cannot run while restore restore-1 is in progress' });
  }, { timeout: 180_000 });

  after(() => stopAll(fx, harness));

  const status = (namespace?: string, name?: string) => backupStatus({ kube: kubeFor(harness.kubeconfigPath), now: () => new Date() }, { namespace, name });

  test('counts match the objects as kubectl shows them, problems first', async () => {
    const r = await status(ns);
    blocksOk(r);
    const json = JSON.parse(await kubectl(harness.kubeconfigPath, ['get', 'replicationsources', '-n', ns, '-o', 'json'])) as { items: Array<{ metadata: { name: string }; spec: { paused?: boolean }; status?: { latestMoverStatus?: { result?: string } } }> };
    assert.equal(json.items.length, 7);
    const failedByKubectl = json.items.filter((i) => i.status?.latestMoverStatus?.result === 'Failed').map((i) => i.metadata.name);
    const pausedByKubectl = json.items.filter((i) => i.spec.paused).map((i) => i.metadata.name);
    assert.deepEqual(failedByKubectl, ['plex']);
    assert.deepEqual(pausedByKubectl, ['media']);
    const counts = r.blocks[1];
    assert.equal(counts?.type, 'section');
    assert.match((counts as { text: string }).text, /\*7 sources:\* :red_circle: 2 failing · :large_yellow_circle: 1 overdue · :arrows_counterclockwise: 1 running · :zzz: 1 paused · :white_check_mark: 2 healthy/);
    assert.match(r.text, /7 sources: 2 failing, 1 overdue, 1 running, 1 paused, 2 healthy/);
    assert.equal(r.tone, 'error');

    // Problems first: failing ones (never synced, then oldest sync), then overdue, then the compact lists.
    const text = renderText(r);
    const order = [`${ns}/broken`, `${ns}/plex`, `${ns}/meili`, 'Running (1)', 'Paused (1)', 'Healthy (2)'];
    const positions = order.map((s) => text.indexOf(s));
    assert.ok(positions.every((p) => p >= 0), `missing one of ${order.join(', ')} in\n${text}`);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, text);
  });

  test('the last sync times and ages are the ones kubectl prints', async () => {
    const r = await status(ns);
    const columns = await kubectl(harness.kubeconfigPath, ['get', 'replicationsources', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,LAST:.status.lastSyncTime,DURATION:.status.lastSyncDuration,RESULT:.status.latestMoverStatus.result', '--no-headers']);
    const rows = new Map(columns.trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([name, last, duration, result]) => [name!, { last: last!, duration: duration!, result: result! }]));
    const text = JSON.stringify(r.blocks);
    for (const name of ['plex', 'meili']) {
      const row = rows.get(name)!;
      const age = humanDuration(Date.now() - Date.parse(row.last));
      assert.ok(text.includes(`${row.last} (${age} ago)`), `${name}: expected "${row.last} (${age} ago)" in the reply`);
      assert.ok(text.includes(row.duration), `${name}: duration ${row.duration}`);
      assert.ok(text.includes(`*Last result*\\n${row.result}`), `${name}: result ${row.result}`);
    }
    assert.equal(rows.get('fresh')?.last, '<none>');
    assert.match(text, /`bbst-apps-[0-9a-f]+\/config` 10m/);
  });

  test('each problem names its cause: failed run with log tail, VolSync error, stuck mover with the event, faulted volume, overdue', async () => {
    const r = await status(ns);
    const text = JSON.stringify(r.blocks);
    // plex: failed, the log tail, the lock hint, the Job out of retries, and overdue since 8 days.
    assert.match(text, /Last mover run \*Failed\*/);
    assert.match(text, /repository is already locked by PID 32/);
    assert.match(text, /`\/restic locks bbst-apps-[0-9a-f]+ plex`/);
    assert.match(text, /Mover Job `volsync-src-plex` reached its backoff limit \(2 failed pods\)/);
    assert.match(text, /last successful sync [0-9T:-]+Z \(8d ago\); 19[12] scheduled runs/);
    // broken: the condition's message.
    assert.match(text, /VolSync reports an error: a replication method must be specified/);
    // meili: pod ContainerCreating (as kubectl shows it), the attach event, the faulted volume.
    const pods = await kubectl(harness.kubeconfigPath, ['get', 'pods', '-n', ns, '--no-headers']);
    assert.match(pods, /volsync-src-meili-w8k4d\s+0\/1\s+ContainerCreating/);
    assert.match(text, /Mover pod `volsync-src-meili-w8k4d` stuck in Pending \(ContainerCreating\) for 4h/);
    assert.match(text, /is not ready for workloads \(×47\)/);
    assert.match(text, new RegExp(`Longhorn volume \`${faultedVolume}\` behind PVC \`meili\` is \\*faulted\\*`));
    assert.match(text, /Overdue: last successful sync [0-9T:-]+Z \(5h ago\); [45] scheduled runs/);
  });

  test('Percona: the restore holding the lock is named as what blocks backups', async () => {
    const r = await status(ns);
    const text = JSON.stringify(r.blocks);
    assert.match(text, /backups 1 \(0 running, 1 failed, 0 succeeded\) · restores 1 \(1 running, 0 failed\)/);
    assert.match(text, new RegExp(`Restore \`restore-1\` \\(Running\\) holds Lease \`${ns}/restore-lock-db1\` \\(expires in \\d+m\\d*s?\\): backups of cluster \`db1\` fail until it finishes`));
    assert.match(text, /backup cannot run while restore restore-1 is in progress/);
  });

  test('one source in detail: fields, mover pods, PVC, Longhorn volume, manual trigger', async () => {
    const meili = await status(ns, 'meili');
    blocksOk(meili);
    const t = JSON.stringify(meili.blocks);
    assert.match(t, /Backup bbst-apps-[0-9a-f]+\/meili/);
    assert.match(t, /\*Source PVC\*\\n`meili` \(Bound\)/);
    assert.match(t, new RegExp(`\\*Longhorn volume\\*\\\\n\`${faultedVolume}\`: detached, faulted`));
    assert.match(t, /Synchronizing: \*True\* \(SyncInProgress\)/);
    const config = await status(ns, 'config');
    assert.match(JSON.stringify(config.blocks), /Manual sync `ops-1` requested, not finished yet/);
    assert.equal(config.tone, 'ok');
    // By source PVC name too.
    const byPvc = await status(ns, 'plex');
    assert.match(byPvc.text, /plex: failing/);
  });

  test('a failing source VolSync retries with no mover pod: "VolSync is retrying; no mover pod runs", not "a sync is running"', async () => {
    const retryNs = uniq('bbst-retry');
    await fx.namespace(retryNs);
    await fx.pvc(retryNs, 'paperless');
    await fx.source(retryNs, 'paperless', { sourcePVC: 'paperless', trigger: { schedule: '0 * * * *' }, restic: { repository: 'paperless-volsync-secret', copyMethod: 'Clone' } }, {
      lastSyncStartTime: iso(Date.now() - 215_000), lastSyncTime: iso(Date.now() - 50 * MINUTE), lastSyncDuration: '1m2s', nextSyncTime: iso(Date.now() + 10 * MINUTE),
      latestMoverStatus: { result: 'Failed', logs: LOCK_LOG },
      conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', Date.now() - 215_000)],
    });
    const said = 'VolSync is retrying; no mover pod runs (sync in progress since 3m ago, last result Failed).';
    for (const r of [await status(retryNs), await status(retryNs, 'paperless')]) {
      blocksOk(r);
      const text = renderText(r);
      assert.ok(text.includes(said), text);
      assert.doesNotMatch(text, /A sync is running/);
    }
    // A source whose mover pod runs names the pod, its phase and since when, in the same words.
    const photos = renderText(await status(ns, 'photos'));
    assert.match(photos, /A sync is running: mover pod volsync-src-photos-a1b2c Running since 3m ago\./);
  });

  test('unknown namespace and name: said so, with the nearest matches', async () => {
    const typo = `${ns.slice(0, -1)}x`;
    const r = await status(typo);
    assert.equal(r.tone, 'error');
    assert.match(r.text, new RegExp(`There is no namespace \`${typo}\`\\. Did you mean \`/backup status ${ns}\``));
    const empty = await status(other);
    assert.match(empty.text, new RegExp(`Namespace \`${other}\` has no ReplicationSources`));
    const name = await status(ns, 'plx');
    assert.match(name.text, new RegExp(`No ReplicationSource \`plx\` in \`${ns}\`\\. Did you mean \`/backup status ${ns} plex\``));
  });

  test('all namespaces: one valid message with this namespace\'s problems among the others', async () => {
    const r = await status();
    blocksOk(r);
    const m = /\*(\d+) sources:\*/.exec(JSON.stringify(r.blocks));
    assert.ok(m && Number(m[1]) >= 7);
    assert.match(r.text, /failing/);
  });

  test('API server unreachable: one line naming the cause', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'gone', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'c', cluster: 'gone', user: 'u' }],
      currentContext: 'c',
    });
    const r = await backupStatus({ kube: kubeFromConfig(kc), now: () => new Date() }, {});
    assert.equal(r.tone, 'error');
    assert.match(r.text, new RegExp(`^Cannot list ReplicationSources: the Kubernetes API server at https://127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED\\)\\. Check that the cluster is up`));
    assert.equal(r.blocks.length, 1);
  });

  test('403 from RBAC: one line naming the missing permission', async () => {
    // A service account with no role at all, through a real token from the TokenRequest API.
    const sa = uniq('bbst-nobody');
    const kube = await serviceAccountKube(harness.kubeconfigPath, other, sa);
    const r = await backupStatus({ kube, now: () => new Date() }, { namespace: ns });
    assert.equal(r.tone, 'error');
    assert.match(r.text, new RegExp(`^Cannot list ReplicationSources in ${ns}: RBAC forbids it \\(403: replicationsources\\.volsync\\.backube is forbidden: User "system:serviceaccount:${other}:${sa}" cannot list resource`));
  });
});
