// The alert queue: coalescing per group, capacity with back-pressure, retries that keep order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotificationQueue } from '../../src/alerts/notification-queue.ts';
import type { WebhookPayload } from '../../src/alerts/alertmanager-types.ts';

function payload(groupKey: string, alerts: Array<[string, 'firing' | 'resolved']>): WebhookPayload {
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: alerts.some(([, s]) => s === 'firing') ? 'firing' : 'resolved',
    receiver: 'bot',
    groupLabels: { alertname: 'KubePodCrashLooping' },
    commonLabels: { alertname: 'KubePodCrashLooping' },
    commonAnnotations: {},
    externalURL: 'http://am',
    alerts: alerts.map(([fp, status]) => ({
      status,
      labels: { alertname: 'KubePodCrashLooping', pod: fp },
      annotations: {},
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: fp,
    })),
  };
}

describe('NotificationQueue', () => {
  it('coalesces notifications of one group: one entry per alert, newest state wins', () => {
    const q = new NotificationQueue({ capacity: 10 });
    assert.equal(q.offer(payload('g1', [['a', 'firing'], ['b', 'firing']])).accepted, true);
    assert.equal(q.offer(payload('g1', [['a', 'resolved'], ['b', 'firing'], ['c', 'firing']])).accepted, true);
    assert.equal(q.depth, 3);
    assert.equal(q.pendingGroups, 1);
    const batch = q.take()!;
    assert.equal(batch.alerts.get('a')!.status, 'resolved');
    assert.deepEqual([...batch.alerts.keys()].sort(), ['a', 'b', 'c']);
  });

  it('refuses a notification that would overflow capacity, counting alerts in flight', () => {
    const q = new NotificationQueue({ capacity: 3 });
    assert.equal(q.offer(payload('g1', [['a', 'firing'], ['b', 'firing']])).accepted, true);
    const inFlight = q.take()!;
    assert.equal(q.depth, 2, 'taken alerts still count until done');
    assert.equal(q.offer(payload('g2', [['c', 'firing'], ['d', 'firing']])).accepted, false);
    assert.equal(q.offer(payload('g2', [['c', 'firing']])).accepted, true);
    q.done(inFlight);
    assert.equal(q.depth, 1);
    assert.equal(q.offer(payload('g3', [['e', 'firing'], ['f', 'firing']])).accepted, true);
  });

  it('takes any notification when empty, so one big group is never refused for ever', () => {
    const q = new NotificationQueue({ capacity: 2 });
    assert.equal(q.offer(payload('big', [['a', 'firing'], ['b', 'firing'], ['c', 'firing']])).accepted, true);
    assert.equal(q.depth, 3);
  });

  it('repeated full-set notifications of a waiting group do not grow the queue', () => {
    const q = new NotificationQueue({ capacity: 2 });
    for (let i = 0; i < 5; i++) assert.equal(q.offer(payload('g', [['a', 'firing'], ['b', 'firing']])).accepted, true);
    assert.equal(q.depth, 2);
  });

  it('runs one round per group at a time', () => {
    const q = new NotificationQueue({ capacity: 10 });
    q.offer(payload('g1', [['a', 'firing']]));
    const first = q.take()!;
    q.offer(payload('g1', [['b', 'firing']]));
    assert.equal(q.take(), undefined, 'g1 is in flight');
    q.done(first);
    assert.deepEqual([...q.take()!.alerts.keys()], ['b']);
  });

  it('a retried batch goes back under newer alerts, keeps its place, and waits for its delay', () => {
    const q = new NotificationQueue({ capacity: 10 });
    q.offer(payload('g1', [['a', 'firing']]));
    q.offer(payload('g2', [['x', 'firing']]));
    const b = q.take(1000)!;
    assert.equal(b.groupKey, 'g1');
    q.offer(payload('g1', [['a', 'resolved'], ['b', 'firing']]));
    q.retry(b, 500, 1000);
    assert.equal(q.depth, 3);
    assert.equal(q.take(1200)!.groupKey, 'g2', 'g1 waits for its back-off');
    assert.equal(q.nextRetryAt(), 1500);
    const again = q.take(1600)!;
    assert.equal(again.groupKey, 'g1');
    assert.equal(again.alerts.get('a')!.status, 'resolved', 'the newer state wins over the retried one');
    assert.equal(again.attempts, 1);
  });
});
