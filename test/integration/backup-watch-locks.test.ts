/**
 * The backup watch's lock case, end to end: the whole bot (HTTP mode) against a real API server,
 * a real restic repository and the Slack stand-in. A source whose mover failed on "repository is
 * already locked" gets an incident whose thread holds /restic locks' verdicts and the buttons for
 * the next step, without any command being sent; Unlock stale locks is refused for a
 * non-operator and removes the stale lock for an operator; Remove all locks… leads to the
 * --remove-all confirmation with its evidence.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import { listLocks } from '../../src/restic/index.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { startHttpBot, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { deadLock, killAllHolders, resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import { blockText } from '../harness/slack/message-content.ts';
import { buttonLabelled } from '../harness/slack/payloads.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn } from '../harness/slack/slack-stand-in.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';
import { orphanedLock, ResticScratch, sourceStatus, uniq } from './restic-cmd-fixtures.ts';

const skip = skipUnlessBuilt('restic') || (await kubeUnavailableReason()) || false;
const bin = resticBinary() ?? 'restic';
const ALICE = 'U0ALICE0W1';
const VIEWER = 'U0VIEWERW1';
const CHANNEL = 'C0WATCHLCK';
const SECRETS = { botToken: 'xoxb-test-watch-locks-token', signingSecret: 'watch-locks-test-signing-secret-9a1' };
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('backup watch: a source locked out of its repository', { skip, timeout: 600_000 }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let slack: SlackStandIn;
  let bot: BotProcess;
  let scratch: ResticScratch;
  const ns = uniq('bbwlock');
  const state = uniq('bbwlock-state');
  const locks: Record<string, string> = {};
  let repo: Awaited<ReturnType<ResticScratch['sourceWithRepository']>>;

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns, state));
    scratch = new ResticScratch(kube, ns);
    repo = await scratch.sourceWithRepository('plex');
    locks['stale'] = await deadLock(repo.target);
    const mover = uniq('volsync-src-plex');
    locks['orphaned'] = await orphanedLock(kube, ns, 'plex', repo.target, mover);
    // The mover failed on the lock, as in seeds/restic-stale-lock-runbook.md; the last success is a day old.
    const now = Date.now();
    await sourceStatus(kube, ns, 'plex', {
      lastSyncTime: iso(now - 26 * 3_600_000),
      lastSyncStartTime: iso(now - 20 * 60_000),
      latestMoverStatus: { result: 'Failed', logs: `using parent snapshot 4f1c2d9a\nunable to create lock in backend: repository is already locked by PID 32 on ${mover} by root (UID 0, GID 0)\nthe \`unlock\` command can be used to remove stale locks\nERROR: failed to run backup` },
      conditions: [{ type: 'Synchronizing', status: 'False', reason: 'Error', message: 'restic backup failed', lastTransitionTime: iso(now - 15 * 60_000) }],
    });
    slack = await startSlackStandIn({ ...SECRETS, users: [{ id: ALICE, name: 'alice' }, { id: VIEWER, name: 'victor' }] });
    // Only this namespace has a channel: the cache sees every test's sources on the shared API server.
    const config = writeBotConfig('watch-locks', { slack: { operators: { users: [ALICE] } }, alerts: { routes: [{ match: { namespace: ns }, channel: CHANNEL }] }, watch: { enabled: true } });
    bot = await startHttpBot(slack, { KUBECONFIG: harness.kubeconfigPath, BACKUP_BOT_CONFIG: config, POD_NAMESPACE: state, RESTIC_BIN: bin });
  }, { timeout: 300_000 });

  after(() => stopAll(killAllHolders, bot, slack, scratch, harness));

  test('the thread has the lock verdicts and the buttons; the buttons obey the operator rules and work', { timeout: 300_000 }, async () => {
    const parent = await slack.waitFor(() => slack.messages(CHANNEL).find((m) => /\/plex/.test(m.text)), 90_000, 'the incident parent');
    assert.match(parent.text, /plex: backups failing for 1d 2h|plex: backups failing/);
    assert.match(parent.text, /repository locked by a mover pod that no longer exists/);
    const diag = await slack.waitFor(() => slack.threadReplies(CHANNEL, parent.ts).find((m) => /Locks in the repository now/.test(blockText(m.blocks))), 90_000, 'the diagnosis with the locks');
    assert.deepEqual(validateBlocks(diag.blocks as unknown[]), []);
    const t = blockText(diag.blocks);
    assert.match(t, /2 locks in the repository of `bbwlock-[0-9a-f]+\/plex`: 1 orphaned, 1 stale/);
    assert.match(t, new RegExp(`\\*stale\\* · \`${locks['stale']!.slice(0, 8)}\``));
    assert.match(t, new RegExp(`\\*orphaned\\* · \`${locks['orphaned']!.slice(0, 8)}\``));

    const press = (label: string, user: string) => {
      const b = buttonLabelled(diag, label);
      return slack.sendInteractionHttp({ blockAction: { action_id: b.actionId, message: diag, user_id: user, channel_id: CHANNEL } });
    };
    await press('Unlock stale locks', VIEWER);
    await slack.waitFor(() => slack.responses().find((r) => r.user === VIEWER && /Only operators/.test(JSON.stringify(r.body))), 20_000, 'the refusal');
    assert.equal((await listLocks(repo.target, { bin })).length, 2, 'a refused click removes nothing');

    await press('Unlock stale locks', ALICE);
    const report = await slack.waitFor(() => slack.threadReplies(CHANNEL, parent.ts).find((m) => /restic unlock on .*plex/.test(m.text)), 60_000, 'the unlock report in the incident thread');
    assert.match(blockText(report.blocks), new RegExp(`removed 1 stale lock.*${locks['stale']!.slice(0, 8)}`, 's'));
    assert.deepEqual((await listLocks(repo.target, { bin })).map((l) => l.id), [locks['orphaned']], 'only the stale lock is gone');

    await press('Remove all locks…', ALICE);
    const ask = await slack.waitFor(() => slack.threadReplies(CHANNEL, parent.ts).find((m) => /"action_id":"bb:restic:remove-all"/.test(JSON.stringify(m.blocks))), 60_000, 'the --remove-all confirmation in the thread');
    assert.match(blockText(ask.blocks), /An operator must approve/);
    assert.equal((await listLocks(repo.target, { bin })).length, 1, 'asking removes nothing');
  });
});
