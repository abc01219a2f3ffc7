// A paused source is not an incident; an open incident whose source gets paused closes saying when
// it was paused and by whom, when the bot did it (the `backup-bot/paused-by` mark that
// /restic unlock --remove-all sets with the pause and removes with the resume).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseFileConfig } from '../../src/config.ts';
import { IncidentWatch } from '../../src/backup/incident-watch.ts';
import { IncidentStore } from '../../src/backup/incident-store.ts';
import type { Inventory } from '../../src/backup/inventory.ts';
import { PAUSED_BY, parsePausedBy, pauseCommand, pausedByValue, pausedLine } from '../../src/volsync/pause.ts';

const log = pino({ level: 'silent' });
const M = 60_000;
const H = 60 * M;
const iso = (t: number) => new Date(t).toISOString();
const NOW = Date.parse('2026-12-02T12:00:00Z');

test('the mark: written and read back; a value that is not ours is not taken for one', () => {
  const v = pausedByValue('U0ALICE001', new Date(NOW - 3 * M), 'backup-bot --remove-all');
  assert.equal(v, 'U0ALICE001 at 2026-12-02T11:57:00Z (backup-bot --remove-all)');
  assert.deepEqual(parsePausedBy(v), { who: 'U0ALICE001', at: NOW - 3 * M, how: 'backup-bot --remove-all' });
  assert.equal(parsePausedBy('someone did it'), undefined);
  assert.equal(parsePausedBy('x at yesterday'), undefined);
  assert.equal(parsePausedBy(undefined), undefined);
});

test('the patch: the pause sets the mark, the resume removes it, in the same patch as spec.paused', () => {
  assert.equal(pauseCommand('media', 'plex', true, 'U1 at 2026-12-02T11:57:00Z (x)'), `kubectl patch replicationsource plex -n media --type merge -p '{"spec":{"paused":true},"metadata":{"annotations":{"${PAUSED_BY}":"U1 at 2026-12-02T11:57:00Z (x)"}}}'`);
  assert.equal(pauseCommand('media', 'plex', false), `kubectl patch replicationsource plex -n media --type merge -p '{"spec":{"paused":false},"metadata":{"annotations":{"${PAUSED_BY}":null}}}'`);
});

test('pausedLine: by the bot (who, when, how), by someone else (when from managedFields, else unknown), not paused', () => {
  const mark = { [PAUSED_BY]: pausedByValue('U0ALICE001', new Date(NOW - 3 * M), 'backup-bot --remove-all') };
  assert.equal(pausedLine({ spec: { paused: true }, metadata: { annotations: mark } }, NOW), 'paused 3m ago by <@U0ALICE001> (backup-bot --remove-all)');
  assert.equal(pausedLine({ spec: { paused: true }, metadata: { annotations: mark } }, NOW, { at: (t) => iso(t) }), 'paused since 2026-12-02T11:57:00.000Z by <@U0ALICE001> (backup-bot --remove-all)');
  // The terminal's user is a name, not a Slack ID: said as text, escaped.
  const term = { [PAUSED_BY]: pausedByValue('bob<!here>', new Date(NOW - H), 'backup-bot --remove-all') };
  assert.equal(pausedLine({ spec: { paused: true }, metadata: { annotations: term } }, NOW), 'paused 1h ago by bob&lt;!here&gt; (backup-bot --remove-all)');
  const managedFields = [
    { manager: 'kubectl', time: iso(NOW - 2 * H), fieldsV1: { 'f:spec': { 'f:paused': {} } } },
    { manager: 'volsync', time: iso(NOW - M), fieldsV1: { 'f:status': {} } },
  ];
  assert.equal(pausedLine({ spec: { paused: true }, metadata: { managedFields } }, NOW), 'paused 2h ago (not by backup-bot)');
  assert.equal(pausedLine({ spec: { paused: true }, metadata: { annotations: { [PAUSED_BY]: 'garbage' } } }, NOW), 'paused (not by backup-bot; when is not known)');
  assert.equal(pausedLine({ spec: { paused: false }, metadata: { annotations: mark } }, NOW), undefined);
});

