/**
 * /backup run end to end: the real bot process in HTTP mode, driven through the Slack stand-in,
 * against a real API server. The confirmation is a channel message with buttons; only an operator's
 * click runs it; the trigger is a merge patch of spec.trigger.manual; the result comes in the
 * thread once status.lastManualSync equals the token (written here as VolSync would).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeUnavailableReason, kubectl } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { blockText } from '../harness/slack/message-content.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { startHttpBot, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { Fixtures, LOCK_LOG, MINUTE, iso, kubeFixtures, syncCondition, syncedStatus, uniq } from './backup-fixtures.ts';
import { stopAll } from '../harness/stop-all.ts';

const skip = await kubeUnavailableReason();

const OPERATOR = 'U0OPERATOR1';
const VIEWER = 'U0VIEWER01';
const CHANNEL = 'C0BACKUPS1';
const SECRETS = {
  botToken: 'xoxb-2000000001-2000000002-backuprunbottoken',
  signingSecret: 'backup-run-test-signing-secret-9a1e',
};

describe('/backup run through Slack, on a real API server', { skip }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  let slack: SlackStandIn;
  let bot: BotProcess;
  const ns = uniq('bbrun');

  before(async () => {
    ({ harness, fx } = await kubeFixtures(ns));
    const settled = syncedStatus(Date.now() - 20 * MINUTE, { duration: '40s', logs: 'snapshot saved' });
    for (const name of ['app', 'other', 'flaky', 'sleepy', 'busy']) {
      await fx.pvc(ns, name);
      await fx.source(ns, name, { sourcePVC: name, paused: name === 'sleepy', trigger: { schedule: '0 * * * *' }, restic: { repository: `${name}-volsync-secret`, copyMethod: 'Clone' } }, settled);
    }
    await fx.sourceStatus(ns, 'busy', { conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', Date.now() - 2 * MINUTE)] });

    const config = writeBotConfig('run', { slack: { operators: { users: [OPERATOR] } } });
    slack = await startSlackStandIn({ ...SECRETS, users: [{ id: OPERATOR, name: 'alice' }, { id: VIEWER, name: 'bob' }] });
    bot = await startHttpBot(slack, { KUBECONFIG: harness.kubeconfigPath, BACKUP_BOT_CONFIG: config, POD_NAMESPACE: ns });
  }, { timeout: 180_000 });

  after(() => stopAll(bot, slack, fx, harness));

  /** Sends /backup run and returns the channel message carrying the confirmation buttons. */
  async function ask(name: string, user = OPERATOR): Promise<StoredMessage> {
    const before = slack.messages(CHANNEL).length;
    await slack.sendSlashCommandHttp({ command: '/backup', text: `run ${ns} ${name}`, user_id: user, channel_id: CHANNEL });
    return slack.waitFor(() => slack.messages(CHANNEL).slice(before).find((m) => JSON.stringify(m.blocks).includes(`${ns}/${name}`)), 15_000, `the confirmation for ${name}`);
  }

  const source = (name: string) => fx.getSource(ns, name);

  test('confirmation, merge patch of spec.trigger.manual, result in the thread, schedule resumed', { timeout: 90_000 }, async () => {
    const msg = await ask('app');
    assert.deepEqual(validateBlocks(msg.blocks as unknown[]), []);
    const text = JSON.stringify(msg.blocks);
    assert.match(text, /Run a backup of `bbrun-[0-9a-f]+\/app` now\?/);
    assert.match(text, /Merge-patch ReplicationSource .* set `spec.trigger.manual` to a new token/);
    assert.match(text, /The schedule `0 \* \* \* \*` is suspended while the manual trigger is set; once the sync succeeds I remove the trigger/);
    assert.match(text, /"action_id":"bb:backup:run"/);
    assert.equal((await source('app')).spec.trigger.manual, undefined, 'nothing happens before the click');

    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:backup:run', message: msg, user_id: OPERATOR, channel_id: CHANNEL } });
    const token = await slack.waitFor(async () => (await source('app')).spec.trigger?.manual as string | undefined, 15_000, 'spec.trigger.manual');
    assert.match(token, /^backup-bot-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    const rs = await source('app');
    // A merge patch: the siblings of the field it set are intact.
    assert.equal(rs.spec.trigger.schedule, '0 * * * *');
    assert.equal(rs.spec.restic.repository, 'app-volsync-secret');
    // The button is gone: the message now says it started.
    const replaced = await slack.waitFor(() => { const m = slack.message(CHANNEL, msg.ts); return m && /started/.test(m.text) ? m : undefined; }, 10_000, 'the confirmation replaced');
    assert.doesNotMatch(JSON.stringify(replaced.blocks), /bb:backup:run/);
    await bot.waitForLine(/"audit":true.*"outcome":"confirmed"/);

    // VolSync finishes the sync.
    await fx.sourceStatus(ns, 'app', { lastManualSync: token, lastSyncTime: iso(Date.now()), lastSyncDuration: '12.5s', latestMoverStatus: { result: 'Successful', logs: 'snapshot 1a2b3c saved' } });
    const reply = await slack.waitFor(() => slack.threadReplies(CHANNEL, msg.ts).find((m) => /succeeded/.test(m.text)), 30_000, 'the result in the thread');
    assert.match(JSON.stringify(reply.blocks), /Backup of `bbrun-[0-9a-f]+\/app` succeeded: synced in 12\.5s/);
    assert.match(JSON.stringify(reply.blocks), /schedule `0 \* \* \* \*` resumes/);
    const after = await source('app');
    assert.equal(after.spec.trigger.manual, undefined, 'the manual trigger is removed again');
    assert.equal(after.spec.trigger.schedule, '0 * * * *');
    await bot.waitForLine(/"audit":true.*"outcome":"succeeded"/);
  });

  test('a non-operator cannot confirm; the cancel button ends the request', { timeout: 60_000 }, async () => {
    const msg = await ask('other');
    const original = structuredClone(msg.blocks);
    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:backup:run', message: msg, user_id: VIEWER, channel_id: CHANNEL } });
    const denied = await slack.waitFor(() => slack.responses().find((r) => r.user === VIEWER && /Only operators/.test(JSON.stringify(r.body))), 10_000, 'the refusal');
    assert.equal(denied.body.response_type, 'ephemeral');
    assert.equal((await source('other')).spec.trigger?.manual, undefined);
    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:backup:run-cancel', message: msg, user_id: OPERATOR, channel_id: CHANNEL } });
    await slack.waitFor(() => /Cancelled/.test(slack.message(CHANNEL, msg.ts)?.text ?? ''), 10_000, 'the cancellation');
    // A click on the old confirmation after cancelling does nothing.
    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:backup:run', message: { ts: msg.ts, blocks: original }, user_id: OPERATOR, channel_id: CHANNEL } });
    await slack.waitFor(() => slack.responses().find((r) => /request was cancelled/.test(JSON.stringify(r.body))), 10_000, 'the replay refused');
    assert.equal((await source('other')).spec.trigger?.manual, undefined);
  });

  test('paused or already running: refused with the reason, nothing patched', async () => {
    for (const [name, why] of [['sleepy', /is paused \(`spec.paused: true`\).*kubectl patch replicationsource sleepy -n bbrun-[0-9a-f]+ --type merge -p '\{"spec":\{"paused":false\}\}'/], ['busy', /`bbrun-[0-9a-f]+\/busy`: VolSync is starting a sync; no mover pod runs yet \(sync in progress since 2m ago\)\. A manual sync would only wait behind this one; `\/backup status bbrun-[0-9a-f]+ busy` shows it\./]] as const) {
      const sent = await slack.sendSlashCommandHttp({ command: '/backup', text: `run ${ns} ${name}`, user_id: OPERATOR, channel_id: CHANNEL });
      const res = await slack.replyTo(sent);
      assert.match(String(res!.body.text), why);
      assert.equal(res!.body.response_type, 'ephemeral');
      assert.equal((await source(name)).spec.trigger?.manual, undefined);
    }
    await bot.waitForLine(/"audit":true.*"outcome":"refused"/);
  });

  test('a failed run: the failure and the log tail in the thread, the trigger left for VolSync to retry', { timeout: 90_000 }, async () => {
    const msg = await ask('flaky');
    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:backup:run', message: msg, user_id: OPERATOR, channel_id: CHANNEL } });
    const token = await slack.waitFor(async () => (await source('flaky')).spec.trigger?.manual as string | undefined, 15_000, 'spec.trigger.manual');
    await fx.sourceStatus(ns, 'flaky', { latestMoverStatus: { result: 'Failed', logs: LOCK_LOG } });
    const reply = await slack.waitFor(() => slack.threadReplies(CHANNEL, msg.ts).find((m) => /failed/.test(m.text)), 30_000, 'the failure in the thread');
    const t = blockText(reply.blocks);
    assert.match(t, /Backup of `bbrun-[0-9a-f]+\/flaky` failed after/);
    assert.match(t, /repository is already locked by PID 32/);
    assert.match(t, /`\/restic locks bbrun-[0-9a-f]+ flaky`/);
    assert.match(t, /--type merge -p '\{"spec":\{"trigger":\{"manual":null\}\}\}'/);
    assert.equal((await source('flaky')).spec.trigger.manual, token);
    await bot.waitForLine(/"audit":true.*"target":"bbrun-[0-9a-f]+\/flaky".*"outcome":"failed"/);
  });
});
