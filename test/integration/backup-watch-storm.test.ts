/**
 * A storm on the real components: 500 ReplicationSources on a real API server fail at once on one
 * shared cause (the S3 endpoint refuses connections), and the backup watch, reading its watch
 * cache and keeping its incidents in a ConfigMap, posts through the Slack stand-in at Slack's
 * own limit (1 message a second per channel): one parent for the common cause, every source
 * listed in its thread, nothing dropped; then all recover and the parent turns green.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn } from '../harness/slack/slack-stand-in.ts';
import { blockText } from '../harness/slack/message-content.ts';
import { createWebClient } from '../../src/slack/web-client.ts';
import { ChannelPoster } from '../../src/slack/poster.ts';
import { BackupCache } from '../../src/backup/backup-cache.ts';
import { IncidentStore } from '../../src/backup/incident-store.ts';
import { startBackupWatch } from '../../schedules/backup-watch.ts';
import type { BackupWatch } from '../../schedules/backup-watch.ts';
import { SingleReplica } from '../../src/leader.ts';
import { parseEnv, parseFileConfig } from '../../src/config.ts';
import type { Services } from '../../src/command/context.ts';
import { mapLimit } from '../../src/restic/map-limit.ts';
import { Fixtures, MINUTE, iso, kubeFixtures, syncedStatus, uniq } from './backup-fixtures.ts';
import { sourceStatus } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';

const skip = await kubeUnavailableReason();
const BOT_TOKEN = 'xoxb-test-backup-storm-token';
const CH = 'C0STORM01';
const N = 500;
const log = pino({ level: process.env['TEST_LOG'] ?? 'silent' });
const S3_DOWN = (name: string) => [
  `Fatal: unable to open repository at s3:https://minio.lab:9000/volsync/${name}: Get "https://minio.lab:9000/volsync/${name}/?location=": dial tcp 10.0.0.5:9000: connect: connection refused`,
  'ERROR: failed to run backup',
].join('\n');

describe('backup watch: a storm of 500 sources on one cause, at Slack\'s real limits', { skip, timeout: 600_000 }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  let slack: SlackStandIn;
  let watch: BackupWatch | undefined;
  let cache: BackupCache | undefined;
  let poster: ChannelPoster | undefined;
  const ns = uniq('bbstorm');
  const names = Array.from({ length: N }, (_, i) => `app-${String(i).padStart(3, '0')}`);
  const now = Date.now();

  before(async () => {
    ({ harness, fx } = await kubeFixtures());
    // The stand-in's default: chat.postMessage answers 429 above 1 message a second per channel.
    slack = await startSlackStandIn({ botToken: BOT_TOKEN });
    await fx.namespace(ns);
    await mapLimit(names, 16, async (name) => {
      await fx.source(ns, name, { sourcePVC: name, trigger: { schedule: '0 * * * *' }, restic: { repository: `${name}-volsync-secret`, copyMethod: 'Clone' } }, {
        lastSyncStartTime: iso(now - 30 * MINUTE), lastSyncTime: iso(now - 70 * MINUTE), lastSyncDuration: '40s',
        latestMoverStatus: { result: 'Failed', logs: S3_DOWN(name) },
      });
    });
  }, { timeout: 300_000 });

  after(async () => {
    await watch?.stop().catch(() => undefined);
    await poster?.idle().catch(() => undefined);
    await cache?.stop().catch(() => undefined);
    await fx?.cleanup();
    await stopAll(slack, harness);
  });

  test('one parent for the common cause, every source in its thread, nothing dropped; all recover and it turns green', { timeout: 480_000 }, async () => {
    const config = { ...parseFileConfig({ alerts: { routes: [{ match: { namespace: ns }, channel: CH }] } }, 'test'), env: parseEnv({ SLACK_MODE: 'terminal' }), source: 'test' };
    const client = createWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, log });
    poster = new ChannelPoster(client);
    cache = new BackupCache(fx.kube, log);
    cache.start();
    const store = IncidentStore.inConfigMap(fx.kube, { namespace: ns, name: 'storm-incidents', identity: 'storm-test' });
    const services = { config, log, kube: fx.kube, leadership: new SingleReplica(), slack: { client, poster } } as unknown as Services & { slack: NonNullable<Services['slack']> };
    watch = startBackupWatch({ services, cache, store, debounceMs: 200, tickMs: 2000 });

    const listed = () => {
      const parent = slack.messages(CH)[0];
      return parent ? new Set(slack.threadReplies(CH, parent.ts).flatMap((m) => [...blockText(m.blocks).matchAll(/app-\d{3}/g)].map((x) => x[0]))) : new Set<string>();
    };
    await slack.waitFor(() => (listed().size === N ? true : undefined), 240_000, `all ${N} sources listed in the storm's thread`);
    const parents = slack.messages(CH);
    assert.equal(parents.length, 1, `one parent, not ${parents.length}: ${parents.slice(0, 3).map((m) => m.text).join(' | ')}`);
    assert.match(parents[0]!.text, new RegExp(`^${N} sources failing: storage endpoint unreachable`));
    const replies = slack.threadReplies(CH, parents[0]!.ts);
    for (const r of replies) assert.deepEqual(validateBlocks(r.blocks as unknown[]), [], 'every reply is valid Block Kit');
    assert.ok(replies.length <= 20, `the list is a few replies, not ${replies.length}`);
    // Slack's limit was kept: what the stand-in refused was sent again, and nothing is missing.
    const refused = slack.rateLimited('chat.postMessage').length;
    assert.equal(listed().size, N);

    // All recover: one successful sync each.
    const healed = Date.now();
    await mapLimit(names, 16, (name) => sourceStatus(fx.kube, ns, name, syncedStatus(healed)));
    await slack.waitFor(() => (/All 500 sources healthy again/.test(slack.message(CH, parents[0]!.ts)?.text ?? '') ? true : undefined), 120_000, 'the parent turned green');
    assert.equal(slack.messages(CH).length, 1, 'no new parent on recovery');
    console.log(`storm: ${N} sources → 1 parent, ${replies.length} thread replies, ${refused} posts refused by the rate limit and retried, 0 sources missing`);
  });
});
