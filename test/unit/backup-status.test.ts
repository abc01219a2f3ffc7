/**
 * The verdict on each source and the one-message report, without a cluster: states and causes from
 * inventories built here, and a report that stays valid Block Kit from one source to thousands.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateAll, evaluateSource, indexInventory } from '../../src/backup/source-health.ts';
import type { Inventory } from '../../src/backup/inventory.ts';
import type { Pod, ReplicationSource } from '../../src/backup/objects.ts';
import { renderSourceDetail, renderStatus } from '../../src/backup/status-reply.ts';
import type { StatusData } from '../../src/backup/status.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { renderText } from '../../src/terminal/render-text.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';

const NOW = Date.parse('2026-01-18T10:30:00Z');
const M = 60_000;
const H = 60 * M;
const iso = (ms: number) => new Date(ms).toISOString();

function rs(name: string, o: { ns?: string; schedule?: string; paused?: boolean; lastSync?: number; next?: number; result?: string; logs?: string; sync?: [string, string, number, string?]; manual?: string; lastManual?: string; created?: number; duration?: string } = {}): ReplicationSource {
  return {
    metadata: { name, namespace: o.ns ?? 'apps', creationTimestamp: iso(o.created ?? NOW - 30 * 24 * H) },
    spec: { sourcePVC: name, paused: o.paused, trigger: { schedule: o.schedule ?? '0 * * * *', manual: o.manual } },
    status: {
      lastSyncTime: o.lastSync !== undefined ? iso(o.lastSync) : undefined,
      nextSyncTime: o.next !== undefined ? iso(o.next) : undefined,
      lastSyncDuration: o.duration,
      lastManualSync: o.lastManual,
      latestMoverStatus: o.result ? { result: o.result, logs: o.logs } : undefined,
      conditions: o.sync ? [{ type: 'Synchronizing', status: o.sync[0], reason: o.sync[1], lastTransitionTime: iso(o.sync[2]), message: o.sync[3] ?? '' }] : undefined,
    },
  };
}

function moverPod(source: string, phase: string, since: number, waiting?: string, ns = 'apps'): Pod {
  return {
    metadata: { name: `volsync-src-${source}-abcde`, namespace: ns, labels: { 'job-name': `volsync-src-${source}` }, creationTimestamp: iso(since) },
    status: { phase, startTime: iso(since), containerStatuses: waiting ? [{ name: 'restic', state: { waiting: { reason: waiting } } }] : [] },
  };
}

function inventory(sources: ReplicationSource[], extra: Partial<Inventory> = {}): Inventory {
  return { from: 'live', at: NOW, sources, pods: [], jobs: [], pvcs: sources.map((s) => ({ metadata: { name: s.spec!.sourcePVC, namespace: s.metadata!.namespace }, spec: { volumeName: `pvc-${s.metadata!.name}` }, status: { phase: 'Bound' } })), volumes: [], notes: [], ...extra };
}

function data(inv: Inventory): StatusData {
  return { inventory: inv, health: evaluateAll(inv, NOW), stuck: new Map(), notes: inv.notes };
}

function valid(r: ReturnType<typeof renderStatus>): void {
  const out = renderBlocks(r);
  assert.deepEqual(validateBlocks(out.blocks), []);
  assert.ok(out.blocks.length <= 50);
}

describe('source verdicts', () => {
  const one = (s: ReplicationSource, extra: Partial<Inventory> = {}) => evaluateSource(s, indexInventory(inventory([s], extra)), NOW);

  test('synced within the schedule: healthy', () => {
    const h = one(rs('a', { lastSync: NOW - 20 * M, next: NOW + 30 * M, result: 'Successful' }));
    assert.equal(h.state, 'healthy');
    assert.deepEqual(h.causes, []);
  });

  test('overdue is cron-aware: two firings passed (plus grace), not just "more than an hour"', () => {
    // Hourly: last sync 09:00:40; 10:00 and 11:00 due. At 10:30 only one has passed.
    assert.equal(one(rs('a', { lastSync: Date.parse('2026-01-18T09:00:40Z') })).state, 'healthy');
    const h = one(rs('a', { lastSync: Date.parse('2026-01-18T08:00:40Z') }));
    assert.equal(h.state, 'overdue');
    assert.match(h.causes[0]!.text, /last successful sync 2026-01-18T08:00:40Z \(2h 29m ago\); 2 scheduled runs \(`0 \* \* \* \*`\) passed without one/);
    // Weekdays at 02:00: a sync on Friday is not overdue on Sunday (no run was due), it is on Tuesday.
    const weekday = (now: string) => evaluateSource(rs('w', { schedule: '0 2 * * 1-5', lastSync: Date.parse('2026-01-16T02:01:00Z') }), indexInventory(inventory([])), Date.parse(now));
    assert.equal(weekday('2026-01-18T12:00:00Z').state, 'healthy');
    assert.equal(weekday('2026-01-19T12:00:00Z').state, 'healthy', 'one run (Monday) missed');
    assert.equal(weekday('2026-01-20T12:00:00Z').state, 'overdue', 'Monday and Tuesday missed');
  });

  test('a long sync gets twice its duration as grace', () => {
    const s = rs('a', { lastSync: Date.parse('2026-01-18T08:10:00Z'), duration: '25m0s' });
    // 09:00 and 10:00 passed; 10:00 + 50 min grace is after 10:30.
    assert.equal(one(s).state, 'healthy');
  });

  test('never synced: overdue once two runs passed since creation', () => {
    assert.equal(one(rs('new', { created: NOW - 10 * M })).state, 'healthy');
    const h = one(rs('old', { created: NOW - 3 * H }));
    assert.equal(h.state, 'overdue');
    assert.match(h.causes[0]!.text, /never synced since it was created 3h ago/);
  });

  test('nextSyncTime a whole interval in the past', () => {
    const h = one(rs('a', { lastSync: NOW - 50 * M, next: NOW - 2 * H }));
    assert.equal(h.state, 'overdue');
    assert.match(h.causes[0]!.text, /next sync was due .* \(2h ago\) and has not run/);
  });

  test('failed mover with a lock in its log: failing, log tail and the /restic hint', () => {
    const logs = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\nunable to create lock in backend: repository is already locked by PID 32';
    const h = one(rs('plex', { lastSync: NOW - 10 * M, result: 'Failed', logs }));
    assert.equal(h.state, 'failing');
    assert.equal(h.logTail?.split('\n').length, 12);
    assert.match(h.causes[0]!.hint!, /`\/restic locks apps plex`/);
  });

  test('Synchronizing error: failing with the message', () => {
    const h = one(rs('x', { lastSync: NOW - 10 * M, sync: ['False', 'Error', NOW - M, 'a replication method must be specified'] }));
    assert.equal(h.state, 'failing');
    assert.match(h.causes[0]!.text, /a replication method must be specified/);
  });

  test('stuck mover pod and faulted Longhorn volume; running otherwise', () => {
    const s = rs('meili', { lastSync: NOW - 20 * M, sync: ['True', 'SyncInProgress', NOW - 20 * M] });
    const stuck = one(s, { pods: [moverPod('meili', 'Pending', NOW - 20 * M, 'ContainerCreating')] });
    assert.equal(stuck.state, 'failing');
    assert.match(stuck.causes[0]!.text, /stuck in Pending \(ContainerCreating\) for 20m/);
    const starting = one(s, { pods: [moverPod('meili', 'Pending', NOW - 2 * M, 'ContainerCreating')] });
    assert.equal(starting.state, 'running', 'two minutes is starting, not stuck');
    const faulted = one(rs('db', { lastSync: NOW - 20 * M }), { volumes: [{ metadata: { name: 'pvc-db' }, status: { state: 'detached', robustness: 'faulted' } }] });
    assert.equal(faulted.state, 'failing');
    assert.match(faulted.causes[0]!.text, /Longhorn volume `pvc-db` behind PVC `db` is \*faulted\*/);
    const unknown = one(rs('db', { lastSync: NOW - 20 * M }), { volumes: [{ metadata: { name: 'pvc-db' }, status: { state: 'unknown' } }] });
    assert.equal(unknown.state, 'failing');
  });

  test('paused wins; a manual trigger pending is noticed', () => {
    assert.equal(one(rs('p', { paused: true, lastSync: NOW - 5 * 24 * H })).state, 'paused');
    assert.equal(one(rs('m', { lastSync: NOW - 10 * M, manual: 'run-2', lastManual: 'run-1' })).manualPending, 'run-2');
    assert.equal(one(rs('m', { lastSync: NOW - 10 * M, manual: 'run-2', lastManual: 'run-2' })).manualPending, undefined);
  });
});

