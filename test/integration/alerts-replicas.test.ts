// Two bot replicas on one real API server, each receiving every notification (as an HA
// Alertmanager pair delivers them): one parent per group and no alert listed twice, also when one
// replica's cached thread record is stale.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { startSlackStandIn } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import type { Kube } from '../../src/kube/client.ts';
import { ChannelPoster } from '../../src/slack/poster.ts';
import { createWebClient } from '../../src/slack/web-client.ts';
import { NotificationQueue } from '../../src/alerts/notification-queue.ts';
import type { WebhookPayload } from '../../src/alerts/alertmanager-types.ts';
import { AlertPipeline } from '../../src/alerts/alert-pipeline.ts';
import { crashLoopMatcher, notifyGroup } from '../../src/alerts/group-notifier.ts';
import { ConfigMapThreadStore } from '../../src/alerts/thread-store.ts';
import { Diagnoser } from '../../src/alerts/diagnoser.ts';
import { BackupFacts } from '../../src/backup-window/facts.ts';
import { DEFAULT_PATTERNS } from '../../src/alerts/classify.ts';
import { stopAll } from '../harness/stop-all.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';

const skip = await kubeUnavailableReason();
const NS = `replicas-${process.pid}`;
const CH = 'C0REPLICA';
const BOT_TOKEN = 'xoxb-test-replicas-bot-token';
const log = pino({ level: process.env['TEST_LOG'] ?? 'silent' });

function payload(group: string, alerts: Array<[string, 'firing' | 'resolved']>): WebhookPayload {
  return {
    version: '4', groupKey: `{}:{alertname="TargetDown", namespace="${group}"}`, truncatedAlerts: 0,
    status: alerts.some(([, s]) => s === 'firing') ? 'firing' : 'resolved', receiver: 'bot',
    groupLabels: { alertname: 'TargetDown', namespace: group }, commonLabels: { alertname: 'TargetDown', namespace: group },
    commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093',
    alerts: alerts.map(([pod, status]) => ({
      status, labels: { alertname: 'TargetDown', namespace: group, pod }, annotations: {},
      startsAt: '2026-01-01T00:00:00Z', endsAt: status === 'resolved' ? '2026-01-01T00:30:00Z' : '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: `fp-${pod}`,
    })),
  };
}

const text = (m: StoredMessage) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`;

describe('two replicas, every notification to both', { skip }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let slack: SlackStandIn;

  function replica(name: string) {
    const client = createWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, log });
    const poster = new ChannelPoster(client, { minIntervalMs: 5, updateIntervalMs: 5 });
    const store = new ConfigMapThreadStore(kube, { namespace: NS, name: 'threads', log, identity: name, debounceMs: 50 });
    const queue = new NotificationQueue({ capacity: 10_000 });
    const diagnoser = new Diagnoser({ patterns: DEFAULT_PATTERNS, backup: new BackupFacts({ windows: [] }), buttonTtlMs: 3600_000 });
    const pipeline = new AlertPipeline({
      queue, log, baseDelayMs: 100, maxDelayMs: 500,
      process: async (b) => {
        await notifyGroup(b, { poster, store, log, routes: [], defaultChannel: CH, isCrashLoop: crashLoopMatcher(/CrashLoop/), diagnoser, hooks: () => [], maxDiagnoses: 0 });
      },
    });
    return { queue, pipeline, poster, store };
  }

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(NS));
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, postMessagePerSecondPerChannel: Infinity });
  }, { timeout: 180_000 });
  after(() => stopAll(slack, harness));

  it('one parent per group and no duplicate thread replies', { timeout: 120_000 }, async () => {
    const a = replica('replica-a');
    const b = replica('replica-b');
    const groups = Array.from({ length: 6 }, (_, i) => `team${i}`);
    const settle = async (...rs: Array<ReturnType<typeof replica>>) => {
      await Promise.all(rs.map((r) => r.pipeline.idle()));
      await Promise.all(rs.map((r) => r.poster.idle()));
    };
    // Round 1: the first notification of every group reaches both replicas at the same moment.
    for (const g of groups) {
      const p = payload(g, [[`${g}-p1`, 'firing'], [`${g}-p2`, 'firing']]);
      assert.equal(a.queue.offer(p).accepted, true);
      assert.equal(b.queue.offer(structuredClone(p)).accepted, true);
    }
    await settle(a, b);
    // Round 2 reaches replica A only (B's copy of the records is now stale)…
    for (const g of groups) a.queue.offer(payload(g, [[`${g}-p1`, 'resolved'], [`${g}-p2`, 'firing'], [`${g}-p3`, 'firing']]));
    await settle(a);
    // …round 3 both: it repeats what A posted and adds one alert.
    for (const g of groups) {
      const p = payload(g, [[`${g}-p1`, 'resolved'], [`${g}-p2`, 'firing'], [`${g}-p3`, 'firing'], [`${g}-p4`, 'firing']]);
      a.queue.offer(p);
      b.queue.offer(structuredClone(p));
    }
    await settle(a, b);
    await Promise.all([a.store.flush(), b.store.flush()]);

    const parents = slack.messages(CH);
    const replies = parents.flatMap((m) => slack.threadReplies(CH, m.ts));
    // Replies that name an alert: p1 fired and resolved (two), p2-p4 fired once; any more is a duplicate.
    const listed = (pod: string) => replies.filter((r) => new RegExp(`${pod}(?![0-9])`).test(text(r))).length;
    const dupes: string[] = [];
    for (const g of groups) {
      assert.equal(parents.filter((m) => text(m).includes(`namespace=${g}`)).length, 1, `one parent for ${g}`);
      for (const n of [1, 2, 3, 4]) {
        const want = n === 1 ? 2 : 1;
        if (listed(`${g}-p${n}`) !== want) dupes.push(`${g}-p${n} in ${listed(`${g}-p${n}`)} replies, not ${want}`);
      }
    }
    console.log(`replicas: ${groups.length} groups to two replicas, ${parents.length} parents, ${dupes.length} alerts posted other than once`);
    assert.deepEqual(dupes, []);
  });
});
