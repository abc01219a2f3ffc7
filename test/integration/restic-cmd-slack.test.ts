/**
 * /restic end to end: the real bot process in HTTP mode, driven through the Slack stand-in, against
 * a real API server and real restic repositories. One full --remove-all: command → evidence in the
 * channel → operator A confirms (the thread says it waits for a second operator) → operator B
 * confirms → the outcome and the audit record in the thread, the source paused and resumed, the
 * repository working afterwards. No secret value reaches Slack or the bot's log.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import { listLocks, runResticChecked } from '../../src/restic/index.ts';
import type { ResticTarget } from '../../src/restic/index.ts';
import { runTerminalProcess, startHttpBot, writeBotConfig } from '../harness/bot-process.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { deadLock, holdLock, killAllHolders, resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import { blockText } from '../harness/slack/message-content.ts';
import { buttonLabelled } from '../harness/slack/payloads.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { createPod, getSource, orphanedLock, ResticScratch, sleep, uniq, watchPaused } from './restic-cmd-fixtures.ts';

const skip = skipUnlessBuilt('restic') || (await kubeUnavailableReason()) || false;
const bin = resticBinary() ?? 'restic';

const ALICE = 'U0ALICE0S1';
const BOB = 'U0BOB000S1';
const VIEWER = 'U0VIEWERS1';
const CHANNEL = 'C0RESTIC01';
const SECRETS = { botToken: 'xoxb-3000000001-3000000002-resticbottoken', signingSecret: 'restic-cmd-test-signing-secret-77c1' };


describe('/restic through Slack: the real bot, a real API server, real restic', { skip, timeout: 600_000 }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let slack: SlackStandIn;
  let bot: BotProcess;
  const ns = uniq('rslack');
  const PLEX_MOVER = uniq('volsync-src-plex');
  const secretValues: string[] = [];
  let scratch: ResticScratch;
  let plex: ResticTarget;
  const locks: Record<string, string> = {};

  async function repoFor(name: string): Promise<ResticTarget> {
    const repo = await scratch.sourceWithRepository(name);
    secretValues.push(repo.target.repository, repo.target.env['RESTIC_PASSWORD']!);
    return repo.target;
  }

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns));
    scratch = new ResticScratch(kube, ns);
    plex = await repoFor('plex');
    locks['stale'] = await deadLock(plex);
    // A mover whose restic was killed: its pod Failed, which proves the lock dead. Its name is unique
    // per run: the verdicts see mover pods cluster-wide, and other tests on the shared API server
    // run movers named like the runbook's (volsync-src-plex-nzlv6).
    locks['orphaned'] = await orphanedLock(kube, ns, 'plex', plex, PLEX_MOVER);
    await createPod(kube, ns, 'restic-shell', 'Running');
    const live = await holdLock(plex, { hostname: 'restic-shell' });
    locks['live'] = live.lock.id;

    const config = writeBotConfig('restic-slack', { slack: { operators: { users: [ALICE, BOB] } }, restic: { confirmTimeoutMinutes: 5 } });
    slack = await startSlackStandIn({ ...SECRETS, users: [{ id: ALICE, name: 'alice' }, { id: BOB, name: 'bob' }, { id: VIEWER, name: 'victor' }] });
    bot = await startHttpBot(slack, { KUBECONFIG: harness.kubeconfigPath, BACKUP_BOT_CONFIG: config, POD_NAMESPACE: ns, RESTIC_BIN: bin });
  }, { timeout: 300_000 });

  after(() => stopAll(killAllHolders, bot, slack, scratch, harness));

  /** A slash command's ephemeral answer (through response_url). */
  async function ephemeral(text: string, user: string): Promise<Record<string, any>> {
    const sent = await slack.sendSlashCommandHttp({ command: '/restic', text, user_id: user, channel_id: CHANNEL });
    const res = await slack.replyTo(sent, 60_000, `the answer to /restic ${text}`);
    assert.deepEqual(res.errors, []);
    return res.body;
  }

  test('/restic locks: the three verdicts, valid Block Kit, only for the asker', async () => {
    const body = await ephemeral(`locks ${ns} plex`, VIEWER);
    assert.equal(body.response_type, 'ephemeral');
    assert.deepEqual(validateBlocks(body.blocks), []);
    const t = blockText(body.blocks);
    assert.match(t, /3 locks in the repository of `rslack-[0-9a-f]+\/plex`: 1 orphaned, 1 stale, 1 live/);
    assert.match(t, new RegExp(`:red_circle: \\*orphaned\\* · \`${locks['orphaned']!.slice(0, 8)}\` · shared`));
    assert.match(t, new RegExp(`:large_yellow_circle: \\*stale\\* · \`${locks['stale']!.slice(0, 8)}\``));
    assert.match(t, new RegExp(`:large_green_circle: \\*live\\* · \`${locks['live']!.slice(0, 8)}\``));
    assert.match(t, new RegExp(`Host \`${PLEX_MOVER}\` · PID \\d+ · root`));
    assert.match(t, /Its host restic-shell is a running pod/);
  });

  test('--remove-all: evidence, A confirms, waits for B, B confirms, outcome and audit in the thread', async () => {
    const before = slack.messages(CHANNEL).length;
    await slack.sendSlashCommandHttp({ command: '/restic', text: `unlock ${ns} plex --remove-all`, user_id: ALICE, channel_id: CHANNEL });
    const msg: StoredMessage = await slack.waitFor(() => slack.messages(CHANNEL).slice(before).find((m) => /Remove all locks/.test(JSON.stringify(m.blocks))), 60_000, 'the evidence with the confirmation');
    assert.deepEqual(validateBlocks(msg.blocks as unknown[]), []);
    const original = structuredClone(msg.blocks);
    const t = blockText(msg.blocks);
    assert.match(t, /3 locks in the repository/);
    assert.match(t, /\*Two different operators must approve\*: lock `[0-9a-f]{8}` is live/);
    assert.match(t, /Mover pods using this repository now: none running/);
    const json = JSON.stringify(msg.blocks);
    assert.match(json, /"action_id":"bb:restic:remove-all","value":"[A-Za-z0-9_-]+\.[0-9a-f]{64}","style":"danger","confirm":\{"title":\{"type":"plain_text","text":"Are you sure\?"/);
    assert.match(json, /"action_id":"bb:restic:remove-all-cancel"/);

    // A non-operator's click: refused, only to them.
    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:restic:remove-all', message: msg, user_id: VIEWER, channel_id: CHANNEL } });
    const denied = await slack.waitFor(() => slack.responses().find((r) => r.user === VIEWER && /Only operators/.test(JSON.stringify(r.body))), 15_000, 'the refusal');
    assert.equal(denied.body.response_type, 'ephemeral');

    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:restic:remove-all', message: msg, user_id: ALICE, channel_id: CHANNEL } });
    const waiting = await slack.waitFor(() => slack.threadReplies(CHANNEL, msg.ts).find((m) => /Waiting for a second operator/.test(m.text)), 15_000, 'the waiting note in the thread');
    assert.match(blockText(waiting.blocks), new RegExp(`<@${ALICE}> approved removing every lock from \`rslack-[0-9a-f]+/plex\` \\(1 of 2\\)`));
    assert.equal((await listLocks(plex, { bin })).length, 3);
    assert.notEqual((await getSource(kube, ns, 'plex')).spec.paused, true);

    const watch = await watchPaused(kube, ns, 'plex');
    try {
      await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:restic:remove-all', message: msg, user_id: BOB, channel_id: CHANNEL } });
      const result = await slack.waitFor(() => slack.threadReplies(CHANNEL, msg.ts).find((m) => /remove-all on .*: /.test(m.text)), 90_000, 'the outcome in the thread');
      assert.deepEqual(validateBlocks(result.blocks as unknown[]), []);
      const out = blockText(result.blocks);
      assert.match(out, /:white_check_mark: All locks removed from the repository of `rslack-[0-9a-f]+\/plex`/);
      assert.match(out, /Removed 3 locks/);
      assert.match(out, new RegExp(`Audit: asked by <@${ALICE}> · confirmed by <@${ALICE}> and <@${BOB}> · ran .*restic unlock --remove-all.* · outcome succeeded`));
      const replaced = await slack.waitFor(() => { const m = slack.message(CHANNEL, msg.ts); return m && /Done: all locks removed/.test(m.text) ? m : undefined; }, 15_000, 'the confirmation replaced');
      assert.doesNotMatch(JSON.stringify(replaced.blocks), /bb:restic:remove-all/);
      await sleep(500);
      assert.deepEqual(watch.seen.slice(-2), [true, false], `spec.paused went ${JSON.stringify(watch.seen)}`);
    } finally {
      watch.stop();
    }
    assert.equal((await getSource(kube, ns, 'plex')).spec.paused, false);
    assert.deepEqual(await listLocks(plex, { bin }), []);
    const snapshots = JSON.parse((await runResticChecked(plex, ['snapshots', '--json'], { bin })).stdout) as unknown[];
    assert.ok(snapshots.length >= 1);
    await bot.waitForLine(/"audit":true.*"action":"\/restic unlock --remove-all".*"outcome":"succeeded"/);
    const auditLine = bot.lines.find((l) => /"audit":true/.test(l) && /"outcome":"succeeded"/.test(l) && /remove-all/.test(l))!;
    const audit = JSON.parse(auditLine) as { who: string; confirmedBy: string[]; ran: string[] };
    assert.equal(audit.who, ALICE);
    assert.deepEqual(audit.confirmedBy, [ALICE, BOB]);
    assert.ok(audit.ran.includes('restic unlock --remove-all'));

    // Clicked again (or replayed from an old copy of the message): works once.
    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:restic:remove-all', message: { ts: msg.ts, blocks: original }, user_id: BOB, channel_id: CHANNEL } });
    await slack.waitFor(() => slack.responses().find((r) => r.user === BOB && /works once/.test(JSON.stringify(r.body))), 15_000, 'the second click refused');
  });

  test('an altered confirmation is refused; a plain unlock is reported in the channel', async () => {
    const target = await repoFor('sonarr');
    await orphanedLock(kube, ns, 'sonarr', target, uniq('volsync-src-sonarr'));
    const before = slack.messages(CHANNEL).length;
    await slack.sendSlashCommandHttp({ command: '/restic', text: `unlock ${ns} sonarr --remove-all`, user_id: ALICE, channel_id: CHANNEL });
    const msg = await slack.waitFor(() => slack.messages(CHANNEL).slice(before).find((m) => /sonarr/.test(JSON.stringify(m.blocks)) && /Remove all locks/.test(JSON.stringify(m.blocks))), 60_000, 'the evidence');
    assert.match(blockText(msg.blocks), /An operator must approve/);
    const value = (JSON.stringify(msg.blocks).match(/"value":"([A-Za-z0-9_-]+)\.([0-9a-f]{64})"/) ?? []) as string[];
    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:restic:remove-all', message: msg, value: `${value[1]}.${'0'.repeat(64)}`, user_id: BOB, channel_id: CHANNEL } });
    await slack.waitFor(() => slack.responses().find((r) => /does not match this request/.test(JSON.stringify(r.body))), 15_000, 'the altered click refused');
    assert.equal((await listLocks(target, { bin })).length, 1);

    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:restic:remove-all-cancel', message: msg, user_id: BOB, channel_id: CHANNEL } });
    await slack.waitFor(() => /Cancelled/.test(slack.message(CHANNEL, msg.ts)?.text ?? ''), 15_000, 'the cancellation');

    const n = slack.messages(CHANNEL).length;
    await slack.sendSlashCommandHttp({ command: '/restic', text: `unlock ${ns} sonarr`, user_id: BOB, channel_id: CHANNEL });
    const plain = await slack.waitFor(() => slack.messages(CHANNEL).slice(n).find((m) => /restic unlock on/.test(m.text)), 60_000, 'the plain unlock report');
    assert.deepEqual(validateBlocks(plain.blocks as unknown[]), []);
    assert.match(blockText(plain.blocks), /removed nothing from the repository .*no lock there is stale by restic's rule/);
    assert.match(JSON.stringify(plain.blocks), /"action_id":"bb:restic:volsync-unlock"/);
  });

  test('the buttons on /restic locks: a non-operator is refused, Unlock stale locks removes the stale lock, Remove all locks… asks for the confirmation', async () => {
    const target = await repoFor('bazarr');
    const stale = await deadLock(target);
    const orphaned = await orphanedLock(kube, ns, 'bazarr', target, uniq('volsync-src-bazarr'));
    const body = await ephemeral(`locks ${ns} bazarr`, VIEWER);
    assert.deepEqual(validateBlocks(body.blocks), []);
    const shown = { blocks: body.blocks as unknown[] };
    // The reply was only for the asker: Slack sends no message with the click, only is_ephemeral.
    const press = (label: string, user: string) => {
      const b = buttonLabelled(shown, label);
      return slack.sendInteractionHttp({ blockAction: { action_id: b.actionId, value: b.value, user_id: user, channel_id: CHANNEL, is_ephemeral: true } });
    };

    await press('Unlock stale locks', VIEWER);
    await slack.waitFor(() => slack.responses().find((r) => r.user === VIEWER && /Only operators/.test(JSON.stringify(r.body))), 15_000, 'the refusal');
    assert.equal((await listLocks(target, { bin })).length, 2, 'nothing was removed');
    await bot.waitForLine(new RegExp(`"audit":true.*"who":"${VIEWER}".*"action":"/restic unlock".*"outcome":"denied"`));

    const n = slack.messages(CHANNEL).length;
    await press('Unlock stale locks', ALICE);
    const report = await slack.waitFor(() => slack.messages(CHANNEL).slice(n).find((m) => /restic unlock on .*bazarr/.test(m.text)), 60_000, 'the unlock report in the channel');
    assert.deepEqual(validateBlocks(report.blocks as unknown[]), []);
    assert.match(blockText(report.blocks), new RegExp(`removed 1 stale lock.*${stale.slice(0, 8)}`, 's'));
    assert.deepEqual((await listLocks(target, { bin })).map((l) => l.id), [orphaned], 'the stale lock is gone, the orphaned one is left');

    const m = slack.messages(CHANNEL).length;
    await press('Remove all locks…', ALICE);
    const ask = await slack.waitFor(() => slack.messages(CHANNEL).slice(m).find((x) => /bazarr/.test(JSON.stringify(x.blocks)) && /"action_id":"bb:restic:remove-all"/.test(JSON.stringify(x.blocks))), 60_000, 'the evidence with the confirmation');
    assert.deepEqual(validateBlocks(ask.blocks as unknown[]), []);
    assert.match(blockText(ask.blocks), /An operator must approve/);
    assert.equal((await listLocks(target, { bin })).length, 1, 'asking removes nothing');
    await slack.sendInteractionHttp({ blockAction: { action_id: 'bb:restic:remove-all-cancel', message: ask, user_id: ALICE, channel_id: CHANNEL } });
    await slack.waitFor(() => /Cancelled/.test(slack.message(CHANNEL, ask.ts)?.text ?? ''), 15_000, 'the cancellation');
  });

  test('/restic snapshots --all: one channel message, the older snapshots as pages in its thread', async () => {
    const target = await repoFor('readarr');
    const data = await mkdtemp(join(tmpdir(), 'bb-readarr-'));
    scratch.onCleanup(() => rm(data, { recursive: true, force: true }));
    await writeFile(join(data, 'db.sql'), 'dump\n');
    for (let i = 0; i < 11; i++) await runResticChecked(target, ['backup', '--host', 'volsync-src-readarr-x1', data], { bin });
    const before = slack.messages(CHANNEL).length;
    await slack.sendSlashCommandHttp({ command: '/restic', text: `snapshots ${ns} readarr --all`, user_id: VIEWER, channel_id: CHANNEL });
    const parent = await slack.waitFor(() => slack.messages(CHANNEL).slice(before).find((m) => /12 snapshots in the repository of `rslack-[0-9a-f]+\/readarr`/.test(blockText(m.blocks))), 60_000, 'the listing in the channel');
    assert.deepEqual(validateBlocks(parent.blocks as unknown[]), []);
    assert.match(blockText(parent.blocks), /2 older snapshots in the thread/);
    const page = await slack.waitFor(() => slack.threadReplies(CHANNEL, parent.ts).find((m) => /Snapshots 11–12 of 12/.test(m.text)), 30_000, 'the page in the thread');
    assert.equal((blockText(page.blocks).match(/^• /gm) ?? []).length, 2);
  });

  test('wrong password through Slack: one line, no secret', async () => {
    const target = await repoFor('radarr');
    await kube.core.replaceNamespacedSecret({
      namespace: ns, name: 'radarr-restic-secret',
      body: { metadata: { name: 'radarr-restic-secret' }, type: 'Opaque', stringData: { RESTIC_REPOSITORY: target.repository, RESTIC_PASSWORD: 'not-the-right-password-9' } },
    });
    secretValues.push('not-the-right-password-9');
    const body = await ephemeral(`locks ${ns} radarr`, VIEWER);
    assert.match(String(body.text), /wrong password — RESTIC_PASSWORD in Secret rslack-[0-9a-f]+\/radarr-restic-secret does not open any key/);
  });

  test('piped terminal: --remove-all is refused, never assumed confirmed', async () => {
    const target = await repoFor('lidarr');
    await orphanedLock(kube, ns, 'lidarr', target, uniq('volsync-src-lidarr'));
    const run = await runTerminalProcess(`/restic unlock ${ns} lidarr --remove-all\n`, { KUBECONFIG: harness.kubeconfigPath, RESTIC_BIN: bin }, 120_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Remove ALL locks\? · rslack-[0-9a-f]+\/lidarr/);
    assert.match(run.stdout, /Refused: this needs a confirmation typed at an interactive terminal, and standard input is not one\. Nothing was done\./);
    assert.equal((await listLocks(target, { bin })).length, 1);
    assert.equal((await getSource(kube, ns, 'lidarr')).spec.paused, undefined);
    for (const s of secretValues) assert.ok(!run.stdout.includes(s) && !run.stderr.includes(s), 'no secret in the terminal output');
  });

  test('no secret value in anything Slack received or the bot logged', () => {
    const seen = JSON.stringify({ calls: slack.calls(), responses: slack.responses(), messages: slack.allMessages() });
    const log = bot.output();
    assert.ok(secretValues.length >= 8);
    for (const s of secretValues) {
      assert.ok(!seen.includes(s), `Slack saw a secret value (${s.length} chars)`);
      assert.ok(!log.includes(s), `the bot logged a secret value (${s.length} chars)`);
    }
  });
});
