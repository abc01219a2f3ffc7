import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseFileConfig } from '../../src/config.ts';
import { IncidentWatch } from '../../src/backup/incident-watch.ts';
import { IncidentStore, MemoryBackend, decodeIncident, encodeIncident, incidentKey, pruneIncidents } from '../../src/backup/incident-store.ts';
import type { IncidentRecord } from '../../src/backup/incident-store.ts';
import type { Inventory } from '../../src/backup/inventory.ts';

const log = pino({ level: 'silent' });
const H = 3_600_000;
const M = 60_000;
const iso = (t: number) => new Date(t).toISOString();
const LOCK_LOG = 'unable to create lock in backend: repository is already locked by PID 32 on volsync-src-plex-nzlv6 by root (UID 0, GID 0)';

interface Post { channel: string; ts: string; thread_ts?: string; text: string; colour?: string }

function fakeSlack() {
  const posts: Post[] = [];
  const updates: Post[] = [];
  // The mrkdwn of every posted section, and the longest, to check what a reader sees.
  const postedBlocks: Array<{ thread_ts?: string; text: string; longestSection: number }> = [];
  const sections = (b: unknown) => ((b as Array<{ text?: { text?: string } }> | undefined) ?? []).map((x) => x.text?.text ?? '');
  let n = 0;
  const colour = (a: unknown) => ((a as Array<{ color?: string }> | undefined)?.[0]?.color);
  return {
    posts, updates, postedBlocks,
    poster: {
      post: async (a: { channel: string; thread_ts?: string; text?: string; attachments?: unknown; blocks?: unknown }) => {
        const secs = sections(a.blocks);
        postedBlocks.push({ ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}), text: secs.join('\n'), longestSection: Math.max(0, ...secs.map((t) => t.length)) });
        const ts = `100.${String(++n).padStart(4, '0')}`;
        posts.push({ channel: a.channel, ts, ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}), text: a.text ?? '', ...(colour(a.attachments) ? { colour: colour(a.attachments) } : {}) });
        return { ok: true, ts };
      },
      update: async (a: { channel: string; ts: string; text?: string; attachments?: unknown }) => {
        updates.push({ channel: a.channel, ts: a.ts, text: a.text ?? '', ...(colour(a.attachments) ? { colour: colour(a.attachments) } : {}) });
        return { ok: true };
      },
    },
  };
}

function world(now: number, o: { plexOk?: boolean } = {}): Inventory {
  const src = (name: string, status: Record<string, unknown>, spec: Record<string, unknown> = {}) => ({
    metadata: { namespace: 'media', name, creationTimestamp: iso(now - 30 * 24 * H) }, spec: { sourcePVC: name, trigger: { schedule: '0 * * * *' }, ...spec }, status,
  });
  return {
    from: 'cache', at: now, notes: [], jobs: [], pods: [],
    sources: [
      src('config', { lastSyncTime: iso(now - 10 * M), latestMoverStatus: { result: 'Successful' } }),
      o.plexOk
        ? src('plex', { lastSyncTime: iso(now - M), lastSyncStartTime: iso(now - 2 * M), latestMoverStatus: { result: 'Successful' } })
        : src('plex', { lastSyncTime: iso(now - 20 * M), lastSyncStartTime: iso(now - 5 * M), latestMoverStatus: { result: 'Failed', logs: LOCK_LOG } }),
      src('late', { lastSyncTime: iso(now - 5 * H), latestMoverStatus: { result: 'Successful' } }),
    ] as never,
    pvcs: [{ metadata: { namespace: 'media', name: 'orphan', labels: { backup: 'hourly' }, creationTimestamp: iso(now - 3 * H) } }] as never,
  };
}

const config = parseFileConfig({ alerts: { channel: 'C0ALERTS', routes: [{ match: { namespace: 'media' }, channel: 'C0MEDIA' }] } }, 'test');

