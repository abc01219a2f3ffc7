/**
 * /backup verify on real restic repositories and a real API server: passes on a good repository;
 * fails clearly when a pack file is gone (restic check) and on a wrong password; refuses while an
 * exclusive lock is held; leaves no temporary directory behind; is for operators only and does
 * nothing before an operator confirms.
 */
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backupCommands } from '../../commands/backup/index.ts';
import { VERIFY_ACTION } from '../../commands/backup/actions.ts';
import { BackgroundWork } from '../../src/command/background.ts';
import { commandSet } from '../../src/command/dispatch.ts';
import type { Kube } from '../../src/kube/client.ts';
import type { Reply } from '../../src/reply.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { drillDirPrefix } from '../../src/restic/drill-dirs.ts';
import { runResticChecked } from '../../src/restic/index.ts';
import type { ResticTarget } from '../../src/restic/index.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { holdLock, killAllHolders, resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import { blockText } from '../harness/slack/message-content.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';
import { ResticScratch, slackUser, sleep, testBot, uniq } from './restic-cmd-fixtures.ts';
import type { TestBot } from './restic-cmd-fixtures.ts';

const skip = skipUnlessBuilt('restic') || (await kubeUnavailableReason()) || false;
const bin = resticBinary();
if (bin) process.env['RESTIC_BIN'] = bin;

const ALICE = slackUser('U0ALICE003', 'alice');
const VIEWER = slackUser('U0VIEWER03', 'victor');

describe('/backup verify on real restic and a real API server', { skip, timeout: 600_000 }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let bot: TestBot;
  const ns = uniq('rverify');
  let scratch: ResticScratch;
  const background = new BackgroundWork();
  const secrets: string[] = [];

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns));
    scratch = new ResticScratch(kube, ns);
    bot = testBot({ kube, botNamespace: ns, operators: [ALICE.id], commands: commandSet([backupCommands({ background })]) });
  });

  after(() => stopAll(() => background.stop(), killAllHolders, scratch, harness));

  async function repo(name: string): Promise<{ target: ResticTarget; dir: string }> {
    const r = await scratch.sourceWithRepository(name);
    secrets.push(r.target.repository, r.target.env['RESTIC_PASSWORD']!);
    return r;
  }
  const drillDirs = async () => (await readdir(tmpdir())).filter((d) => d.startsWith(drillDirPrefix()));

  /** Asks as Alice, confirms, and waits for the result the drill posts in the thread. */
  async function verified(name: string): Promise<{ asked: Reply; result: Reply; text: string }> {
    const asked = await bot.run(`/backup verify ${ns} ${name}`, ALICE);
    assert.ok(asked.confirmation, bot.text(asked));
    const before = bot.notified.length;
    const started = await bot.click(VERIFY_ACTION, asked.confirmation.token, ALICE);
    assert.match(bot.text(started), /Verifying rverify-[0-9a-f]+\/.*I'll post the result in this thread/);
    const deadline = Date.now() + 120_000;
    while (bot.notified.length === before && Date.now() < deadline) await sleep(200);
    const result = bot.notified[before]!;
    assert.ok(result, 'the result was posted');
    assert.deepEqual(validateBlocks(renderBlocks(result).blocks), []);
    return { asked, result, text: blockText(renderBlocks(result).blocks) };
  }

  test('a good repository is restorable: files restored and verified, check passed, no directory left', async () => {
    await repo('good');
    const { asked, result, text } = await verified('good');
    assert.match(blockText(renderBlocks(asked).blocks), /restic check --read-data-subset=5%.*Restore up to 200 files and 500 MB of the newest snapshot/s);
    assert.equal(result.tone, 'ok', text);
    assert.match(text, /`rverify-[0-9a-f]+\/good` is restorable: 2 files, \d+(\.\d)? KB restored and verified from snapshot `[0-9a-f]{8}`.*check passed/);
    assert.match(text, /found no errors/);
    assert.deepEqual(await drillDirs(), []);
    assert.deepEqual(bot.audits.filter((a) => a.target.endsWith('/good')).map((a) => a.outcome), ['requested', 'confirmed', 'succeeded']);
  });

  test('a pack file gone: restic check says so, and the drill says what it could not restore', async () => {
    const { dir } = await repo('damaged');
    const data = join(dir, 'repo', 'data');
    for (const sub of await readdir(data)) for (const pack of await readdir(join(data, sub))) await rm(join(data, sub, pack));
    const { result, text } = await verified('damaged');
    assert.equal(result.tone, 'error');
    assert.match(text, /:red_circle: Verifying `rverify-[0-9a-f]+\/damaged` failed: `restic check` failed: /);
    assert.match(text, /sampled files were not restored|restic restore` failed|listing of snapshot `[0-9a-f]{8}` cannot be read/);
    assert.deepEqual(await drillDirs(), []);
  });

  test('a wrong password: one line, no secret', async () => {
    const { target } = await repo('locked-out');
    await kube.core.replaceNamespacedSecret({ namespace: ns, name: 'locked-out-restic-secret', body: { metadata: { name: 'locked-out-restic-secret' }, type: 'Opaque', stringData: { RESTIC_REPOSITORY: target.repository, RESTIC_PASSWORD: 'wrong-password-verify-1' } } });
    secrets.push('wrong-password-verify-1');
    const { result, text } = await verified('locked-out');
    assert.equal(result.tone, 'error');
    assert.match(text, /Verifying `rverify-[0-9a-f]+\/locked-out` failed: .*wrong password/);
    for (const s of secrets) assert.ok(!JSON.stringify(result).includes(s), 'no secret value in the reply');
  });

  test('a running backup (a shared lock) does not stop it; an exclusive lock (a prune) does, and nothing is checked', async () => {
    const { target } = await repo('pruning');
    const backup = await holdLock(target);
    try {
      assert.match((await verified('pruning')).text, /is restorable/);
    } finally {
      await backup.kill9();
    }
    await runResticChecked(target, ['unlock'], { bin });
    const prune = await holdLock(target, { exclusive: true });
    try {
      assert.equal(prune.lock.exclusive, true);
      const { result, text } = await verified('pruning');
      assert.equal(result.tone, 'error');
      assert.match(text, new RegExp(`An exclusive lock \\(\`${prune.lock.shortId}\`, host \`[^\`]+\`\\) is in the repository of \`rverify-[0-9a-f]+/pruning\`: a prune or an unlock works on it\\. Nothing was checked`));
    } finally {
      await prune.kill9();
    }
  });

  test('operators only, and nothing runs before an operator confirms', async () => {
    await repo('asked-only');
    const denied = await bot.run(`/backup verify ${ns} asked-only`, VIEWER);
    assert.match(bot.text(denied), /Only operators/);
    const asked = await bot.run(`/backup verify ${ns} asked-only`, ALICE);
    assert.ok(asked.confirmation);
    await sleep(1000);
    assert.deepEqual(bot.audits.filter((a) => a.action === '/backup verify' && a.target.endsWith('/asked-only')).map((a) => a.outcome), ['requested'], 'asked, nothing ran');
    const noThird = await bot.click(VERIFY_ACTION, asked.confirmation.token, VIEWER);
    assert.match(bot.text(noThird), /Only operators/);
    assert.deepEqual(await drillDirs(), []);
  });
});
