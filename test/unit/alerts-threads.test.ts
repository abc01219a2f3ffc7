// One alert group's thread, round by round, against the Slack stand-in: the parent, batched
// replies, diagnoses, parent updates, hooks, routing and the thread map's bounds.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { NotificationQueue } from '../../src/alerts/notification-queue.ts';
import type { GroupBatch } from '../../src/alerts/notification-queue.ts';
import type { WebhookPayload } from '../../src/alerts/alertmanager-types.ts';
import { DiagnosisBudget, notifyGroup, UnroutableGroup } from '../../src/alerts/group-notifier.ts';
import type { NotifierDeps } from '../../src/alerts/group-notifier.ts';
import { MemoryThreadStore, addHeadline, capAlerts, decodeRecord, pruneEntries, encodeRecord, DEFAULT_THREAD_LIMITS } from '../../src/alerts/thread-store.ts';
import { headlineText } from '../../src/alerts/alert-messages.ts';
import type { ThreadRecord } from '../../src/alerts/thread-store.ts';
import { Diagnoser } from '../../src/alerts/diagnoser.ts';
import { channelFor } from '../../src/alerts/alert-routing.ts';
import type { CrashAlertEvent } from '../../src/alerts/hooks.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { notifierDeps, testDiagnoserOptions } from '../harness/notifier-deps.ts';

const log = pino({ level: 'silent' });
const BOT_TOKEN = 'xoxb-9000000001-9000000002-threadstestbottoken';
const CH = 'C0THREAD1';

function alert(pod: string, status: 'firing' | 'resolved' = 'firing', alertname = 'KubePodCrashLooping') {
  return {
    status, labels: { alertname, namespace: 'media', pod, container: 'app' }, annotations: { summary: `${pod} is crash looping` },
    startsAt: '2026-01-01T02:04:00Z', endsAt: status === 'resolved' ? '2026-01-01T02:34:00Z' : '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: `fp-${pod}`,
  };
}

function batchOf(alerts: ReturnType<typeof alert>[], groupKey = '{}:{alertname="KubePodCrashLooping", namespace="media"}'): GroupBatch {
  const q = new NotificationQueue({ capacity: 10_000 });
  const p: WebhookPayload = {
    version: '4', groupKey, truncatedAlerts: 0, status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved', receiver: 'bot',
    groupLabels: { alertname: 'KubePodCrashLooping', namespace: 'media' }, commonLabels: { alertname: 'KubePodCrashLooping', namespace: 'media' },
    commonAnnotations: { summary: 'Pods are crash looping.' }, externalURL: 'http://127.0.0.1:9093', alerts,
  };
  q.offer(p);
  return q.take()!;
}

const all = (m: StoredMessage) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;