test('a round opens one thread per problem; the next round posts nothing; recovery closes and recolours; a flap reuses the thread', async () => {
  let now = Date.parse('2026-12-02T12:00:00Z');
  let inv = world(now);
  const slack = fakeSlack();
  const store = IncidentStore.inMemory({ now: () => now });
  const watch = new IncidentWatch({ config, store, poster: slack.poster as never, inventory: () => inv, log, now: () => now });

  const r1 = await watch.round();
  assert.deepEqual([r1.opened, r1.updated, r1.resolved], [3, 0, 0]);
  const parents = slack.posts.filter((p) => !p.thread_ts);
  assert.equal(parents.length, 3);
  assert.ok(parents.every((p) => p.channel === 'C0MEDIA'), 'routed by namespace');
  const plex = parents.find((p) => p.text.includes('media/plex'))!;
  assert.match(plex.text, /media\/plex: backups failing for 5m .*— repository locked by a mover pod that no longer exists/);
  assert.equal(plex.colour, '#E01E5A');
  assert.ok(parents.some((p) => /media\/late: backups overdue/.test(p.text)));
  assert.ok(parents.some((p) => /media\/orphan: PVC not backed up/.test(p.text)));
  assert.ok(slack.posts.some((p) => p.thread_ts === plex.ts && /Diagnosis of media\/plex/.test(p.text)), 'the diagnosis is in the thread');

  // Ten minutes on: the same problems, only older: nothing new to say.
  const before = slack.posts.length;
  now += 10 * M;
  inv = world(now);
  const r2 = await watch.round();
  assert.deepEqual([r2.opened, r2.updated, r2.resolved], [0, 0, 0]);
  assert.equal(slack.posts.length, before);

  // plex syncs successfully: its thread says so, and the parent turns green.
  now += 5 * M;
  inv = world(now, { plexOk: true });
  const r3 = await watch.round();
  assert.equal(r3.resolved, 1);
  const closing = slack.posts.filter((p) => p.thread_ts === plex.ts).at(-1)!;
  assert.match(closing.text, /Healthy again after \d+m/);
  const recolour = slack.updates.find((u) => u.ts === plex.ts)!;
  assert.equal(recolour.colour, '#2EB67D');
  assert.match(recolour.text, /media\/plex: healthy again after/);

  // It fails again within the hour: the same thread, the parent red again, no new parent.
  now += 10 * M;
  inv = world(now);
  const parentsBefore = slack.posts.filter((p) => !p.thread_ts).length;
  await watch.round();
  assert.equal(slack.posts.filter((p) => !p.thread_ts).length, parentsBefore);
  assert.match(slack.posts.filter((p) => p.thread_ts === plex.ts).at(-1)!.text + slack.posts.filter((p) => p.thread_ts === plex.ts).at(-2)!.text, /Back again: backups failing/);
  assert.equal(slack.updates.filter((u) => u.ts === plex.ts).at(-1)!.colour, '#E01E5A');
});

test('two replicas sharing one store post each incident once; a restarted bot posts nothing twice', async () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  const inv = world(now);
  const backend = new MemoryBackend();
  const slack = fakeSlack();
  const make = (id: string) => new IncidentWatch({ config, store: new IncidentStore(backend, 'mem', { identity: id, now: () => now }), poster: slack.poster as never, inventory: () => inv, log, now: () => now });
  const [a, b] = [make('a'), make('b')];
  await Promise.all([a.round(), b.round()]);
  assert.equal(slack.posts.filter((p) => !p.thread_ts).length, 3);
  const restarted = make('a-again');
  const before = slack.posts.length;
  await restarted.round();
  assert.equal(slack.posts.length, before);
});

test('a claim is create-only; a stale unposted claim is taken over; a failed post releases it', async () => {
  let now = 1_000_000;
  const backend = new MemoryBackend();
  const a = new IncidentStore(backend, 'mem', { identity: 'a', now: () => now });
  const b = new IncidentStore(backend, 'mem', { identity: 'b', now: () => now });
  const ask = { id: 'ns/x/failing', kind: 'failing' as const, channel: 'C0X', since: 1 };
  const first = await a.claim(ask);
  assert.ok('claimed' in first);
  assert.ok('taken' in (await b.claim(ask)), 'another replica sees it taken');
  now += 61_000;
  const over = await b.claim(ask);
  assert.ok('claimed' in over, 'a claim nobody posted within its TTL is taken over');
  assert.equal(await a.save({ ...(first as { claimed: IncidentRecord }).claimed, ts: '1.1' }), false, 'the old claimant may not write over the new claim');
  await b.release((over as { claimed: IncidentRecord }).claimed);
  assert.equal((await b.all()).length, 0);
});

