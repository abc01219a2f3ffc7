// One conversation per problem: an alert about a backup and the watch's incident about the same
// source link each other, against the Slack stand-in: the diagnosis links the incident thread, the
// incident thread gets one line linking the alert thread, once per group (also through the
// ConfigMap encoding, so a restart does not repeat it).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ChannelPoster } from '../../src/slack/poster.ts';
import { createWebClient } from '../../src/slack/web-client.ts';
import { NotificationQueue } from '../../src/alerts/notification-queue.ts';
import type { GroupBatch } from '../../src/alerts/notification-queue.ts';
import type { WebhookPayload } from '../../src/alerts/alertmanager-types.ts';
import { crashLoopMatcher, notifyGroup } from '../../src/alerts/group-notifier.ts';
import type { NotifierDeps } from '../../src/alerts/group-notifier.ts';
import { MemoryThreadStore, decodeRecord, encodeRecord } from '../../src/alerts/thread-store.ts';
import type { Diagnosing } from '../../src/alerts/diagnoser.ts';
import { incidentLinks, openIncidentsFor } from '../../src/alerts/incident-links.ts';
import { IncidentStore } from '../../src/backup/incident-store.ts';
import type { IncidentRecord } from '../../src/backup/incident-store.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';

const log = pino({ level: 'silent' });
const BOT_TOKEN = 'xoxb-test-incident-links-token';
const ALERTS = 'C0ALERTS1';
const BACKUPS = 'C0BACKUPS';

function outOfSync(name: string, fp = `fp-${name}`) {
  return {
    status: 'firing' as const, labels: { alertname: 'VolSyncVolumeOutOfSync', obj_namespace: 'media', obj_name: name, namespace: 'volsync-system' }, annotations: { summary: `${name} out of sync` },
    startsAt: '2026-01-01T02:04:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: fp,
  };
}

function batchOf(alerts: ReturnType<typeof outOfSync>[]): GroupBatch {
  const q = new NotificationQueue({ capacity: 100 });
  const p: WebhookPayload = {
    version: '4', groupKey: '{}:{alertname="VolSyncVolumeOutOfSync"}', truncatedAlerts: 0, status: 'firing', receiver: 'bot',
    groupLabels: { alertname: 'VolSyncVolumeOutOfSync' }, commonLabels: { alertname: 'VolSyncVolumeOutOfSync' },
    commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093', alerts,
  };
  q.offer(p);
  return q.take()!;
}

const all = (m: StoredMessage) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;

/** The backup diagnosis stands in for the real one (it reads the cluster; test/integration/alerts-backup covers it). */
const diagnoser: Diagnosing = {
  diagnose: async () => { throw new Error('no pod diagnosis expected'); },
  diagnoseBackup: async (t) => ({ text: `Backup of ${t.namespace}/${t.name}`, blocks: [{ type: 'section', text: `:floppy_disk: *Backup of ${t.namespace}/${t.name}*` }, { type: 'section', text: 'cause lines' }], visibility: 'channel', tone: 'warn', headline: `backup ${t.namespace}/${t.name}: failing` }),
};