describe('alert group threads', () => {
  let slack: SlackStandIn;
  let deps: NotifierDeps;
  let observed: CrashAlertEvent[];

  before(async () => {
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, postMessagePerSecondPerChannel: Infinity });
  });
  after(() => slack.close());
  beforeEach(() => {
    slack.reset();
    observed = [];
    deps = notifierDeps({
      slackApiUrl: slack.apiUrl, botToken: BOT_TOKEN, log, channel: CH,
      diagnoser: new Diagnoser(testDiagnoserOptions()),
      hooks: () => [{
        annotate: async (e) => [{ type: 'section', text: `:information_source: hook saw ${e.labels['pod']} in ${e.threadTs}` }],
        observed: (e) => observed.push(e),
      }],
      maxDiagnoses: 2,
    });
  });

  it('round 1 opens the parent and diagnoses the crash-looping pods; round 2 posts only what changed and updates the parent', async () => {
    await notifyGroup(batchOf([alert('a-1'), alert('b-2')]), deps);
    await deps.poster.idle();
    const [parent] = slack.messages(CH);
    assert.ok(parent);
    assert.equal(slack.messages(CH).length, 1);
    let replies = slack.threadReplies(CH, parent.ts);
    assert.equal(replies.length, 2, 'two diagnoses, no list (every change is diagnosed)');
    assert.match(all(replies[0]!), new RegExp(`hook saw a-1 in ${parent.ts.replace('.', '\\.')}`), 'the hook\'s blocks come first');
    assert.ok(replies.every((r) => validateBlocks(r.blocks ?? []).length === 0));
    assert.deepEqual(observed.map((e) => [e.labels['pod'], e.status, e.channel, e.threadTs]), [['a-1', 'firing', CH, parent.ts], ['b-2', 'firing', CH, parent.ts]]);
    assert.match(JSON.stringify(slack.message(CH, parent.ts)!.attachments), /2 firing\* · 0 resolved/);

    // Alertmanager sends the whole group again, with one new alert and one resolved.
    await notifyGroup(batchOf([alert('a-1', 'resolved'), alert('b-2'), alert('c-3', 'firing', 'KubeDeploymentReplicasMismatch')]), deps);
    await deps.poster.idle();
    replies = slack.threadReplies(CH, parent.ts);
    assert.equal(replies.length, 3, 'one list reply for the two changes');
    const list = all(replies[2]!);
    assert.match(list, /1 firing\* · :white_check_mark: \*1 resolved/);
    assert.match(list, /c-3/);
    assert.match(list, /a-1.*after 30m/);
    assert.doesNotMatch(list, /b-2/, 'unchanged alerts are not repeated');
    const p = slack.message(CH, parent.ts)!;
    assert.ok(p.edits.length >= 1);
    assert.match(JSON.stringify(p.attachments), /2 firing\* · 1 resolved/);
    assert.equal((p.attachments![0] as { color: string }).color, '#E01E5A');
    assert.deepEqual(observed.slice(2).map((e) => [e.labels['pod'], e.status]), [['a-1', 'resolved']], 'observed hears crash-loop alerts only');

    await notifyGroup(batchOf([alert('b-2', 'resolved'), alert('c-3', 'resolved', 'KubeDeploymentReplicasMismatch')]), deps);
    await deps.poster.idle();
    const done = slack.message(CH, parent.ts)!;
    assert.equal((done.attachments![0] as { color: string }).color, '#2EB67D');
    assert.match(done.text, /^RESOLVED/);
  });

  it('the parent names the affected pods (five, then "and N more") and, once diagnosed, the headline, updated in place and kept in the record', async () => {
    deps.maxDiagnoses = 1;
    const pods = ['a-1', 'b-2', 'c-3', 'd-4', 'e-5', 'f-6', 'evil<!channel>`x'];
    await notifyGroup(batchOf(pods.map((p) => alert(p))), deps);
    await deps.poster.idle();
    const [parent] = slack.messages(CH);
    assert.ok(parent);
    // As first posted: the pods, before any diagnosis.
    const posted = slack.calls('chat.postMessage').find((c) => c.params['thread_ts'] === undefined)!;
    const first = JSON.stringify(posted.params['blocks']);
    assert.match(first, /Pods: `media\/a-1`, `media\/b-2`, `media\/c-3`, `media\/d-4`, `media\/e-5` and 2 more/);
    assert.doesNotMatch(first, /:mag:/, 'no headline before the diagnosis');
    // Updated in place once the diagnosis is known; the notification text says it too.
    const p = slack.message(CH, parent.ts)!;
    assert.ok(p.edits.length >= 1);
    const now = p.edits.at(-1)!;
    assert.match(JSON.stringify(now.blocks), /:mag: Unrecognised crash/);
    assert.match(now.text, /^FIRING: KubePodCrashLooping · namespace=media — media\/a-1, media\/b-2 and 5 more: Unrecognised crash \(7 firing · 0 resolved\)$/);
    assert.deepEqual(validateBlocks((now.blocks ?? []) as unknown[]), []);
    const rec = await deps.store.get(batchOf([]).groupKey);
    assert.deepEqual(rec?.headlines, ['Unrecognised crash']);

    // Only the last pods keep firing: the parent names them, escaped (labels are outside text).
    await notifyGroup(batchOf([...pods.slice(0, 6).map((x) => alert(x, 'resolved')), alert(pods[6]!)]), deps);
    await deps.poster.idle();
    const later = JSON.stringify(slack.message(CH, parent.ts)!.edits.at(-1)!.blocks);
    assert.match(later, /Pod: `media\/evil&lt;!channel&gt;'x`/);
    assert.doesNotMatch(later, /<!channel>/);
    assert.match(later, /:mag: Unrecognised crash/, 'the headline stays from the earlier round');
  });

  it('headlines are kept distinct, bounded and through the ConfigMap encoding', () => {
    const r: ThreadRecord = { groupKey: 'g', channel: CH, threadTs: '1.1', createdAt: 1, updatedAt: 1, alerts: {} };
    assert.equal(addHeadline(r, 'OOMKilled at 256Mi: raise to 512Mi'), true);
    assert.equal(addHeadline(r, 'OOMKilled at 256Mi: raise to 512Mi'), false);
    for (let i = 0; i < 10; i++) addHeadline(r, `cause ${i} ${'x'.repeat(500)}`);
    assert.equal(r.headlines!.length, 4);
    assert.ok(r.headlines!.every((h) => Buffer.byteLength(h) <= 200));
    assert.deepEqual(decodeRecord(encodeRecord(r))?.headlines, r.headlines);
    assert.equal(headlineText(r.headlines), `OOMKilled at 256Mi: raise to 512Mi (and 3 other causes in the thread)`);
  });

  it('a storm round lists what it does not diagnose, in replies of at most 40 alerts, all within Block Kit limits', async () => {
    const many = Array.from({ length: 95 }, (_, i) => alert(`pod-${String(i).padStart(3, '0')}-7c9d8f6b5-abcde`));
    await notifyGroup(batchOf(many), deps);
    await deps.poster.idle();
    const [parent] = slack.messages(CH);
    const replies = slack.threadReplies(CH, parent!.ts);
    assert.equal(replies.length, 3 + 2, 'three list replies (93 alerts) and two diagnoses');
    const text = replies.map(all).join('\n');
    for (const a of many) assert.ok(text.includes(a.labels.pod), `${a.labels.pod} delivered`);
    assert.match(text, /part 1 of 3/);
    assert.match(text, /listed, not diagnosed, to keep the thread readable/);
    for (const r of replies) assert.deepEqual(validateBlocks(r.blocks ?? []), []);
  });

  it('the diagnosis budget caps diagnoses per thread', async () => {
    deps.budget = new DiagnosisBudget({ perWindow: 1 });
    await notifyGroup(batchOf([alert('a-1')]), deps);
    await notifyGroup(batchOf([alert('a-1'), alert('b-2')]), deps);
    await deps.poster.idle();
    const replies = slack.threadReplies(CH, slack.messages(CH)[0]!.ts);
    assert.equal(replies.filter((r) => /Next step/.test(all(r))).length, 1);
    assert.match(all(replies.at(-1)!), /b-2/);
  });

  it('a group no channel is configured for is refused as unroutable', async () => {
    deps.defaultChannel = undefined;
    await assert.rejects(notifyGroup(batchOf([alert('a-1')]), deps), UnroutableGroup);
  });
});