describe('the report', () => {
  test('counts, problems first, then running, paused and healthy; terminal text too', () => {
    const inv = inventory([
      rs('ok', { lastSync: NOW - 10 * M }),
      rs('late', { lastSync: NOW - 6 * H }),
      rs('bad', { lastSync: NOW - 10 * M, result: 'Failed', logs: 'boom <!channel> & more' }),
      rs('run', { lastSync: NOW - 50 * M, sync: ['True', 'SyncInProgress', NOW - 3 * M] }),
      rs('zz', { paused: true }),
    ]);
    const r = renderStatus(data(inv), { now: NOW });
    valid(r);
    const text = renderText(r);
    const order = ['apps/bad', 'apps/late', 'Running (1)', 'Paused (1)', 'Healthy (1)'].map((x) => text.indexOf(x));
    assert.ok(order.every((p) => p >= 0), text);
    assert.deepEqual([...order].sort((a, b) => a - b), order);
    assert.match(r.text, /5 sources: 1 failing, 1 overdue, 1 running, 1 paused, 1 healthy/);
    // Log text cannot ping the channel.
    assert.doesNotMatch(JSON.stringify(renderBlocks(r).blocks), /<!channel>/);
  });

  test('thousands of sources: one valid message that summarises and says how to narrow down', () => {
    const sources: ReplicationSource[] = [];
    const pods: Pod[] = [];
    for (let n = 0; n < 1000; n++) {
      for (let i = 0; i < 5; i++) {
        const ns = `team-${String(n).padStart(4, '0')}`;
        const kind = (n * 5 + i) % 10;
        const name = `app-${i}`;
        if (kind === 0) sources.push(rs(name, { ns, lastSync: NOW - 30 * H, result: 'Failed', logs: 'x'.repeat(5000) }));
        else if (kind === 1) sources.push(rs(name, { ns, lastSync: NOW - 9 * H }));
        else if (kind === 2) { sources.push(rs(name, { ns, lastSync: NOW - 20 * M, sync: ['True', 'SyncInProgress', NOW - 40 * M] })); pods.push(moverPod(name, 'Pending', NOW - 40 * M, 'ContainerCreating', ns)); }
        else sources.push(rs(name, { ns, lastSync: NOW - 10 * M }));
      }
    }
    const inv = inventory(sources, { pods });
    const started = performance.now();
    const r = renderStatus(data(inv), { now: NOW });
    const took = performance.now() - started;
    valid(r);
    const json = JSON.stringify(renderBlocks(r));
    assert.match(json, /5000 sources/);
    assert.match(json, /Narrow down with `\/backup status &lt;namespace&gt;`|Narrow down with `\/backup status <namespace>`/);
    assert.match(json, /…and \d+ more problems/);
    assert.match(json, /Healthy \(3500 in 1000 namespaces\):\* not listed one by one/);
    assert.ok(took < 5000, `rendering took ${took} ms`);
  });

  test('one source, no sources, and detail view are valid too', () => {
    valid(renderStatus(data(inventory([])), { now: NOW }));
    const inv = inventory([rs('bad', { lastSync: NOW - 10 * M, result: 'Failed', logs: 'y\n'.repeat(3000) })]);
    const d = renderSourceDetail(data(inv), NOW);
    valid(d);
    assert.match(renderText(d), /Backup apps\/bad/);
  });
});
