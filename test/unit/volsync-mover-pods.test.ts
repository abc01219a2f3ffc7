import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { activeMovers, cachedMoverPods, isMoverHostname, jobNameOf, moverFromPod, moverJobName, parseMoverJob, parseMoverPodName, sourceJobName } from '../../src/volsync/mover-pods.ts';
import type { Kube } from '../../src/kube/client.ts';

describe("VolSync's mover naming, in one place", () => {
  it('names the Jobs of sources and destinations', () => {
    assert.equal(sourceJobName('plex'), 'volsync-src-plex');
    assert.equal(moverJobName('destination', 'plex-restore'), 'volsync-dst-plex-restore');
  });

  it('reads whose mover a Job or a pod is', () => {
    assert.deepEqual(parseMoverJob('volsync-src-plex'), { kind: 'source', owner: 'plex' });
    assert.deepEqual(parseMoverJob('volsync-dst-media-restore'), { kind: 'destination', owner: 'media-restore' });
    assert.equal(parseMoverJob('backup-plex'), undefined);
    assert.deepEqual(parseMoverPodName('volsync-src-plex-nzlv6'), { kind: 'source', owner: 'plex' });
    assert.deepEqual(parseMoverPodName('volsync-src-plex'), { kind: 'source', owner: 'plex' });
    assert.equal(parseMoverPodName('volsync-src-plex', 'required'), undefined);
    assert.deepEqual(parseMoverPodName('volsync-dst-media-restore-q5m9z', 'required'), { kind: 'destination', owner: 'media-restore' });
    assert.equal(parseMoverPodName('plex-5d8c7b9f6d-abcde'), undefined);
  });

  it('tells a mover hostname from any other', () => {
    assert.equal(isMoverHostname('volsync-src-plex-nzlv6'), true);
    assert.equal(isMoverHostname('volsync-dst-x'), true);
    assert.equal(isMoverHostname('volsync-src-'), false);
    assert.equal(isMoverHostname('restic-shell'), false);
  });

  it("reads the Job from the Job controller's labels, the new one first", () => {
    assert.equal(jobNameOf({ metadata: { labels: { 'job-name': 'old', 'batch.kubernetes.io/job-name': 'new' } } }), 'new');
    assert.equal(jobNameOf({ metadata: { labels: { 'job-name': 'old' } } }), 'old');
    assert.equal(jobNameOf({ metadata: {} }), undefined);
  });

  it('one MoverPod shape for the alerts and for unlock', () => {
    const pod: V1Pod = {
      metadata: { namespace: 'media', name: 'volsync-src-plex-abcde', labels: { 'job-name': 'volsync-src-plex' } },
      status: { phase: 'Running', startTime: new Date('2026-11-22T02:04:00Z'), containerStatuses: [{ name: 'restic', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date('2026-11-22T02:05:00Z') } } }] },
    };
    assert.deepEqual(moverFromPod(pod), { namespace: 'media', name: 'volsync-src-plex-abcde', kind: 'source', owner: 'plex', phase: 'Running', since: new Date('2026-11-22T02:05:00Z') });
    assert.deepEqual(activeMovers([pod], 'plex'), [{ namespace: 'media', name: 'volsync-src-plex-abcde', kind: 'source', owner: 'plex', phase: 'Running', since: new Date('2026-11-22T02:04:00Z') }]);
  });
});

describe('the one mover lookup', () => {
  const kubeListing = (calls: { n: number }, fail = false) => ({
    server: 'https://k',
    core: {
      listPodForAllNamespaces: async (req: { labelSelector?: string }) => {
        calls.n++;
        assert.equal(req.labelSelector, 'app.kubernetes.io/created-by=volsync');
        if (fail) throw new Error('forbidden');
        return { items: [{ metadata: { name: 'volsync-src-a-abcde' } }, { metadata: { name: 'volsync-src-b-abcde', deletionTimestamp: new Date() } }] };
      },
    },
  }) as unknown as Kube;

  it('asks once per cache period, cluster-wide, and leaves out pods being deleted', async () => {
    const calls = { n: 0 };
    const pods = cachedMoverPods(kubeListing(calls), { cacheMs: 10_000 });
    const t0 = new Date('2026-11-22T02:00:00Z');
    const [a, b] = await Promise.all([pods(t0), pods(new Date(t0.getTime() + 5_000))]);
    assert.equal(calls.n, 1);
    assert.deepEqual(a.pods.map((p) => p.metadata?.name), ['volsync-src-a-abcde']);
    assert.equal(a, b);
    await pods(new Date(t0.getTime() + 10_000));
    assert.equal(calls.n, 2);
  });

  it('does not cache a failed look', async () => {
    const calls = { n: 0 };
    const pods = cachedMoverPods(kubeListing(calls, true));
    const t0 = new Date('2026-11-22T02:00:00Z');
    const r = await pods(t0);
    assert.match(r.error ?? '', /list VolSync mover pods/);
    await pods(t0);
    assert.equal(calls.n, 2);
  });
});
