// The queue behind acked Slack requests: served after pending I/O, bounded, and nothing dropped.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WorkQueue } from '../../src/slack/work-queue.ts';
import type { WorkItem } from '../../src/slack/work-queue.ts';

const item = (run: () => Promise<void>, abandon: () => Promise<void> = async () => {}): WorkItem => ({ run, abandon });
const turns = async (n: number) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };
const busy = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end) { /* CPU-bound command work */ } };

describe('WorkQueue', () => {
  it('starts at most one item per turn of the event loop, so a request that arrives meanwhile is answered before the backlog has run', async () => {
    const server = createServer((_req, res) => { res.end('ok'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const queue = new WorkQueue({ concurrency: 1, backlog: 100 });
      let started = 0;
      // 40 items of 10 ms of synchronous work each: run back to back they would hold the loop for 400 ms.
      for (let i = 0; i < 40; i++) assert.equal(queue.offer(item(async () => { started++; busy(10); })), true);
      const startedWhenAnswered = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(started)); });
        req.on('error', reject);
        req.end();
      });
      assert.ok(startedWhenAnswered < 15, `the request was answered after ${startedWhenAnswered} of 40 items had started`);
      await queue.idle();
      assert.equal(started, 40);
    } finally {
      server.close();
    }
  });

  it('runs an item in a later turn than the one it was offered in, and others scheduled meanwhile go first', async () => {
    const queue = new WorkQueue();
    const order: string[] = [];
    queue.offer(item(async () => { order.push('a'); }));
    queue.offer(item(async () => { order.push('b'); }));
    order.push('offered');
    setImmediate(() => order.push('other'));
    await queue.idle();
    assert.deepEqual(order, ['offered', 'a', 'other', 'b']);
  });

  it('runs no more than `concurrency` items at once', async () => {
    const queue = new WorkQueue({ concurrency: 3, backlog: 100 });
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    for (let i = 0; i < 10; i++) {
      queue.offer(item(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((r) => release.push(r));
        running--;
      }));
    }
    await turns(10);
    assert.equal(queue.running, 3);
    assert.equal(queue.waiting, 7);
    while (queue.running + queue.waiting > 0) {
      release.splice(0).forEach((r) => r());
      await turns(3);
    }
    assert.equal(most, 3);
  });

  it('refuses beyond its backlog (offer() says so and nothing is queued) and takes work again once there is room', async () => {
    const queue = new WorkQueue({ concurrency: 1, backlog: 2 });
    let release!: () => void;
    const ran: number[] = [];
    const blocker = new Promise<void>((r) => { release = r; });
    assert.equal(queue.offer(item(async () => { ran.push(0); await blocker; })), true);
    await turns(2); // 0 is running; the backlog is empty
    assert.equal(queue.offer(item(async () => { ran.push(1); })), true);
    assert.equal(queue.offer(item(async () => { ran.push(2); })), true);
    assert.equal(queue.hasRoom(), false);
    assert.equal(queue.offer(item(async () => { ran.push(3); })), false);
    assert.equal(queue.waiting, 2);
    release();
    await queue.idle();
    assert.deepEqual(ran, [0, 1, 2]);
    assert.equal(queue.offer(item(async () => { ran.push(4); })), true);
    await queue.idle();
    assert.deepEqual(ran, [0, 1, 2, 4]);
  });

  it('runs every accepted item exactly once, in order of arrival, whatever each takes and when some fail', async () => {
    const errors: unknown[] = [];
    const queue = new WorkQueue({ concurrency: 4, backlog: 5000, onError: (e) => errors.push(e) });
    const starts: number[] = [];
    const done = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      assert.equal(queue.offer(item(async () => {
        starts.push(i);
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, i % 3));
        done.set(i, (done.get(i) ?? 0) + 1);
        if (i % 500 === 0) throw new Error(`item ${i} failed`);
      })), true);
    }
    await queue.idle();
    assert.deepEqual(starts, Array.from({ length: 3000 }, (_, i) => i));
    assert.equal(done.size, 3000);
    assert.ok([...done.values()].every((n) => n === 1));
    assert.deepEqual(errors.map((e) => (e as Error).message), [0, 500, 1000, 1500, 2000, 2500].map((i) => `item ${i} failed`));
  });

  it('on stop abandons what has not started (each told), lets what runs finish, and takes nothing more', async () => {
    const queue = new WorkQueue({ concurrency: 1, backlog: 10 });
    const events: string[] = [];
    let release!: () => void;
    queue.offer(item(async () => { events.push('run 0'); await new Promise<void>((r) => { release = r; }); events.push('end 0'); }, async () => { events.push('abandon 0'); }));
    await turns(2);
    for (const n of [1, 2]) queue.offer(item(async () => { events.push(`run ${n}`); }, async () => { events.push(`abandon ${n}`); }));
    const stopped = queue.stop(5000);
    await turns(2);
    assert.deepEqual(events, ['run 0', 'abandon 1', 'abandon 2']);
    assert.equal(queue.offer(item(async () => { events.push('run 3'); })), false);
    release();
    await stopped;
    assert.deepEqual(events, ['run 0', 'abandon 1', 'abandon 2', 'end 0']);
  });
});