test('the byte budget evicts resolved incidents first, oldest resolution first', () => {
  const rec = (id: string, o: Partial<IncidentRecord>): IncidentRecord => ({ id, kind: 'failing', channel: 'C0X', ts: '1.1', openedAt: 100, since: 50, facts: ['a'.repeat(10)], ...o });
  const data: Record<string, string> = {};
  for (const r of [rec('ns/open-old/failing', { openedAt: 1 }), rec('ns/res-new/failing', { resolvedAt: 900 }), rec('ns/res-old/failing', { resolvedAt: 500 }), rec('ns/open-new/failing', { openedAt: 800 })]) data[incidentKey(r.id)] = encodeIncident(r);
  const one = Object.entries(data).reduce((n, [k, v]) => Math.max(n, Buffer.byteLength(k) + Buffer.byteLength(v) + 8), 0);
  const removed = pruneIncidents(data, { maxBytes: one * 2 + 4, resolvedTtlMs: 1e12, flapMs: 0, claimTtlMs: 0 }, 1000);
  assert.deepEqual(removed, [incidentKey('ns/res-old/failing'), incidentKey('ns/res-new/failing')]);
  const left = Object.values(data).map((t) => decodeIncident(t)!.id).sort();
  assert.deepEqual(left, ['ns/open-new/failing', 'ns/open-old/failing']);
  // Expired resolved ones go regardless of the budget; unreadable entries too.
  data['i.bad'] = '{not json';
  data[incidentKey('ns/gone/failing')] = encodeIncident(rec('ns/gone/failing', { resolvedAt: 0 }));
  assert.deepEqual(pruneIncidents(data, { maxBytes: 1e9, resolvedTtlMs: 100, flapMs: 0, claimTtlMs: 0 }, 1000).sort(), ['i.bad', incidentKey('ns/gone/failing')].sort());
});

test('a storm of 500 sources failing on one S3 outage is one parent with every source in its thread, closed as they recover', async () => {
  let now = Date.parse('2026-12-02T12:00:00Z');
  const S3_DOWN = 'Save(<lock/1a2b>) returned error, retrying after 1.2s: dial tcp 10.0.0.5:9000: connect: connection refused\nFatal: unable to save snapshot';
  const recovered = new Set<number>();
  const inv = (): Inventory => ({
    from: 'cache', at: now, notes: [], jobs: [], pods: [], pvcs: [],
    sources: Array.from({ length: 500 }, (_, i) => ({
      metadata: { namespace: `team-${i % 20}`, name: `app-${i}`, creationTimestamp: iso(now - 30 * 24 * H) },
      spec: { sourcePVC: `app-${i}`, trigger: { schedule: '0 * * * *' } },
      status: recovered.has(i)
        ? { lastSyncTime: iso(now - M), lastSyncStartTime: iso(now - 2 * M), latestMoverStatus: { result: 'Successful' } }
        : { lastSyncTime: iso(Date.parse('2026-12-02T11:50:00Z')), lastSyncStartTime: iso(Date.parse('2026-12-02T11:55:00Z')), latestMoverStatus: { result: 'Failed', logs: S3_DOWN } },
    })) as never,
  });
  const slack = fakeSlack();
  const watch = new IncidentWatch({ config: parseFileConfig({ alerts: { channel: 'C0ALERTS' } }, 't'), store: IncidentStore.inMemory({ now: () => now }), poster: slack.poster as never, inventory: inv, log, now: () => now });
  const r = await watch.round();
  assert.equal(r.opened, 500);
  const parents = slack.posts.filter((p) => !p.thread_ts);
  assert.equal(parents.length, 1);
  assert.match(parents[0]!.text, /^500 sources failing: storage endpoint unreachable — for 5m/);
  // Every source is named in the thread (nothing dropped), in a few replies, not 500.
  const thread = slack.posts.filter((p) => p.thread_ts === parents[0]!.ts);
  assert.ok(thread.length < 20, `${thread.length} replies`);
  const blocksText = slack.postedBlocks.filter((b) => b.thread_ts === parents[0]!.ts).map((b) => b.text).join('\n');
  for (let i = 0; i < 500; i++) assert.match(blocksText, new RegExp(`team-${i % 20}/app-${i}\\*`), `app-${i} listed`);
  for (const b of slack.postedBlocks) assert.ok(b.longestSection <= 3000, 'every section fits Slack\'s limit');

  // 200 recover: one list of them (in as few replies as fit), the parent counts down.
  now += 10 * M;
  for (let i = 0; i < 200; i++) recovered.add(i);
  const before = slack.posts.length;
  const r2 = await watch.round();
  assert.equal(r2.resolved, 200);
  assert.ok(slack.posts.length - before <= 5, `${slack.posts.length - before} posts for 200 recoveries`);
  assert.match(slack.updates.at(-1)!.text, /^300 of 500 sources failing: storage endpoint unreachable/);
  for (let i = 200; i < 500; i++) recovered.add(i);
  now += 10 * M;
  await watch.round();
  assert.match(slack.updates.at(-1)!.text, /^All 500 sources healthy again/);
  assert.equal(slack.updates.at(-1)!.colour, '#2EB67D');
  assert.equal(slack.posts.filter((p) => !p.thread_ts).length, 1, 'still one parent');
});