describe('alert threads and backup incidents link each other', () => {
  let slack: SlackStandIn;
  let deps: NotifierDeps;
  let incidents: IncidentStore;

  before(async () => {
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, postMessagePerSecondPerChannel: Infinity });
  });
  after(() => slack.close());
  beforeEach(() => {
    slack.reset();
    const client = createWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, log });
    incidents = IncidentStore.inMemory();
    deps = {
      poster: new ChannelPoster(client, { minIntervalMs: 5, updateIntervalMs: 5 }),
      store: new MemoryThreadStore(),
      log,
      routes: [],
      defaultChannel: ALERTS,
      isCrashLoop: crashLoopMatcher(/KubePodCrashLooping/),
      diagnoser,
      hooks: () => [],
      maxDiagnoses: 3,
      incidents: incidentLinks(incidents, client),
    };
  });

  /** An open incident as the watch leaves it: its parent posted in the backups channel. */
  async function openIncident(name: string): Promise<IncidentRecord> {
    const parent = await deps.poster.post({ channel: BACKUPS, text: `media/${name}: backups failing` });
    const claim = await incidents.claim({ id: `media/${name}/failing`, kind: 'failing', channel: BACKUPS, since: Date.parse('2026-01-01T01:00:00Z') });
    assert.ok('claimed' in claim);
    const rec = { ...claim.claimed, ts: parent.ts!, what: 'backups failing', headline: 'repository locked' };
    assert.ok(await incidents.save(rec));
    return rec;
  }

  it('the backup diagnosis links the incident thread, and the incident thread gets one line linking the alert thread, once per group', async () => {
    const inc = await openIncident('plex');
    await notifyGroup(batchOf([outOfSync('plex')]), deps);
    await deps.poster.idle();
    const [parent] = slack.messages(ALERTS);
    assert.ok(parent);
    const [diag, ...more] = slack.threadReplies(ALERTS, parent.ts);
    assert.ok(diag);
    assert.equal(more.length, 0, 'the link is part of the diagnosis, not a reply of its own');
    const text = all(diag);
    assert.match(text, /backup watch has an incident open for `media\/plex`: backups failing — repository locked/);
    assert.ok(text.includes(`/archives/${BACKUPS}/p${inc.ts.replace('.', '')}|incident thread>`), `the incident's permalink: ${text}`);
    assert.ok(validateBlocks(diag.blocks ?? []).length === 0);

    let notes = slack.threadReplies(BACKUPS, inc.ts);
    assert.equal(notes.length, 1);
    assert.match(all(notes[0]!), /Alertmanager: `VolSyncVolumeOutOfSync` fired about this source/);
    assert.ok(all(notes[0]!).includes(`/archives/${ALERTS}/p${parent.ts.replace('.', '')}|alert thread>`), 'the alert thread\'s permalink');

    // Alertmanager repeats the group, then adds a second alert about the same source: no second note.
    await notifyGroup(batchOf([outOfSync('plex')]), deps);
    await notifyGroup(batchOf([outOfSync('plex'), outOfSync('plex', 'fp-plex-2')]), deps);
    await deps.poster.idle();
    notes = slack.threadReplies(BACKUPS, inc.ts);
    assert.equal(notes.length, 1, 'one note per alert group');

    // What a restart reads back from the ConfigMap still says the incident was told.
    const rec = (await deps.store.get(batchOf([outOfSync('plex')]).groupKey))!;
    assert.deepEqual(decodeRecord(encodeRecord(rec))?.incidents, [`media/plex/failing@${inc.ts}`]);
    const restarted: NotifierDeps = { ...deps, store: new MemoryThreadStore() };
    await restarted.store.put(decodeRecord(encodeRecord(rec))!);
    await notifyGroup(batchOf([outOfSync('plex')]), restarted);
    await deps.poster.idle();
    assert.equal(slack.threadReplies(BACKUPS, inc.ts).length, 1, 'not after a restart either');
  });

  it('an incident that opens after the alert\'s diagnosis is linked on the group\'s next notification, both ways, once', async () => {
    await notifyGroup(batchOf([outOfSync('sonarr')]), deps);
    await deps.poster.idle();
    const [parent] = slack.messages(ALERTS);
    assert.ok(parent);
    assert.equal(slack.threadReplies(ALERTS, parent.ts).length, 1);
    assert.doesNotMatch(all(slack.threadReplies(ALERTS, parent.ts)[0]!), /incident/, 'no incident yet, no link');

    const inc = await openIncident('sonarr');
    await notifyGroup(batchOf([outOfSync('sonarr')]), deps);
    await notifyGroup(batchOf([outOfSync('sonarr')]), deps);
    await deps.poster.idle();
    const replies = slack.threadReplies(ALERTS, parent.ts);
    assert.equal(replies.length, 2, 'one link line, not one per notification');
    assert.match(all(replies[1]!), /incident open for `media\/sonarr`/);
    assert.equal(slack.threadReplies(BACKUPS, inc.ts).length, 1);
  });

  it('a resolved incident is not linked, and an unreadable store leaves the alert thread as it would be', async () => {
    const inc = await openIncident('radarr');
    assert.ok(await incidents.save({ ...inc, resolvedAt: Date.now() }));
    await notifyGroup(batchOf([outOfSync('radarr')]), deps);
    await deps.poster.idle();
    const [parent] = slack.messages(ALERTS);
    assert.doesNotMatch(all(slack.threadReplies(ALERTS, parent!.ts)[0]!), /incident/);
    assert.equal(slack.threadReplies(BACKUPS, inc.ts).length, 0);

    slack.reset();
    const broken: NotifierDeps = { ...deps, store: new MemoryThreadStore(), incidents: { openFor: async () => { throw new Error('configmaps is forbidden'); }, link: async () => 'x' } };
    await notifyGroup(batchOf([outOfSync('radarr')]), broken);
    await deps.poster.idle();
    const [p2] = slack.messages(ALERTS);
    assert.ok(p2);
    assert.equal(slack.threadReplies(ALERTS, p2.ts).length, 1, 'the diagnosis is posted all the same');
  });

  it('openIncidentsFor: open, posted incidents of the asked sources only, the oldest per source', () => {
    const r = (id: string, o: Partial<IncidentRecord> = {}): IncidentRecord => ({ id, kind: 'failing', channel: BACKUPS, ts: '1.1', openedAt: 1, since: 10, facts: [], ...o });
    const got = openIncidentsFor([
      r('media/plex/overdue', { since: 20, ts: '2.2' }), r('media/plex/failing', { since: 5 }), r('media/sonarr/failing', { ts: '' }),
      r('media/radarr/failing', { resolvedAt: 3 }), r('other/plex/failing'),
    ], ['media/plex', 'media/sonarr', 'media/radarr']);
    assert.deepEqual([...got.entries()].map(([k, v]) => [k, v.id]), [['media/plex', 'media/plex/failing']]);
  });
});
