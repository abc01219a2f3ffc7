/**
 * /restic locks and /restic unlock (plain, --remove-all, VolSync) in-process, against real restic
 * 0.18 repositories and a real kube-apiserver: the three kinds of lock, confirmations that are bound,
 * single-use, expiring and need a second operator for a live lock, the source paused and resumed
 * around the unlock (also when a step fails), one unlock per repository at a time, and one clear
 * line for every kind of bad input, with no secret in it.
 */
import assert from 'node:assert/strict';
import { rename } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { leaseName } from '../../commands/restic/repository-lease.ts';
import { openRepository } from '../../src/volsync/repository.ts';
import { REMOVE_ALL_ACTION, VOLSYNC_UNLOCK_ACTION } from '../../commands/restic/actions.ts';
import { SECOND_OPERATOR_TERMINAL } from '../../commands/restic/remove-all.ts';
import { tryAcquireLease } from '../../src/kube/lease.ts';
import type { Kube } from '../../src/kube/client.ts';
import type { Reply } from '../../src/reply.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { listLocks, runResticChecked } from '../../src/restic/index.ts';
import type { ResticTarget } from '../../src/restic/index.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { deadLock, holdLock, killAllHolders, resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import type { HeldLock } from '../harness/restic.ts';
import { freePort } from '../harness/kube/free-port.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';
import { backupStatus } from '../../src/backup/status.ts';
import { renderText } from '../../src/terminal/render-text.ts';
import { syncCondition } from '../harness/kube-objects.ts';
import { createNamespace, createPod, createSecret, createSource, getSource, moverLabels, orphanedLock, ResticScratch, resticTestCommands, slackUser, sleep, sourceStatus, testBot, uniq, watchPaused } from './restic-cmd-fixtures.ts';
import type { TestBot } from './restic-cmd-fixtures.ts';

const skip = skipUnlessBuilt('restic') || (await kubeUnavailableReason()) || false;
const bin = resticBinary();
if (bin) process.env['RESTIC_BIN'] = bin;

const ALICE = slackUser('U0ALICE001', 'alice');
const BOB = slackUser('U0BOB00001', 'bob');
const CAROL = slackUser('U0CAROL001', 'carol');
const VIEWER = slackUser('U0VIEWER01', 'victor');
const TERMINAL = { id: 'terminal:root', name: 'root', via: 'terminal' as const };

interface App {
  name: string;
  target: ResticTarget;
  dir: string;
  password: string;
  locks: { stale?: string; orphaned?: string; unknown?: string; live?: string };
  /** The host of the unknown lock: unique per run, as pods of an earlier run's namespaces may linger (no namespace controller). */
  unknownHost?: string;
  live?: HeldLock;
}

