/**
 * /restic snapshots against real restic repositories (snapshots placed in the past with
 * `restic backup --time`) and a real API server: each verdict where the repository and its
 * ReplicationSource disagree, none for a healthy one, --all as pages, refused during an unlock's
 * Lease, and one clear line for bad input with no secret in it.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { leaseName } from '../../commands/restic/repository-lease.ts';
import { tryAcquireLease } from '../../src/kube/lease.ts';
import type { Kube } from '../../src/kube/client.ts';
import { VOLSYNC } from '../../src/kube/client.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { listLocks, runResticChecked } from '../../src/restic/index.ts';
import type { ResticTarget } from '../../src/restic/index.ts';
import { listSnapshots } from '../../src/restic/snapshots.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';
import { blockText } from '../harness/slack/message-content.ts';
import { kubeWithNamespaces, MERGE } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';
import { ResticScratch, resticTestCommands, slackUser, sourceStatus, testBot, uniq } from './restic-cmd-fixtures.ts';
import type { TestBot } from './restic-cmd-fixtures.ts';

const skip = skipUnlessBuilt('restic') || (await kubeUnavailableReason()) || false;
const bin = resticBinary();
if (bin) process.env['RESTIC_BIN'] = bin;

const VIEWER = slackUser('U0VIEWER02', 'victor');
const HOUR = 3_600_000;
/** restic's --time: local time, and restic runs with TZ unset (UTC). */
const resticTime = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('/restic snapshots on real restic and a real API server', { skip, timeout: 600_000 }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let bot: TestBot;
  const ns = uniq('rsnap');
  let scratch: ResticScratch;
  const { commands } = resticTestCommands();
  const secrets: string[] = [];
  const now = Date.now();

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns));
    scratch = new ResticScratch(kube, ns);
    bot = testBot({ kube, botNamespace: ns, operators: [], commands });
  });

  after(() => stopAll(scratch, harness));

  /**
   * A source whose repository holds exactly the snapshots asked for: `files` files each, taken
   * `hoursAgo` (oldest first), as a VolSync mover would (host, one path); the status and the
   * retention policy as given.
   */
  async function source(name: string, o: { snapshots: Array<{ hoursAgo: number; files: number }>; status?: Record<string, unknown>; retain?: Record<string, number> }): Promise<ResticTarget> {
    const repo = await scratch.sourceWithRepository(name);
    secrets.push(repo.target.repository, repo.target.env['RESTIC_PASSWORD']!);
    // The harness's first snapshot is not this source's: forget it.
    for (const s of await listSnapshots(repo.target, { bin })) await runResticChecked(repo.target, ['forget', s.id], { bin });
    const data = join(repo.dir, `volume-${name}`);
    for (const s of o.snapshots) {
      await rm(data, { recursive: true, force: true });
      await mkdir(data, { recursive: true });
      for (let i = 0; i < s.files; i++) await writeFile(join(data, `file-${i}.txt`), `${name} ${i} `.repeat(200));
      await runResticChecked(repo.target, ['backup', '--host', `volsync-src-${name}-abcde`, '--time', resticTime(new Date(now - s.hoursAgo * HOUR)), data], { bin, timeoutMs: 60_000 });
    }
    if (o.retain) await kube.custom.patchNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace: ns, name, body: { spec: { restic: { retain: o.retain } } } }, MERGE);
    if (o.status) await sourceStatus(kube, ns, name, o.status);
    return repo.target;
  }
  const synced = (hoursAgo: number, extra: Record<string, unknown> = {}) => ({ lastSyncTime: iso(new Date(now - hoursAgo * HOUR)), latestMoverStatus: { result: 'Successful' }, restic: { lastPruned: iso(new Date(now - 24 * HOUR)) }, ...extra });
  const hourly = (n: number, files = 20) => Array.from({ length: n }, (_, i) => ({ hoursAgo: n - i, files }));
  const ask = async (line: string) => {
    const r = await bot.run(`/restic snapshots ${line}`, VIEWER);
    assert.deepEqual(validateBlocks(renderBlocks(r).blocks), [], line);
    return { r, text: blockText(renderBlocks(r).blocks) };
  };

  test('a healthy repository: its snapshots, and no verdict', async () => {
    await source('healthy', { snapshots: hourly(4), status: synced(1), retain: { hourly: 24 } });
    const { r, text } = await ask(`${ns} healthy`);
    assert.equal(r.tone, 'ok', text);
    assert.match(text, /4 snapshots in the repository of `rsnap-[0-9a-f]+\/healthy`, the newest 1h old; the repository agrees with the ReplicationSource/);
    assert.match(text, /• `[0-9a-f]{8}` · \d{4}-\d\d-\d\d \d\d:\d\d UTC \(1h ago\) · host `volsync-src-healthy-abcde` · 20 files, \d+(\.\d)? KB · \+/);
    assert.doesNotMatch(text, /:red_circle:/);
    assert.equal(r.visibility, 'ephemeral');
  });

  test('retention not applied: more snapshots than the policy keeps', async () => {
    await source('hoarder', { snapshots: hourly(8), status: synced(1), retain: { hourly: 2, daily: 1 } });
    const { r, text } = await ask(`${ns} hoarder`);
    assert.equal(r.tone, 'warn');
    assert.match(text, /8 snapshots where the retention policy keeps at most 3: `forget` is not running/);
  });

  test('a suspicious newest snapshot: a near-empty volume after normal ones', async () => {
    await source('emptied', { snapshots: [...hourly(5).map((s) => ({ ...s, hoursAgo: s.hoursAgo + 1 })), { hoursAgo: 1, files: 1 }], status: synced(1) });
    const { text } = await ask(`${ns} emptied`);
    assert.match(text, /The newest snapshot `[0-9a-f]{8}` \(1h ago\) is far smaller than the ones before: 1 file, .* against a median of 20 files/);
  });

  test('the CR says synced 10 minutes ago, the newest snapshot is 3 days old', async () => {
    await source('stale-cr', { snapshots: [{ hoursAgo: 74, files: 5 }, { hoursAgo: 72, files: 5 }], status: synced(1 / 6) });
    const { text } = await ask(`${ns} stale-cr`);
    assert.match(text, /The ReplicationSource says it synced 10m ago, but the newest snapshot \(`[0-9a-f]{8}`\) is from 3d ago/);
  });

  test('a sync that "failed" after its snapshot was saved: the data is safe', async () => {
    await source('forget-failed', { snapshots: [{ hoursAgo: 25, files: 5 }, { hoursAgo: 1, files: 5 }], status: synced(25, { latestMoverStatus: { result: 'Failed', logs: 'unable to create lock in backend: repository is already locked' } }) });
    const { r, text } = await ask(`${ns} forget-failed`);
    assert.match(text, /The last sync failed, but its snapshot `[0-9a-f]{8}` \(1h ago\) is in the repository: the data is safe/);
    assert.match(text, /2 snapshots in the repository of `rsnap-[0-9a-f]+\/forget-failed`, the newest 1h old; nothing to fix/);
    assert.equal(r.tone, 'ok', 'informative, not a problem');
  });

  test('no snapshot at all', async () => {
    await source('empty-repo', { snapshots: [], status: synced(2) });
    const { r, text } = await ask(`${ns} empty-repo`);
    assert.equal(r.tone, 'warn');
    assert.match(text, /No snapshots in the repository of `rsnap-[0-9a-f]+\/empty-repo`/);
    assert.match(text, /yet the ReplicationSource says it synced 2h ago: nothing here can be restored/);
  });

  test('--all: the newest 10 in the reply, the rest as pages for the thread', async () => {
    await source('many', { snapshots: hourly(37, 1), status: synced(1) });
    const short = await ask(`${ns} many`);
    assert.match(short.text, /27 older snapshots not shown: `\/restic snapshots rsnap-[0-9a-f]+ many --all` lists them/);
    assert.equal(short.r.followUps, undefined);
    const { r, text } = await ask(`${ns} many --all`);
    assert.match(text, /27 older snapshots in the thread, 25 per message/);
    assert.equal(r.visibility, 'channel', 'a thread needs a channel message');
    assert.deepEqual(r.followUps?.map((p) => p.text), [`Snapshots 11–35 of 37 · ${ns}/many`, `Snapshots 36–37 of 37 · ${ns}/many`]);
    for (const p of r.followUps!) assert.deepEqual(validateBlocks(renderBlocks(p).blocks), []);
    assert.equal((blockText(renderBlocks(r.followUps![0]!).blocks).match(/^• /gm) ?? []).length, 25);
  });

  test('refused while an unlock holds the repository\'s Lease; takes no lock itself', async () => {
    const target = await source('busy', { snapshots: hourly(2), status: synced(1) });
    const lease = { kube, namespace: ns, name: leaseName('busy'), holder: 'slack:U0ALICE001 (alice) via backup-bot on test #1234abcd', durationSeconds: 60 };
    assert.equal((await tryAcquireLease(lease)).acquired, true);
    const { r, text } = await ask(`${ns} busy`);
    assert.equal(r.tone, 'error');
    assert.match(text, /An unlock of `rsnap-[0-9a-f]+\/busy` by <@U0ALICE001> \(alice\).* is running; its repository is left alone until it ends/);
    assert.deepEqual(await listLocks(target, { bin }), []);
  });

  test('bad input: an unknown app, a wrong password — one line each, no secret', async () => {
    const unknown = await ask(`${ns} nope`);
    assert.equal(unknown.r.tone, 'error');
    assert.match(unknown.text, /No ReplicationSource .*nope/);
    const target = await source('locked-out', { snapshots: hourly(1), status: synced(1) });
    await kube.core.replaceNamespacedSecret({ namespace: ns, name: 'locked-out-restic-secret', body: { metadata: { name: 'locked-out-restic-secret' }, type: 'Opaque', stringData: { RESTIC_REPOSITORY: target.repository, RESTIC_PASSWORD: 'wrong-password-snapshots-1' } } });
    secrets.push('wrong-password-snapshots-1');
    const wrong = await ask(`${ns} locked-out`);
    assert.match(wrong.text, /wrong password — RESTIC_PASSWORD in Secret rsnap-[0-9a-f]+\/locked-out-restic-secret does not open any key/);
    const everything = [unknown, wrong].map((x) => JSON.stringify(x.r)).join('\n');
    for (const s of secrets) assert.ok(!everything.includes(s), 'no secret value in a reply');
  });
});
