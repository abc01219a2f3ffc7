/**
 * One answer to "does a mover run now?": a mover pod, or VolSync retrying with no mover pod, or
 * nothing; and the same sentence in /backup status and /restic locks for the same source.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { moverState, moverStateLine } from '../../src/volsync/mover-state.ts';
import { activeMovers } from '../../src/volsync/mover-pods.ts';
import type { ReplicationSource } from '../../src/volsync/source.ts';
import type { Pod } from '../../src/backup/objects.ts';
import { evaluateSource, indexInventory } from '../../src/backup/source-health.ts';
import { renderSourceDetail, renderStatus } from '../../src/backup/status-reply.ts';
import { renderText } from '../../src/terminal/render-text.ts';
import { moverLine } from '../../commands/restic/render.ts';
import { refusal } from '../../commands/backup/run.ts';

const NOW = Date.parse('2026-12-02T03:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function source(o: { sync?: [string, string, number]; result?: string; ns?: string } = {}): ReplicationSource {
  return {
    metadata: { name: 'plex', namespace: o.ns ?? 'media' },
    spec: { sourcePVC: 'plex', trigger: { schedule: '0 * * * *' } },
    status: {
      lastSyncTime: iso(NOW - 30 * 60_000),
      ...(o.result ? { latestMoverStatus: { result: o.result, logs: 'Fatal: unable to create lock in backend: repository is already locked by PID 32' } } : {}),
      ...(o.sync ? { conditions: [{ type: 'Synchronizing', status: o.sync[0], reason: o.sync[1], lastTransitionTime: iso(o.sync[2]) }] } : {}),
    },
  };
}

function pod(name: string, phase: string, startedMsAgo: number, o: { job?: string; ns?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name, namespace: o.ns ?? 'media', labels: { 'batch.kubernetes.io/job-name': o.job ?? 'volsync-src-plex' }, creationTimestamp: iso(NOW - startedMsAgo), ...(o.deleting ? { deletionTimestamp: iso(NOW) } : {}) },
    status: { phase, startTime: iso(NOW - startedMsAgo) },
  };
}

const RETRYING = source({ sync: ['True', 'SyncInProgress', NOW - 215_000], result: 'Failed' });

describe('moverState: whether a mover runs now', () => {
  it('Synchronizing True after a failure, no mover pod: VolSync is retrying, not "a sync is running"', () => {
    const s = moverState(RETRYING, []);
    assert.equal(s.kind, 'no-pod');
    assert.equal(s.kind === 'no-pod' && s.retrying, true);
    assert.equal(moverStateLine(s, NOW), 'VolSync is retrying; no mover pod runs (sync in progress since 3m ago, last result Failed).');
  });

  it('a Failed pod of its Job or a Job with failed pods counts as retrying too, and is said', () => {
    const rs = source({ sync: ['True', 'SyncInProgress', NOW - 600_000] });
    const byPod = moverState(rs, [pod('volsync-src-plex-aaaaa', 'Failed', 500_000)]);
    assert.deepEqual(byPod, { kind: 'no-pod', retrying: true, since: new Date(NOW - 600_000), failedPods: 1 });
    const byJob = moverState(rs, [], { status: { failed: 3 } });
    assert.match(moverStateLine(byJob, NOW), /^VolSync is retrying; no mover pod runs \(sync in progress since 10m ago, 3 failed mover pods\)\.$/);
  });

  it('a sync in progress before any mover pod and without a failure: starting, not retrying', () => {
    const s = moverState(source({ sync: ['True', 'SyncInProgress', NOW - 20_000] }), []);
    assert.equal(moverStateLine(s, NOW), 'VolSync is starting a sync; no mover pod runs yet (sync in progress since 20s ago).');
  });

  it('a Running mover pod wins over a Pending one and over the condition; which pod, its phase, since when', () => {
    const s = moverState(RETRYING, [pod('volsync-src-plex-ppppp', 'Pending', 10_000), pod('volsync-src-plex-rrrrr', 'Running', 95_000)]);
    assert.equal(s.kind, 'mover');
    assert.equal(s.kind === 'mover' && s.pod.name, 'volsync-src-plex-rrrrr');
    assert.equal(moverStateLine(s, NOW), 'A sync is running: mover pod `volsync-src-plex-rrrrr` Running since 1m ago (and 1 more mover pod).');
    const pending = moverState(source(), [pod('volsync-src-plex-ppppp', 'Pending', 4 * 3_600_000)]);
    assert.equal(moverStateLine(pending, NOW), 'A sync is starting: mover pod `volsync-src-plex-ppppp` Pending since 4h ago.');
  });

  it("other sources' movers, other namespaces' pods, finished and deleting pods are not this source's mover", () => {
    const pods = [
      pod('volsync-src-plexx-aaaaa', 'Running', 1000, { job: 'volsync-src-plexx' }),
      pod('volsync-src-plex-bbbbb', 'Running', 1000, { ns: 'other' }),
      pod('volsync-src-plex-ccccc', 'Succeeded', 1000),
      pod('volsync-src-plex-ddddd', 'Running', 1000, { deleting: true }),
    ];
    assert.deepEqual(moverState(source(), pods), { kind: 'idle' });
    assert.equal(moverStateLine(moverState(source(), pods), NOW), 'No mover runs now.');
    // Synchronizing False (WaitingForSchedule) is idle whatever the last result.
    assert.deepEqual(moverState(source({ sync: ['False', 'WaitingForSchedule', NOW], result: 'Failed' }), []), { kind: 'idle' });
  });

  it('outside text in a phase cannot break the mrkdwn', () => {
    const s = moverState(source(), [{ ...pod('volsync-src-plex-eeeee', 'Running', 1000), status: { phase: 'Running', startTime: iso(NOW - 1000) } }]);
    assert.ok(s.kind === 'mover');
    const odd = { ...s, pod: { ...s.pod, phase: 'Pending <!channel> `x`' } };
    assert.doesNotMatch(moverStateLine(odd, NOW), /<!channel>/);
  });
});

describe('/backup status, /restic locks and /backup run say the same about the same source', () => {
  it('a failing source that VolSync retries: no reply says a sync is running', () => {
    const h = evaluateSource(RETRYING, indexInventory({ from: 'live', at: NOW, sources: [RETRYING], pods: [], jobs: [], pvcs: [], notes: [] }), NOW);
    assert.equal(h.state, 'failing');
    const data = { inventory: { from: 'live' as const, at: NOW, sources: [RETRYING], pods: [], jobs: [], pvcs: [], notes: [] }, health: [h], stuck: new Map(), notes: [] };
    const status = renderText(renderStatus(data, { now: NOW }));
    const detail = renderText(renderSourceDetail(data, NOW));
    const locks = moverLine([], new Date(NOW), moverState(RETRYING, []));
    const run = refusal(RETRYING, [], NOW) ?? '';
    const said = 'VolSync is retrying; no mover pod runs (sync in progress since 3m ago, last result Failed).';
    for (const [reply, text] of [['status', status], ['status detail', detail], ['restic locks', locks], ['backup run', run]] as const) {
      assert.ok(text.replace(/`/g, '').includes(said.replace(/`/g, '')), `${reply} says: ${text}`);
      assert.doesNotMatch(text, /A sync is running|is already running/, reply);
    }
  });

  it("/restic locks says VolSync retries the source also while a restore's mover uses the repository", () => {
    const restore = { namespace: 'media', name: 'volsync-dst-plex-restore-abcde', kind: 'destination' as const, owner: 'plex-restore', phase: 'Running', since: new Date(NOW - 60_000) };
    const line = moverLine([restore], new Date(NOW), moverState(RETRYING, []));
    assert.match(line, /volsync-dst-plex-restore-abcde` Running for 1m \(restore plex-restore\)\. VolSync is retrying; no mover pod runs/);
  });

  it('a source whose mover pod runs: every reply names the same pod', () => {
    const running = source({ sync: ['True', 'SyncInProgress', NOW - 120_000] });
    const pods = [pod('volsync-src-plex-rrrrr', 'Running', 95_000)];
    const inv = { from: 'live' as const, at: NOW, sources: [running], pods, jobs: [], pvcs: [], notes: [] };
    const h = evaluateSource(running, indexInventory(inv), NOW);
    const detail = renderText(renderSourceDetail({ inventory: inv, health: [h], stuck: new Map(), notes: [] }, NOW));
    const said = 'A sync is running: mover pod volsync-src-plex-rrrrr Running since 1m ago.';
    assert.ok(detail.includes(said), detail);
    assert.ok(moverLine(activeMovers(pods, 'plex'), new Date(NOW), moverState(running, pods)).includes('volsync-src-plex-rrrrr'));
    assert.match(refusal(running, pods, NOW) ?? '', /A sync is running: mover pod `volsync-src-plex-rrrrr` Running since 1m ago/);
  });
});