function fakeSlack() {
  const posts: Array<{ ts: string; thread_ts?: string; text: string; blocks: string }> = [];
  const updates: Array<{ ts: string; text: string; colour?: string }> = [];
  let n = 0;
  return {
    posts, updates,
    poster: {
      post: async (a: { channel: string; thread_ts?: string; text?: string; blocks?: unknown }) => {
        const ts = `100.${String(++n).padStart(4, '0')}`;
        posts.push({ ts, ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}), text: a.text ?? '', blocks: JSON.stringify(a.blocks ?? []) });
        return { ok: true, ts };
      },
      update: async (a: { ts: string; text?: string; attachments?: unknown }) => {
        updates.push({ ts: a.ts, text: a.text ?? '', colour: (a.attachments as Array<{ color?: string }> | undefined)?.[0]?.color });
        return { ok: true };
      },
    },
  };
}

const config = parseFileConfig({ alerts: { channel: 'C0ALERTS' } }, 'test');
const LOCK_LOG = 'unable to create lock in backend: repository is already locked by PID 32 on volsync-src-plex-nzlv6 by root (UID 0, GID 0)';

function inventory(now: number, plex: { paused?: boolean; annotations?: Record<string, string> }): Inventory {
  return {
    from: 'cache', at: now, notes: [], jobs: [], pods: [], pvcs: [],
    sources: [{
      metadata: { namespace: 'media', name: 'plex', creationTimestamp: iso(now - 30 * 24 * H), ...(plex.annotations ? { annotations: plex.annotations } : {}) },
      spec: { sourcePVC: 'plex', trigger: { schedule: '0 * * * *' }, ...(plex.paused ? { paused: true } : {}) },
      status: { lastSyncTime: iso(NOW - 20 * M), lastSyncStartTime: iso(NOW - 5 * M), latestMoverStatus: { result: 'Failed', logs: LOCK_LOG } },
    }] as never,
  };
}

for (const [who, annotations, parentRe, replyRe] of [
  ['the bot', { [PAUSED_BY]: pausedByValue('U0ALICE001', new Date(NOW + 7 * M), 'backup-bot --remove-all') }, /media\/plex: paused since 12:07 UTC by <@U0ALICE001> \(backup-bot --remove-all\) \(was: backups failing/, /paused 3m ago by <@U0ALICE001> \(backup-bot --remove-all\)/],
  ['someone else', undefined, /media\/plex: paused \(not by backup-bot; when is not known\) \(was: backups failing/, /paused \(not by backup-bot; when is not known\)/],
] as const) {
  test(`an open incident whose source is paused by ${who} closes saying when and by whom`, async () => {
    let now = NOW;
    let inv = inventory(now, {});
    const slack = fakeSlack();
    const store = IncidentStore.inMemory({ now: () => now });
    const watch = new IncidentWatch({ config, store, poster: slack.poster as never, inventory: () => inv, log, now: () => now });
    assert.equal((await watch.round()).opened, 1);
    const parent = slack.posts.find((p) => !p.thread_ts)!;
    now = NOW + 10 * M;
    inv = inventory(now, { paused: true, ...(annotations ? { annotations } : {}) });
    assert.equal((await watch.round()).resolved, 1);
    const up = slack.updates.at(-1)!;
    assert.equal(up.ts, parent.ts);
    assert.match(up.text, parentRe);
    assert.equal(up.colour, '#9E9EA6');
    const closing = slack.posts.filter((p) => p.thread_ts === parent.ts).at(-1)!;
    assert.match(closing.blocks, replyRe);
    assert.match(closing.blocks, /a paused source is not watched/);
    // Nothing more while it stays paused.
    const posted = slack.posts.length;
    assert.deepEqual(await watch.round(), { opened: 0, updated: 0, resolved: 0, problems: 0 });
    assert.equal(slack.posts.length, posted);
  });
}
