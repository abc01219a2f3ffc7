// Level-triggered delivery: the thread map compared with what Alertmanager holds queues exactly
// what is missing (firing alerts not shown) and what ended while the bot was away, nothing else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { NotificationQueue } from '../../src/alerts/notification-queue.ts';
import { MemoryThreadStore } from '../../src/alerts/thread-store.ts';
import { reconcileOnce, rootGroupKey } from '../../src/alerts/reconcile.ts';
import type { ReconcileDeps } from '../../src/alerts/reconcile.ts';
import type { AlertGroup, GettableAlert } from '../../src/alerts/alertmanager-types.ts';

const log = pino({ level: 'silent' });
const labels = { alertname: 'KubePodCrashLooping', namespace: 'media' };

function am(fp: string, state: 'active' | 'suppressed' = 'active', startsAt = '2026-01-01T00:00:00Z'): GettableAlert {
  return {
    labels: { ...labels, pod: `pod-${fp}` }, annotations: {}, startsAt, endsAt: '2026-01-01T05:00:00Z', updatedAt: startsAt, fingerprint: fp,
    receivers: [{ name: 'bot' }], status: { state, silencedBy: [], inhibitedBy: [] },
  };
}

function setup(groups: AlertGroup[]) {
  const queue = new NotificationQueue({ capacity: 1000 });
  const store = new MemoryThreadStore();
  const deps: ReconcileDeps = {
    source: { alertGroups: async () => groups, webhookReceivers: async () => ['bot'] },
    store, offer: (p) => queue.offer(p), queueIdle: () => queue.depth === 0, seenReceivers: new Set(), log,
    now: () => new Date('2026-01-01T01:00:00Z'),
  };
  return { queue, store, deps };
}

const thread = (alerts: Record<string, 'f' | 'r'>, groupKey = rootGroupKey(labels), receiver = 'bot') =>
  ({ groupKey, channel: 'C0X', threadTs: '1.0', createdAt: Date.now(), updatedAt: Date.now(), receiver, groupLabels: labels, alerts });

describe('reconcile with Alertmanager', () => {
  it('the group key is Alertmanager\'s own for the root route', () => {
    assert.equal(rootGroupKey({ namespace: 'media', alertname: 'A"x' }), '{}:{alertname="A\\"x", namespace="media"}');
  });

  it('a group the bot never posted (killed after answering 200) is queued whole', async () => {
    const { queue, deps } = setup([{ labels, receiver: { name: 'bot' }, alerts: [am('a'), am('b')] }]);
    const r = await reconcileOnce(deps);
    assert.deepEqual({ groups: r.groups, missing: r.missing, ended: r.ended }, { groups: 1, missing: 2, ended: 0 });
    const b = queue.take()!;
    assert.equal(b.groupKey, rootGroupKey(labels));
    assert.deepEqual([...b.alerts.keys()].sort(), ['a', 'b']);
    assert.ok([...b.alerts.values()].every((a) => a.status === 'firing'));
  });

  it('queues only what the thread does not show, and what ended while the bot was away', async () => {
    const { queue, store, deps } = setup([{ labels, receiver: { name: 'bot' }, alerts: [am('a'), am('b'), am('s', 'suppressed')] }]);
    await store.put(thread({ a: 'f', gone: 'f', s: 'f', old: 'r' }, '{}/{team="x"}:{alertname="KubePodCrashLooping", namespace="media"}'));
    const r = await reconcileOnce(deps);
    assert.deepEqual({ groups: r.groups, missing: r.missing, ended: r.ended }, { groups: 1, missing: 1, ended: 1 });
    const b = queue.take()!;
    assert.equal(b.groupKey, '{}/{team="x"}:{alertname="KubePodCrashLooping", namespace="media"}', 'the thread\'s own group key');
    assert.equal(b.alerts.get('b')?.status, 'firing');
    assert.equal(b.alerts.get('gone')?.status, 'resolved');
    assert.equal(b.alerts.size, 2, 'a (shown) and s (silenced, still held) are left alone');
  });

  it('a thread whose whole group is gone from Alertmanager is resolved; nothing is queued when all is shown', async () => {
    const { queue, store, deps } = setup([{ labels: { alertname: 'Other' }, receiver: { name: 'bot' }, alerts: [am('z')] }]);
    await store.put(thread({ a: 'f', b: 'r' }));
    await store.put({ ...thread({ z: 'f' }, rootGroupKey({ alertname: 'Other' })), groupLabels: { alertname: 'Other' } });
    const r = await reconcileOnce(deps);
    assert.deepEqual({ groups: r.groups, missing: r.missing, ended: r.ended }, { groups: 1, missing: 0, ended: 1 });
    const b = queue.take()!;
    assert.equal(b.groupKey, rootGroupKey(labels));
    assert.deepEqual([...b.alerts.entries()].map(([k, a]) => [k, a.status]), [['a', 'resolved']]);
  });

  it('leaves alone groups of receivers that do not deliver to the bot, and threads of another Alertmanager', async () => {
    const { queue, store, deps } = setup([{ labels, receiver: { name: 'pagerduty' }, alerts: [am('a')] }]);
    await store.put(thread({ x: 'f' }, rootGroupKey({ alertname: 'Elsewhere' }), 'other-am-receiver'));
    const r = await reconcileOnce(deps);
    assert.equal(r.groups, 0);
    assert.equal(queue.depth, 0);
  });

  it('does nothing while the queue is busy, and defers what does not fit', async () => {
    const groups = Array.from({ length: 5 }, (_, i): AlertGroup => ({ labels: { alertname: `A${i}` }, receiver: { name: 'bot' }, alerts: [am(`f${i}`)] }));
    const { queue, deps } = setup(groups);
    const busy = await reconcileOnce({ ...deps, queueIdle: () => false });
    assert.equal(busy.skipped, 'queue-busy');
    const r = await reconcileOnce({ ...deps, maxGroups: 3 });
    assert.equal(r.groups, 3);
    assert.equal(r.deferred, 2);
    assert.equal(queue.pendingGroups, 3);
  });

  it('periodic runs leave the youngest alerts to Alertmanager\'s own notification', async () => {
    const { deps } = setup([{ labels, receiver: { name: 'bot' }, alerts: [am('young', 'active', '2026-01-01T00:59:30Z'), am('old')] }]);
    const r = await reconcileOnce({ ...deps, minAgeMs: 120_000 });
    assert.equal(r.missing, 1);
  });
});
