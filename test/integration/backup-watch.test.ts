/**
 * The backup watch on a real API server and the Slack stand-in: the status world (healthy,
 * failing on the seed's stale lock, overdue 5 h, paused, stuck behind a faulted Longhorn volume,
 * a labelled PVC without a source) opens exactly one incident per problem without any command
 * being sent; two replicas post each once; a restart posts nothing twice and closes in its thread
 * what recovered while the bot was down, turning the parent green.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { createWebClient } from '../../src/slack/web-client.ts';
import { ChannelPoster } from '../../src/slack/poster.ts';
import { BackupCache } from '../../src/backup/backup-cache.ts';
import { IncidentStore } from '../../src/backup/incident-store.ts';
import { startBackupWatch } from '../../schedules/backup-watch.ts';
import type { BackupWatch } from '../../schedules/backup-watch.ts';
import { SingleReplica } from '../../src/leader.ts';
import { parseEnv, parseFileConfig } from '../../src/config.ts';
import type { Config } from '../../src/config.ts';
import type { Services } from '../../src/command/context.ts';
import { incidentsCommand } from '../../commands/backup/incidents.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { Fixtures, HOUR, LOCK_LOG, MINUTE, iso, kubeFixtures, moverLabels, syncCondition, uniq } from './backup-fixtures.ts';
import { syncedStatus } from './backup-fixtures.ts';
import { stopAll } from '../harness/stop-all.ts';
import { countingKube } from '../harness/kube/counting-kube.ts';
import { startHttpBot, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';

const skip = await kubeUnavailableReason();
const BOT_TOKEN = 'xoxb-test-backup-watch-token';
const SIGNING_SECRET = 'test-backup-watch-signing-secret';
const CH = 'C0WATCH';
const log = pino({ level: process.env['TEST_LOG'] ?? 'silent' });
const text = (m: StoredMessage) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`;
const colour = (m: StoredMessage | undefined) => (m?.attachments as Array<{ color?: string }> | undefined)?.[0]?.color;

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('backup watch on a real API server', { skip }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  let slack: SlackStandIn;
  let config: Config;
  const ns = uniq('bbwatch');
  const faulted = uniq('pvc-bbwatch-faulted');
  const now = Date.now();
  const running: Array<{ watch: BackupWatch; cache: BackupCache; poster: ChannelPoster }> = [];

  function replica(identity: string) {
    const client = createWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, log });
    const poster = new ChannelPoster(client, { minIntervalMs: 5, updateIntervalMs: 5 });
    // Every API request of this replica (cache lists, store, diagnosis) is counted; watches are not requests.
    const { kube, calls } = countingKube(fx.kube);
    const cache = new BackupCache(kube, log);
    cache.start();
    const store = IncidentStore.inConfigMap(kube, { namespace: ns, name: 'watch-incidents', identity });
    // Both replicas think they lead (the worst case of a handover): the store alone must keep incidents single.
    const services = { config, log, kube, leadership: new SingleReplica(), slack: { client, poster } } as unknown as Services & { slack: NonNullable<Services['slack']> };
    const watch = startBackupWatch({ services, cache, store, debounceMs: 100, tickMs: 500 });
    const r = { watch, cache, poster, store, client, calls };
    running.push(r);
    return r;
  }
  async function stop(r: { watch: BackupWatch; cache: BackupCache; poster: ChannelPoster }) {
    await r.watch.stop();
    await r.poster.idle();
    await r.cache.stop();
  }
  const parents = () => slack.messages(CH);
  const replies = (m: StoredMessage) => slack.threadReplies(CH, m.ts);
  const parentOf = (source: string) => {
    const found = parents().filter((m) => text(m).includes(`${ns}/${source}:`));
    assert.equal(found.length, 1, `one parent for ${source}: ${found.map((m) => m.text).join(' | ')}`);
    return found[0]!;
  };

  before(async () => {
    ({ harness, fx } = await kubeFixtures());
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, postMessagePerSecondPerChannel: Infinity });
    config = {
      ...parseFileConfig({ alerts: { routes: [{ match: { namespace: ns }, channel: CH }] }, watch: { unprotectedGraceMinutes: 0 } }, 'test'),
      env: parseEnv({ SLACK_MODE: 'terminal' }), source: 'test',
    };
    await fx.namespace(ns, { 'volsync.backube/privileged-movers': 'true' });
    const hourly = { schedule: '0 * * * *' };
    const spec = (pvc: string, extra: Record<string, unknown> = {}) => ({ sourcePVC: pvc, trigger: hourly, restic: { repository: `${pvc}-volsync-secret`, copyMethod: 'Clone' }, ...extra });
    for (const pvc of ['config', 'plex', 'late', 'resting']) await fx.pvc(ns, pvc);
    await fx.source(ns, 'config', spec('config'), syncedStatus(now - 10 * MINUTE));
    await fx.source(ns, 'plex', spec('plex'), {
      lastSyncStartTime: iso(now - 3 * HOUR), lastSyncTime: iso(now - 8 * 24 * HOUR), lastSyncDuration: '2m13s',
      latestMoverStatus: { result: 'Failed', logs: LOCK_LOG },
      // VolSync keeps retrying: Synchronizing stays True, and no mover pod runs.
      conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', now - 3 * HOUR)],
    });
    await fx.source(ns, 'late', spec('late'), syncedStatus(now - 5 * HOUR));
    await fx.source(ns, 'resting', spec('resting', { paused: true }), { lastSyncTime: iso(now - 9 * 24 * HOUR), latestMoverStatus: { result: 'Failed', logs: LOCK_LOG } });
    await fx.pvc(ns, 'meili', { volumeName: faulted });
    await fx.longhornVolume(faulted, { state: 'detached', robustness: 'faulted' });
    await fx.source(ns, 'meili', spec('meili'), syncedStatus(now - 20 * MINUTE));
    await fx.pod(ns, 'volsync-src-meili-w8k4d', moverLabels('meili'), {
      phase: 'Pending', startTime: iso(now - 40 * MINUTE),
      containerStatuses: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
    }, 'meili');
    await fx.pvc(ns, 'orphan', { labels: { backup: 'hourly' } });
  }, { timeout: 180_000 });
  after(async () => {
    for (const r of running) await stop(r).catch(() => undefined);
    await fx?.cleanup();
    await stopAll(slack, harness);
  });

  test('one incident per problem, none for the healthy and paused sources; two replicas post each once', { timeout: 120_000 }, async () => {
    const [a, b] = [replica('replica-a'), replica('replica-b')];
    await until('four incident parents', () => parents().length >= 4);
    // Let both replicas finish their rounds: nothing more may appear.
    await new Promise((r) => setTimeout(r, 1500));
    await Promise.all([a.watch.idle(), b.watch.idle()]);
    await Promise.all([a.poster.idle(), b.poster.idle()]);
    const all = parents();
    console.log(`watch: ${all.length} parents from two replicas: ${all.map((m) => m.text).join(' | ')}`);
    assert.equal(all.length, 4);
    for (const m of all) {
      assert.deepEqual(validateBlocks(m.blocks as never), []);
      assert.equal(colour(m), '#E01E5A');
    }
    const plex = parentOf('plex');
    assert.match(plex.text, /backups failing for (7d 23h|8d) .*— repository locked by a mover pod that no longer exists/);
    assert.match(parentOf('late').text, /backups overdue/);
    assert.match(parentOf('meili').text, /backups stuck for 40m .*— Longhorn volume pvc-bbwatch-faulted-\w+ faulted/);
    assert.match(parentOf('orphan').text, /PVC not backed up/);
    assert.ok(!all.some((m) => /\/(config|resting):/.test(m.text)), 'healthy and paused sources have no incident');

    // The thread holds the diagnosis: classified log and its next step; the doctor's fix for the volume and the PVC.
    // A missing repository Secret is a clear line in the thread of the source it breaks.
    assert.match(replies(parentOf('late')).map(text).join('\n'), /uses repository Secret .*late-volsync-secret.*, which does not exist/);
    const plexThread = replies(plex).map(text).join('\n');
    assert.match(plexThread, /restic locks .* plex/);
    assert.match(plexThread, /unable to create lock in backend/);
    assert.match(plexThread, /No successful sync for 8d/);
    assert.match(plexThread, /VolSync is retrying; no mover pod runs/);
    const meiliThread = replies(parentOf('meili')).map(text).join('\n');
    assert.match(meiliThread, /kubectl get volumes.longhorn.io -n longhorn-system/);
    assert.match(meiliThread, /stuck in Pending \(ContainerCreating\) for 40m/);
    const orphanThread = replies(parentOf('orphan')).map(text).join('\n');
    assert.match(orphanThread, /base secret .*volsync-rustfs-base.* is missing/);
    assert.match(orphanThread, /kubectl annotate pvc orphan/);
    for (const m of all) assert.equal(replies(m).length, 1, `one diagnosis reply under ${m.text}`);

    // /backup incidents lists them with a link to each thread.
    const client = createWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, log });
    const ctx = { now: () => new Date(), services: { slack: { client } } } as never;
    const listed = await incidentsCommand({ store: IncidentStore.inConfigMap(fx.kube, { namespace: ns, name: 'watch-incidents' }) })(undefined, ctx);
    assert.equal(listed.text, '4 open backup incidents');
    const body = JSON.stringify(renderBlocks(listed).blocks);
    for (const s of ['plex', 'late', 'meili', 'orphan']) assert.match(body, new RegExp(`${ns}/${s}\\*: .*?<https?://[^|>]+\\|thread>`));
    await stop(a);
    await stop(b);
  });

  test('a restart posts nothing twice and closes what recovered while the bot was down', { timeout: 120_000 }, async () => {
    const before = new Map(parents().map((m) => [m.ts, replies(m).length]));
    const plexTs = parentOf('plex').ts;
    // While no bot runs, plex syncs successfully.
    await fx.sourceStatus(ns, 'plex', { ...syncedStatus(Date.now()), lastSyncStartTime: iso(Date.now() - 2 * MINUTE) });
    const c = replica('replica-c');
    await until('the plex thread closed', () => replies(slack.message(CH, plexTs)!).some((m) => /Healthy again after (7d 23h|8d)/.test(m.text)));
    await new Promise((r) => setTimeout(r, 1500));
    await c.watch.idle();
    await c.poster.idle();
    assert.equal(parents().length, before.size, 'no new parent');
    for (const m of parents()) {
      if (m.ts === plexTs) continue;
      assert.equal(replies(m).length, before.get(m.ts), `nothing new under ${m.text}`);
    }
    const plex = slack.message(CH, plexTs)!;
    assert.equal(replies(plex).length, before.get(plexTs)! + 1, 'one recovery reply');
    assert.equal(colour(plex), '#2EB67D', 'the parent turned green');
    assert.match(plex.text, /plex: healthy again after (7d 23h|8d)/);
    // Steady state: rounds on every tick read the incident ConfigMap and nothing else (no lists, no polling).
    const mark = c.calls.length;
    await new Promise((r) => setTimeout(r, 2000));
    const steady = c.calls.slice(mark);
    console.log(`watch: ${steady.length} API requests in 2 s of ticks, ${new Set(steady).size} kinds: ${[...new Set(steady)].join(', ')}`);
    assert.ok(steady.length > 0, 'the ticks ran rounds');
    assert.deepEqual([...new Set(steady)], ['core.readNamespacedConfigMap']);
    await stop(c);
  });

  test('the whole bot (HTTP mode, leader election) opens the incidents by itself, and /backup incidents links their threads', { timeout: 120_000 }, async () => {
    const CH2 = 'C0WATCHBOT';
    const state = uniq('bbwatch-state');
    await fx.namespace(state);
    const config = writeBotConfig('watch', { alerts: { routes: [{ match: { namespace: ns }, channel: CH2 }] }, watch: { enabled: true, unprotectedGraceMinutes: 0 } });
    let bot: BotProcess | undefined;
    try {
      bot = await startHttpBot(slack, { KUBECONFIG: harness.kubeconfigPath, BACKUP_BOT_CONFIG: config, POD_NAMESPACE: state });
      // plex recovered in the previous test; the other three are still broken.
      await until('three incidents from the bot', () => slack.messages(CH2).length >= 3, 60_000);
      await new Promise((r) => setTimeout(r, 3000));
      const posted = slack.messages(CH2);
      assert.deepEqual(posted.map((m) => /\/(\w+):/.exec(m.text)?.[1]).sort(), ['late', 'meili', 'orphan']);
      const sent = await slack.sendSlashCommandHttp({ command: '/backup', text: 'incidents', user_id: 'U0WATCHER', channel_id: CH2 });
      const res = await slack.replyTo(sent, 15_000);
      const body = JSON.stringify(res.body);
      assert.match(body, /3 open backup incidents/);
      for (const name of ['late', 'meili', 'orphan']) assert.match(body, new RegExp(`${ns}/${name}\\*: [^•]*?<https?://[^|>]+\\|thread>`));
    } finally {
      await bot?.stop();
    }
  });
});
