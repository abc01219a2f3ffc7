// The alert queue: coalescing per group, capacity with back-pressure, retries that keep order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotificationQueue } from '../../src/alerts/notification-queue.ts';
import { crashLoopPayload as payload } from './alertmanager-fixtures.ts';

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

  it('a group larger than the capacity is taken cut to fit (the rest counted as truncated), never refused for ever, never beyond capacity', () => {
    const q = new NotificationQueue({ capacity: 2 });
    const r = q.offer(payload('big', [['a', 'firing'], ['b', 'firing'], ['c', 'firing']]));
    assert.equal(r.accepted, true);
    assert.equal(r.truncated, 1);
    assert.equal(q.depth, 2);
    const b = q.take()!;
    assert.deepEqual([...b.alerts.keys()], ['a', 'b']);
    assert.equal(b.truncatedAlerts, 1);
  });

  it('an empty queue does not take a notification beyond its capacity (50,000 alerts into 5,000)', () => {
    const q = new NotificationQueue({ capacity: 5000 });
    const alerts = Array.from({ length: 50_000 }, (_, i): [string, 'firing'] => [`fp${i}`, 'firing']);
    const r = q.offer(payload('huge', alerts));
    assert.equal(r.accepted, true);
    assert.ok(q.depth <= 5000, `depth ${q.depth}`);
    assert.equal(r.truncated, 45_000);
    assert.equal(q.offer(payload('next', [['x', 'firing']])).accepted, false, 'the queue is full now');
  });

  it('empty notifications count: each waiting group takes a place (200,000 empty groups are refused)', () => {
    const q = new NotificationQueue({ capacity: 100 });
    let accepted = 0;
    for (let i = 0; i < 200_000; i++) if (q.offer(payload(`empty-${i}`, [])).accepted) accepted++;
    assert.equal(accepted, 100);
    assert.equal(q.depth, 100);
    assert.equal(q.pendingGroups, 100);
    // A group already waiting is only refreshed, never refused for its own repeat.
    assert.equal(q.offer(payload('empty-0', [])).accepted, true);
  });

  it('counts groups: no more than maxGroups wait, however few alerts each has', () => {
    const q = new NotificationQueue({ capacity: 1000, maxGroups: 3 });
    for (const g of ['g1', 'g2', 'g3']) assert.equal(q.offer(payload(g, [[`${g}-a`, 'firing']])).accepted, true);
    assert.equal(q.offer(payload('g4', [['g4-a', 'firing']])).accepted, false);
    assert.equal(q.offer(payload('g1', [['g1-a', 'firing'], ['g1-b', 'firing']])).accepted, true, 'a waiting group still coalesces');
    const taken = q.take()!;
    assert.equal(q.offer(payload('g4', [['g4-a', 'firing']])).accepted, false, 'a group being posted still counts');
    q.done(taken);
    assert.equal(q.offer(payload('g4', [['g4-a', 'firing']])).accepted, true);
  });

  it('counts bytes: huge labels fill the queue long before the alert count does', () => {
    const q = new NotificationQueue({ capacity: 1000, maxBytes: 64 * 1024 });
    const big = (g: string) => {
      const p = payload(g, [[`${g}-a`, 'firing']]);
      p.alerts[0]!.annotations = { description: 'é'.repeat(10_000) }; // 20,000 bytes, 10,000 UTF-16 units
      return p;
    };
    let accepted = 0;
    for (let i = 0; i < 10; i++) if (q.offer(big(`g${i}`)).accepted) accepted++;
    assert.equal(accepted, 3);
    assert.ok(q.bytes <= 64 * 1024, `bytes ${q.bytes}`);
    q.done(q.take()!);
    assert.equal(q.offer(big('later')).accepted, true, 'room again once a group is posted');
  });

  it('one notification larger than the byte budget is cut to fit an empty queue', () => {
    const q = new NotificationQueue({ capacity: 1000, maxBytes: 64 * 1024 });
    const p = payload('wide', Array.from({ length: 20 }, (_, i): [string, 'firing'] => [`w${i}`, 'firing']));
    for (const a of p.alerts) a.annotations = { description: 'x'.repeat(10_000) };
    const r = q.offer(p);
    assert.equal(r.accepted, true);
    assert.ok(r.truncated! > 0);
    assert.ok(q.bytes <= 64 * 1024, `bytes ${q.bytes}`);
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