describe('/restic locks and unlock on real restic and a real API server', { skip, timeout: 600_000 }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let bot: TestBot;
  const ns = uniq('rcmd');
  let scratch: ResticScratch;
  const { commands, hooks } = resticTestCommands({ volsyncFollow: { pollMs: 200, timeoutMs: 30_000 } });

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns));
    scratch = new ResticScratch(kube, ns);
    bot = testBot({ kube, botNamespace: ns, operators: [ALICE.id, BOB.id, CAROL.id], commands });
  });

  after(() => stopAll(killAllHolders, scratch, harness));

  /** A source with its own repository and Secret, and the locks asked for. */
  async function app(name: string, kinds: Array<'stale' | 'orphaned' | 'unknown' | 'live' | 'mover'>, o: { labels?: Record<string, string>; pvc?: string } = {}): Promise<App> {
    const repo = await scratch.sourceWithRepository(name, { ...(o.pvc ? { pvc: o.pvc } : {}), ...(o.labels ? { labels: o.labels } : {}) });
    const password = repo.target.env['RESTIC_PASSWORD']!;
    const a: App = { name, target: repo.target, dir: repo.dir, password, locks: {} };
    if (kinds.includes('stale')) a.locks.stale = await deadLock(repo.target);
    if (kinds.includes('orphaned')) a.locks.orphaned = await orphanedLock(kube, ns, name, repo.target, `volsync-src-${name}-gone1`);
    if (kinds.includes('unknown')) {
      // Seconds old, made as a restore mover that is no pod here: not provably dead.
      a.unknownHost = `${uniq(`volsync-dst-${name}-elsewhere`)}`;
      a.locks.unknown = await deadLock(repo.target, { hostname: a.unknownHost });
    }
    if (kinds.includes('live')) {
      await createPod(kube, ns, `${name}-shell`, 'Running');
      a.live = await holdLock(repo.target, { hostname: `${name}-shell` });
      a.locks.live = a.live.lock.id;
    }
    if (kinds.includes('mover')) await createPod(kube, ns, `volsync-src-${name}-run01`, 'Running', moverLabels(name));
    return a;
  }

  const lockIds = async (a: App) => (await listLocks(a.target, { bin: bin! })).map((l) => l.id).sort();
  const confirmation = (r: Reply) => {
    assert.ok(r.confirmation, `expected a confirmation, got: ${bot.text(r)}`);
    return r.confirmation;
  };
  const assertValidBlocks = (r: Reply) => assert.deepEqual(validateBlocks(renderBlocks(r).blocks), []);

  let alpha: App;

  test('/restic locks: stale, orphaned and live, problems first, what each blocks, valid Block Kit', async () => {
    alpha = await app('alpha', ['stale', 'orphaned', 'live'], { pvc: 'alpha-data', labels: { 'app.kubernetes.io/name': 'alpha-app' } });
    const r = await bot.run(`/restic locks ${ns} alpha`, VIEWER);
    const t = bot.text(r);
    assertValidBlocks(r);
    assert.match(t, /3 locks in the repository of rcmd-[0-9a-f]+\/alpha: 1 orphaned, 1 stale, 1 live\./);
    assert.match(t, /backups keep succeeding while retention silently stops/);
    // Problems first: orphaned, then stale, then live.
    const at = (v: string) => t.indexOf(`${v} · `);
    assert.ok(at('orphaned') > 0 && at('orphaned') < at('stale') && at('stale') < at('live'), t);
    assert.match(t, new RegExp(`orphaned · ${alpha.locks.orphaned!.slice(0, 8)} · shared\\nHost volsync-src-alpha-gone1 · PID \\d+ · root`));
    assert.match(t, /Its mover pod volsync-src-alpha-gone1 has finished \(Failed\), so no restic is left to hold it/);
    assert.match(t, new RegExp(`stale · ${alpha.locks.stale!.slice(0, 8)}`));
    assert.match(t, /which is no longer running; plain restic unlock removes it/);
    assert.match(t, new RegExp(`live · ${alpha.locks.live!.slice(0, 8)}`));
    assert.match(t, /Its host alpha-shell is a running pod/);
    assert.match(t, /Blocks forget, prune, check/);
    assert.match(t, /Created \d{4}-\d\d-\d\d \d\d:\d\d UTC · \d+s ago/);
    assert.match(t, new RegExp(`/restic unlock ${ns} alpha removes the 1 stale lock`));
    assert.match(t, new RegExp(`/restic unlock ${ns} alpha --remove-all clears it`));
    assert.match(t, /Mover pods using this repository now: none running/);
    assert.equal(r.visibility, 'ephemeral');

    // The same source by its PVC and by its app label.
    assert.match(bot.text(await bot.run(`/restic locks ${ns} alpha-data`, VIEWER)), /Source rcmd-[0-9a-f]+\/alpha \(matched alpha-data\)/);
    assert.match(bot.text(await bot.run(`/restic locks ${ns} alpha-app`, VIEWER)), /3 locks in the repository of rcmd-[0-9a-f]+\/alpha/);
  });

  test('a source VolSync retries with no mover pod: /restic locks and /backup status say the same, neither that a sync runs', async () => {
    // The seed's case: the mover failed on a lock left by a pod that is gone; VolSync keeps
    // Synchronizing True (SyncInProgress) while it retries, and no mover pod exists between tries.
    const a = await app('retrier', ['orphaned']);
    await sourceStatus(kube, ns, a.name, {
      lastSyncStartTime: new Date(Date.now() - 215_000).toISOString(),
      latestMoverStatus: { result: 'Failed', logs: 'unable to create lock in backend: repository is already locked by PID 32 on volsync-src-retrier-gone1 by root' },
      conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', Date.now() - 215_000)],
    });
    const said = /VolSync is retrying; no mover pod runs \(sync in progress since 3m ago, last result Failed, 1 failed mover pod\)\./;
    const locks = bot.text(await bot.run(`/restic locks ${ns} ${a.name}`, VIEWER));
    assert.match(locks, /Mover pods using this repository now: none running\. VolSync is retrying; no mover pod runs/);
    assert.match(locks, said);
    for (const status of [await backupStatus({ kube, now: () => new Date() }, { namespace: ns }), await backupStatus({ kube, now: () => new Date() }, { namespace: ns, name: a.name })]) {
      const t = renderText(status);
      assert.match(t, said);
      // What /backup status said before, while /restic locks said "none running".
      assert.doesNotMatch(t, /A sync is running/);
    }
  });

  let volsyncButton = '';

  test('/restic unlock removes only what restic calls stale, says why the rest stays, offers the VolSync path', async () => {
    const denied = await bot.run(`/restic unlock ${ns} alpha`, VIEWER);
    assert.match(bot.text(denied), /Only operators can do that/);
    assert.equal((await lockIds(alpha)).length, 3, 'a non-operator removed nothing');

    const r = await bot.run(`/restic unlock ${ns} alpha`, ALICE);
    const t = bot.text(r);
    assertValidBlocks(r);
    assert.match(t, new RegExp(`restic unlock removed 1 stale lock from the repository of ${ns}/alpha:\\n• ${alpha.locks.stale!.slice(0, 8)} shared`));
    assert.match(t, /2 locks remain/);
    assert.match(t, /Kept: plain `?restic unlock`? removes only stale locks, and restic does not call this one stale: it was made on another host \(volsync-src-alpha-gone1\)/);
    assert.match(t, /--remove-all shows the evidence and clears/);
    assert.deepEqual(await lockIds(alpha), [alpha.locks.orphaned!, alpha.locks.live!].sort());
    const actions = r.blocks.find((b) => b.type === 'actions');
    assert.ok(actions && actions.type === 'actions' && actions.buttons[0]?.actionId === VOLSYNC_UNLOCK_ACTION, 'VolSync button offered');
    volsyncButton = actions.buttons[0]!.value;
    const audit = bot.audits.find((a) => a.action === '/restic unlock' && a.outcome === 'succeeded');
    assert.ok(audit && audit.actor.id === ALICE.id && audit.ran?.includes('restic unlock'));
  });

  test('the VolSync path: spec.restic.unlock and spec.trigger.manual set to a token, done when lastUnlocked shows it', async () => {
    const clicked = await bot.click(VOLSYNC_UNLOCK_ACTION, volsyncButton, BOB);
    assert.match(bot.text(clicked), /asked VolSync to unlock/);
    const rs = await getSource(kube, ns, 'alpha');
    const token = rs.spec.restic.unlock as string;
    assert.match(token, /^backup-bot-unlock-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    assert.equal(rs.spec.trigger.manual, token);
    assert.equal(rs.spec.trigger.schedule, '0 * * * *');
    // VolSync's mover ran the unlock and the sync.
    await sourceStatus(kube, ns, 'alpha', { restic: { lastUnlocked: token }, lastManualSync: token });
    const deadline = Date.now() + 15_000;
    while (!bot.notified.some((n) => /VolSync ran/.test(bot.text(n))) && Date.now() < deadline) await sleep(100);
    const done = bot.notified.find((n) => /VolSync ran/.test(bot.text(n)));
    assert.ok(done, 'result notified');
    assert.match(bot.text(done), new RegExp(`status.restic.lastUnlocked is ${token}`));
    assert.match(bot.text(done), /The manual trigger is removed again, so the schedule .* resumes/);
    assert.equal((await getSource(kube, ns, 'alpha')).spec.trigger.manual, undefined);
    // The button works once.
    assert.match(bot.text(await bot.click(VOLSYNC_UNLOCK_ACTION, volsyncButton, BOB)), /works once/);
  });

  test('--remove-all with a live lock: evidence, two different operators, paused then resumed, repository works', async () => {
    const r = await bot.run(`/restic unlock ${ns} alpha --remove-all`, ALICE);
    const t = bot.text(r);
    assertValidBlocks(r);
    const c = confirmation(r);
    assert.equal(c.actionId, REMOVE_ALL_ACTION);
    assert.match(t, /Remove ALL locks\? · rcmd-[0-9a-f]+\/alpha/);
    assert.match(t, /2 locks in the repository/);
    assert.match(t, /Two different operators must approve: lock `?[0-9a-f]{8}`? is live/);
    assert.match(t, /Pause the source: merge-patch spec.paused: true/);
    assert.match(t, /Resume the source \(spec.paused: false, the annotation removed\): always/);
    assert.match(t, /with the annotation backup-bot\/paused-by saying who and when/);
    assert.equal(r.visibility, 'channel');
    assert.ok(bot.audits.some((a) => a.action === '/restic unlock --remove-all' && a.outcome === 'requested'));

    // A non-operator's click does nothing.
    assert.match(bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, VIEWER)), /Only operators/);
    const watch = await watchPaused(kube, ns, 'alpha');
    // While paused, the source carries the bot's mark: who confirmed last, when, through what.
    let mark: string | undefined;
    hooks.afterPause = async () => {
      mark = ((await getSource(kube, ns, 'alpha')) as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations?.['backup-bot/paused-by'];
    };
    try {
      const first = await bot.click(REMOVE_ALL_ACTION, c.token, ALICE);
      assert.match(bot.text(first), /@U0ALICE001 approved removing every lock from rcmd-[0-9a-f]+\/alpha \(1 of 2\)\. Waiting for a second operator/);
      assert.equal(first.thread?.length, 1);
      assert.equal((await lockIds(alpha)).length, 2, 'nothing removed after one approval');
      assert.match(bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, ALICE)), /already approved this\. A second, different operator/);

      const second = await bot.click(REMOVE_ALL_ACTION, c.token, BOB);
      const out = bot.text(second);
      assert.match(out, /All locks removed from the repository of rcmd-[0-9a-f]+\/alpha/);
      assert.match(out, /Paused rcmd-[0-9a-f]+\/alpha/);
      assert.match(out, /No mover pod runs/);
      assert.match(out, /Removed 2 locks .*listing the locks again finds none/);
      assert.match(out, /Resumed rcmd-[0-9a-f]+\/alpha/);
      assert.match(out, /Audit: asked by @U0ALICE001 · confirmed by @U0ALICE001 and @U0BOB00001 · ran kubectl patch replicationsource alpha .*"paused":true.*restic unlock --remove-all.*"paused":false.* · outcome succeeded/);
      assert.ok(second.replace && !second.replace.confirmation, 'the button is replaced');
      assert.deepEqual(await lockIds(alpha), []);
      await sleep(500);
      assert.deepEqual(watch.seen.slice(-2), [true, false], `spec.paused went ${JSON.stringify(watch.seen)}`);
    } finally {
      watch.stop();
      hooks.afterPause = undefined;
    }
    assert.match(mark ?? '', new RegExp(`^${BOB.id} at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(backup-bot --remove-all\\)$`));
    const after = await getSource(kube, ns, 'alpha') as { spec: { paused?: boolean }; metadata?: { annotations?: Record<string, string> } };
    assert.equal(after.spec.paused, false);
    assert.equal(after.metadata?.annotations?.['backup-bot/paused-by'], undefined, 'the resume removed the mark');
    const snapshots = JSON.parse((await runResticChecked(alpha.target, ['snapshots', '--json'], { bin: bin! })).stdout) as unknown[];
    assert.ok(snapshots.length >= 1, 'the repository works afterwards');
    const done = bot.audits.find((a) => a.action === '/restic unlock --remove-all' && a.outcome === 'succeeded');
    assert.ok(done);
    assert.equal(done.actor.id, ALICE.id);
    assert.deepEqual(done.confirmedBy?.map((a) => a.id), [ALICE.id, BOB.id]);
    assert.deepEqual(done.ran?.filter((x) => x.startsWith('restic')), ['restic unlock --remove-all']);

    // A confirmation works once.
    assert.match(bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, CAROL)), /works once/);
    await alpha.live?.kill9();
  });

  test('in the terminal, a live lock refuses: it needs a second operator, run it from Slack', async () => {
    const beta = await app('beta', ['orphaned', 'live']);
    const r = await bot.run(`/restic unlock ${ns} beta --remove-all`, TERMINAL);
    assert.equal(r.confirmation, undefined);
    assert.match(bot.text(r), new RegExp(SECOND_OPERATOR_TERMINAL));
    assert.match(bot.text(r), /orphaned · /);
    assert.equal((await lockIds(beta)).length, 2);
    await beta.live?.kill9();
  });

  test('an expired or altered confirmation does nothing; the real one still works once', async () => {
    const gamma = await app('gamma', ['orphaned']);
    let offset = 0;
    const clocked = testBot({ kube, botNamespace: ns, operators: [ALICE.id, BOB.id], commands, now: () => new Date(Date.now() + offset), ttlMinutes: 2 });
    const expiring = confirmation(await clocked.run(`/restic unlock ${ns} gamma --remove-all`, ALICE));
    offset = 3 * 60_000;
    assert.match(clocked.text(await clocked.click(REMOVE_ALL_ACTION, expiring.token, BOB)), /That confirmation expired at \d\d:\d\d UTC\. Nothing was done/);
    assert.ok(clocked.audits.some((a) => a.outcome === 'expired'));
    offset = 0;

    const c = confirmation(await bot.run(`/restic unlock ${ns} gamma --remove-all`, ALICE));
    assert.match(c.token, /^[A-Za-z0-9_-]{10,64}\.[0-9a-f]{64}$/);
    const [id, digest] = c.token.split('.');
    const altered = `${id}.${digest!.replace(/^./, (ch) => (ch === '0' ? '1' : '0'))}`;
    assert.match(bot.text(await bot.click(REMOVE_ALL_ACTION, altered, BOB)), /does not match this request\. Nothing was done/);
    assert.match(bot.text(await bot.click(REMOVE_ALL_ACTION, `${id}`, BOB)), /does not match this request/);
    assert.deepEqual(await lockIds(gamma), [gamma.locks.orphaned!]);
    assert.equal((await getSource(kube, ns, 'gamma')).spec.paused, undefined, 'never paused');

    // Only an orphaned lock and no mover: one operator is enough.
    assert.match(bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, BOB)), /All locks removed/);
    assert.deepEqual(await lockIds(gamma), []);
    assert.match(bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, ALICE)), /works once/);
  });

  test('a step fails after pausing: the source is resumed anyway and the failure is reported', async () => {
    const delta = await app('delta', ['orphaned']);
    const c = confirmation(await bot.run(`/restic unlock ${ns} delta --remove-all`, ALICE));
    const moved = `${delta.target.repository}-moved`;
    let pausedDuringWork: unknown;
    hooks.afterPause = async () => {
      pausedDuringWork = (await getSource(kube, ns, 'delta')).spec.paused;
      await rename(delta.target.repository, moved);
    };
    const watch = await watchPaused(kube, ns, 'delta');
    let out: string;
    try {
      out = bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, ALICE));
      await sleep(500);
    } finally {
      hooks.afterPause = undefined;
      watch.stop();
      await rename(moved, delta.target.repository);
    }
    assert.equal(pausedDuringWork, true);
    assert.match(out, /did not finish cleanly/);
    assert.match(out, /Failed: `?restic list locks`? failed: there is no restic repository at the configured location/);
    assert.match(out, /Resumed rcmd-[0-9a-f]+\/delta/);
    assert.deepEqual(watch.seen.slice(-2), [true, false]);
    assert.equal((await getSource(kube, ns, 'delta')).spec.paused, false);
    assert.ok(!out.includes(delta.target.repository), 'the repository path is not shown');
    assert.deepEqual(await lockIds(delta), [delta.locks.orphaned!]);
    assert.ok(bot.audits.some((a) => a.target.endsWith('/delta') && a.outcome === 'failed'));
  });

  test('resuming fails: said loudly, with the exact kubectl command', async () => {
    await app('epsilon', ['orphaned']);
    const c = confirmation(await bot.run(`/restic unlock ${ns} epsilon --remove-all`, ALICE));
    hooks.afterPause = async () => {
      // Gone while paused: the resume has nothing to patch.
      await kube.custom.deleteNamespacedCustomObject({ group: 'volsync.backube', version: 'v1alpha1', plural: 'replicationsources', namespace: ns, name: 'epsilon' });
    };
    let r;
    try {
      r = await bot.click(REMOVE_ALL_ACTION, c.token, ALICE);
    } finally {
      hooks.afterPause = undefined;
    }
    const out = bot.text(r);
    assert.match(out, /rcmd-[0-9a-f]+\/epsilon is still PAUSED: resuming it failed \(Cannot resume ReplicationSource/);
    // The fix resumes and removes the bot's pause mark in one patch, as the resume would have.
    assert.match(out, new RegExp(`kubectl patch replicationsource epsilon -n ${ns} --type merge -p '\\{"spec":\\{"paused":false\\},"metadata":\\{"annotations":\\{"backup-bot/paused-by":null\\}\\}\\}'`));
    assert.ok(bot.audits.some((a) => a.target.endsWith('/epsilon') && a.outcome === 'failed' && /STILL PAUSED/.test(a.detail ?? '')));
  });

  test('a mover that still runs after pausing stops it: nothing removed, source resumed', async () => {
    const zeta = await app('zeta', ['orphaned', 'mover']);
    const r = await bot.run(`/restic unlock ${ns} zeta --remove-all`, ALICE);
    assert.match(bot.text(r), /Mover pod using this repository now: volsync-src-zeta-run01 Running/);
    assert.match(bot.text(r), /Two different operators must approve: mover pod `?volsync-src-zeta-run01`? \(Running\) is active/);
    const c = confirmation(r);
    await bot.click(REMOVE_ALL_ACTION, c.token, ALICE);
    const out = bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, BOB));
    assert.match(out, /Not run: nothing was removed/);
    assert.match(out, /Stopped: a mover still runs after pausing: volsync-src-zeta-run01 \(Running\)/);
    assert.match(out, /Resumed/);
    assert.equal((await getSource(kube, ns, 'zeta')).spec.paused, false);
    assert.deepEqual(await lockIds(zeta), [zeta.locks.orphaned!]);
  });

  test('locks that changed since the evidence: refused, nothing removed', async () => {
    const eta = await app('eta', ['orphaned']);
    const c = confirmation(await bot.run(`/restic unlock ${ns} eta --remove-all`, ALICE));
    const extra = await holdLock(eta.target);
    await extra.kill9();
    const out = bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, ALICE));
    assert.match(out, new RegExp(`the locks differ from the 1 lock that were confirmed \\(new since the evidence: ${extra.lock.id.slice(0, 8)}`));
    assert.deepEqual(await lockIds(eta), [eta.locks.orphaned!, extra.lock.id].sort());
    assert.equal((await getSource(kube, ns, 'eta')).spec.paused, false);
  });

  test('two unlocks of one repository at once: exactly one runs, the other is told who holds the Lease', async () => {
    const theta = await app('theta', ['orphaned']);
    const one = confirmation(await bot.run(`/restic unlock ${ns} theta --remove-all`, ALICE));
    const two = confirmation(await bot.run(`/restic unlock ${ns} theta --remove-all`, ALICE));
    const [a, b] = await Promise.all([bot.click(REMOVE_ALL_ACTION, one.token, ALICE), bot.click(REMOVE_ALL_ACTION, two.token, BOB)]);
    const outs = [bot.text(a), bot.text(b)];
    assert.equal(outs.filter((o) => /All locks removed/.test(o)).length, 1, outs.join('\n====\n'));
    const loser = outs.find((o) => !/All locks removed/.test(o))!;
    assert.match(loser, new RegExp(`Another unlock of ${ns}/theta is running: Lease ${ns}/backup-bot-restic-theta is held by @U0(ALICE001 \\(alice\\)|BOB00001 \\(bob\\)) via backup-bot`));
    assert.deepEqual(await lockIds(theta), []);

    // Someone else (another replica) holds it: plain unlock is told who.
    const held = await tryAcquireLease({ kube, namespace: ns, name: leaseName('theta'), holder: 'slack:U0CAROL001 (carol) via backup-bot on replica-2', durationSeconds: 60 });
    assert.ok(held.acquired);
    const refused = bot.text(await bot.run(`/restic unlock ${ns} theta`, ALICE));
    assert.match(refused, /Another unlock of rcmd-[0-9a-f]+\/theta is running: Lease .* is held by @U0CAROL001 \(carol\) via backup-bot on replica-2/);
    await kube.coordination.deleteNamespacedLease({ name: leaseName('theta'), namespace: ns });
  });

  test('a seconds-old lock of a mover that is not here: unknown, explained; one operator cannot remove it, and a mover of that name in another namespace stops the execution', async () => {
    const iota = await app('iota', ['unknown']);
    const host = iota.unknownHost!;
    const id8 = iota.locks.unknown!.slice(0, 8);
    const shown = bot.text(await bot.run(`/restic locks ${ns} iota`, VIEWER));
    assert.match(shown, /1 lock in the repository of rcmd-[0-9a-f]+\/iota: 1 unknown\./);
    assert.match(shown, new RegExp(`unknown · ${id8} · shared\\nHost ${host} · PID \\d+ · root`));
    assert.match(shown, new RegExp(`Its host looks like a VolSync mover, but no pod ${host} exists where the bot can see, and the lock is \\d+s old\\. That does not prove it dead: a mover in another namespace or cluster`));
    assert.match(shown, /If it is still there at \d{4}-\d\d-\d\d \d\d:\d\d UTC, it was not refreshed and is provably orphaned; until then removing it takes two operators/);
    assert.match(shown, /The 1 unknown lock may still be in use/);
    assert.doesNotMatch(shown, /orphaned · |no longer exists/);

    const r = await bot.run(`/restic unlock ${ns} iota --remove-all`, ALICE);
    const t = bot.text(r);
    assert.match(t, new RegExp(`Two different operators must approve: lock \`?${id8}\`? is not provably dead`));
    const c = confirmation(r);
    const first = bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, ALICE));
    assert.match(first, /approved removing every lock from rcmd-[0-9a-f]+\/iota \(1 of 2\)\. Waiting for a second operator/);
    assert.deepEqual(await lockIds(iota), [iota.locks.unknown!], 'one operator removed nothing');
    assert.equal((await getSource(kube, ns, 'iota')).spec.paused, undefined, 'never paused');

    // Meanwhile the restore that holds it shows up, running in another namespace.
    const other = uniq('rcmd-other');
    await createNamespace(kube, other);
    scratch.onCleanup(async () => {
      await kube.core.deleteNamespacedPod({ namespace: other, name: host });
      await kube.core.deleteNamespace({ name: other });
    });
    await createPod(kube, other, host, 'Running', { 'app.kubernetes.io/created-by': 'volsync', 'job-name': host.replace(/-[0-9a-f]{6}$/, '') });
    const out = bot.text(await bot.click(REMOVE_ALL_ACTION, c.token, BOB));
    assert.match(out, /Not run: nothing was removed from the repository of rcmd-[0-9a-f]+\/iota/);
    assert.match(out, /No mover pod runs\./);
    assert.match(out, new RegExp(`Stopped: a pod that a lock names still runs: ${other}/${host} \\(Running\\); its restic may be using the repository`));
    assert.match(out, /Resumed rcmd-[0-9a-f]+\/iota/);
    assert.deepEqual(await lockIds(iota), [iota.locks.unknown!]);
    assert.equal((await getSource(kube, ns, 'iota')).spec.paused, false);
    assert.ok(bot.audits.some((a) => a.target.endsWith('/iota') && a.outcome === 'refused' && a.confirmedBy?.length === 2));

    // Seen at evidence time, a running pod of that name anywhere makes the lock live.
    const again = bot.text(await bot.run(`/restic locks ${ns} iota`, VIEWER));
    assert.match(again, new RegExp(`live · ${id8}`));
    assert.match(again, new RegExp(`Its host ${host} is a running pod`));
  });

  describe('bad input: one clear line each, no secret in it', () => {
    const secrets: string[] = [];
    const clean = (text: string) => {
      for (const s of secrets) assert.ok(!text.includes(s), `a secret value leaked: ${text}`);
      return text;
    };

    test('unknown app: near matches; ambiguous app: the choices', async () => {
      const t = clean(bot.text(await bot.run(`/restic locks ${ns} alpah`, VIEWER)));
      assert.match(t, /No ReplicationSource in `?rcmd-[0-9a-f]+`? is named `?alpah`?.*Did you mean `?\/restic locks rcmd-[0-9a-f]+ alpha`?/);
      await createSource(kube, ns, 'web-a', { labels: { app: 'web' }, secret: 'web-secret' });
      await createSource(kube, ns, 'web-b', { labels: { app: 'web' }, secret: 'web-secret' });
      const amb = bot.text(await bot.run(`/restic unlock ${ns} web`, ALICE));
      assert.match(amb, /web matches 2 ReplicationSources in rcmd-[0-9a-f]+ by label: web-a \(PVC web-a, app web\), web-b/);
      assert.match(bot.text(await bot.run(`/restic locks nosuchns-xyz web`, VIEWER)), /No ReplicationSources in nosuchns-xyz/);
    });

    test('Secret missing, or missing keys', async () => {
      await createSource(kube, ns, 'nosecret');
      assert.match(bot.text(await bot.run(`/restic locks ${ns} nosecret`, VIEWER)), /takes its repository from Secret nosecret-restic-secret \(spec.restic.repository\), but rcmd-[0-9a-f]+ has no Secret nosecret-restic-secret\. Create it/);
      secrets.push('/var/lib/some/where-only-the-secret-knows');
      await createSecret(kube, ns, 'nokeys-restic-secret', { RESTIC_REPOSITORY: '/var/lib/some/where-only-the-secret-knows', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY' });
      await createSource(kube, ns, 'nokeys');
      const t = clean(bot.text(await bot.run(`/restic unlock ${ns} nokeys --remove-all`, ALICE)));
      assert.match(t, /Secret rcmd-[0-9a-f]+\/nokeys-restic-secret \(the repository Secret of this source\) has no RESTIC_PASSWORD \(it has AWS_ACCESS_KEY_ID, RESTIC_REPOSITORY\)/);
    });

    test('wrong password', async () => {
      const repo = await scratch.repository();
      secrets.push('definitely-not-the-password', repo.target.repository);
      await createSecret(kube, ns, 'wrongpw-restic-secret', { RESTIC_REPOSITORY: repo.target.repository, RESTIC_PASSWORD: 'definitely-not-the-password' });
      await createSource(kube, ns, 'wrongpw');
      const t = clean(bot.text(await bot.run(`/restic locks ${ns} wrongpw`, VIEWER)));
      assert.match(t, /wrong password — RESTIC_PASSWORD in Secret rcmd-[0-9a-f]+\/wrongpw-restic-secret does not open any key of this repository/);
      assert.equal(t.split('\n').length, 1);
    });

    test('unreachable repository (credentials in the URL stay hidden)', async () => {
      const port = await freePort();
      const url = `rest:http://backup:sup3r-s3cret-in-url@127.0.0.1:${port}/repo`;
      secrets.push('sup3r-s3cret-in-url', url, 'another-password-1234');
      await createSecret(kube, ns, 'offline-restic-secret', { RESTIC_REPOSITORY: url, RESTIC_PASSWORD: 'another-password-1234' });
      await createSource(kube, ns, 'offline');
      const t = clean(bot.text(await bot.run(`/restic locks ${ns} offline`, VIEWER)));
      assert.match(t, /the storage backend is unreachable from the bot .*check the endpoint in RESTIC_REPOSITORY in Secret rcmd-[0-9a-f]+\/offline-restic-secret/);
      const u = clean(bot.text(await bot.run(`/restic unlock ${ns} offline`, ALICE)));
      assert.match(u, /unreachable/);
      assert.ok(bot.audits.some((a) => a.target.endsWith('/offline') && a.outcome === 'failed'));
      for (const a of bot.audits) clean(JSON.stringify(a));
    });

    test('customCA becomes a private --cacert file that is removed afterwards', async () => {
      await createSecret(kube, ns, 'ca-secret', { 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n' });
      await createSecret(kube, ns, 'withca-restic-secret', { RESTIC_REPOSITORY: '/tmp/x', RESTIC_PASSWORD: 'pw-with-ca-0001' });
      await createSource(kube, ns, 'withca', { customCA: { secretName: 'ca-secret', key: 'ca.crt' } });
      const repo = await openRepository(kube, await getSource(kube, ns, 'withca') as never);
      const file = repo.target.cacert!;
      assert.ok(file && existsSync(file));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      await repo.close();
      assert.ok(!existsSync(file));
      await createSource(kube, ns, 'badca', { secret: 'withca-restic-secret', customCA: { configMapName: 'no-such-cm', key: 'ca.crt' } });
      assert.match(bot.text(await bot.run(`/restic locks ${ns} badca`, VIEWER)), /takes its CA from spec.restic.customCA \(ConfigMap no-such-cm\), but rcmd-[0-9a-f]+ has no such ConfigMap/);
    });
  });
});