describe('routing', () => {
  const routes: Array<{ match: Record<string, string>; channel: string }> = [{ match: { namespace: 'media', severity: 'critical' }, channel: 'C0MEDIACR' }, { match: { namespace: 'media' }, channel: 'C0MEDIA01' }];
  it('first route whose labels all match, else the default', () => {
    assert.equal(channelFor({ namespace: 'media', severity: 'critical' }, routes, 'C0DEFAULT'), 'C0MEDIACR');
    assert.equal(channelFor({ namespace: 'media', severity: 'warning' }, routes, 'C0DEFAULT'), 'C0MEDIA01');
    assert.equal(channelFor({ namespace: 'other' }, routes, 'C0DEFAULT'), 'C0DEFAULT');
    assert.equal(channelFor({ namespace: 'other' }, routes, undefined), undefined);
  });
});

describe('thread map bounds', () => {
  const rec = (i: number, updatedAt: number, alerts: Record<string, 'f' | 'r'> = { a: 'f' }): ThreadRecord =>
    ({ groupKey: `g${i}`, channel: 'C0X', threadTs: `${i}.0`, createdAt: updatedAt, updatedAt, alerts });

  it('expires resolved groups after a day, any group after a week, and evicts the least recently updated over the caps', () => {
    const now = 30 * 24 * 3600_000;
    const data: Record<string, string> = {
      old: encodeRecord(rec(1, now - 8 * 24 * 3600_000)),
      resolved: encodeRecord(rec(2, now - 25 * 3600_000, { a: 'r' })),
      fresh: encodeRecord(rec(3, now - 1000)),
      older: encodeRecord(rec(4, now - 5000)),
      broken: '{not json',
    };
    const removed = pruneEntries(data, { ...DEFAULT_THREAD_LIMITS, maxGroups: 1 }, now);
    assert.deepEqual(removed.sort(), ['broken', 'old', 'older', 'resolved']);
    assert.deepEqual(Object.keys(data), ['fresh']);
  });

  it('caps a group\'s alerts, dropping resolved ones first', () => {
    const r = rec(1, 0, { a: 'r', b: 'f', c: 'r', d: 'f' });
    capAlerts(r, 2);
    assert.deepEqual(r.alerts, { b: 'f', d: 'f' });
  });

  it('the memory store keeps what was put, bounded by bytes', async () => {
    const store = new MemoryThreadStore({ limits: { maxBytes: 400 } });
    for (let i = 0; i < 10; i++) await store.put(rec(i, Date.now() + i));
    assert.ok(store.size < 10 && store.size >= 2, `${store.size} groups kept`);
    assert.equal((await store.get('g9'))?.threadTs, '9.0');
    assert.equal(await store.get('g0'), undefined);
  });
});
