/**
 * Faults during `/restic unlock --remove-all`, against a real API server and real restic: the API
 * server restarts (a proxy in front of it is cut and restored) right after the source was paused.
 * Whatever else fails, the source must end un-paused and the repository's Lease released or
 * expiring on its own; the figures are printed for the README.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { REMOVE_ALL_ACTION } from '../../commands/restic/actions.ts';
import { leaseName, LEASE_SECONDS } from '../../commands/restic/repository-lease.ts';
import { leaseExpiry } from '../../src/kube/lease.ts';
import type { Kube } from '../../src/kube/client.ts';
import { listLocks } from '../../src/restic/index.ts';
import { PAUSED_BY } from '../../src/volsync/pause.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { kubeThroughProxy } from '../harness/kube/cuttable-proxy.ts';
import type { CuttableProxy } from '../harness/kube/cuttable-proxy.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';
import { killAllHolders, resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import { getSource, orphanedLock, ResticScratch, resticTestCommands, slackUser, sleep, testBot, uniq } from './restic-cmd-fixtures.ts';

const skip = skipUnlessBuilt('restic') || (await kubeUnavailableReason()) || false;
const bin = resticBinary();
if (bin) process.env['RESTIC_BIN'] = bin;

const ALICE = slackUser('U0ALICE001', 'alice');

describe('--remove-all when the API server restarts', { skip, timeout: 300_000 }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let proxy: CuttableProxy;
  let viaProxy: Kube;
  const ns = uniq('rfault');
  let scratch: ResticScratch;
  const { commands, hooks } = resticTestCommands();

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns));
    scratch = new ResticScratch(kube, ns);
    ({ proxy, kube: viaProxy } = await kubeThroughProxy(harness.kubeconfigPath));
  }, { timeout: 180_000 });

  after(() => stopAll(killAllHolders, proxy, scratch, harness));

  test('the API server restarts right after the pause: the source ends un-paused, the Lease released or expiring', async () => {
    const name = 'kappa';
    const repo = await scratch.sourceWithRepository(name);
    await orphanedLock(kube, ns, name, repo.target, `volsync-src-${name}-gone1`);

    const bot = testBot({ kube: viaProxy, botNamespace: ns, operators: [ALICE.id], commands });
    const r = await bot.run(`/restic unlock ${ns} ${name} --remove-all`, ALICE);
    assert.ok(r.confirmation, bot.text(r));

    // Down for 4 s, starting the moment the source is paused: every call meanwhile is refused.
    const DOWN_MS = 4000;
    let pausedSeen: unknown;
    let markSeen: string | undefined;
    let back: Promise<void> = Promise.resolve();
    hooks.afterPause = async () => {
      const during = await getSource(kube, ns, name) as { spec: { paused?: boolean }; metadata?: { annotations?: Record<string, string> } };
      pausedSeen = during.spec.paused;
      markSeen = during.metadata?.annotations?.[PAUSED_BY];
      await proxy.down();
      back = sleep(DOWN_MS).then(() => proxy.up());
    };
    let out: string;
    try {
      out = bot.text(await bot.click(REMOVE_ALL_ACTION, r.confirmation.token, ALICE));
    } finally {
      hooks.afterPause = undefined;
      await back;
    }
    assert.equal(pausedSeen, true, 'the source was paused when the API server went away');

    assert.match(markSeen ?? '', /\(backup-bot --remove-all\)$/, 'the pause carried the bot\'s mark');
    const end = await getSource(kube, ns, name) as { spec: { paused?: boolean }; metadata?: { annotations?: Record<string, string> } };
    const paused = end.spec.paused === true;
    assert.equal(end.metadata?.annotations?.[PAUSED_BY], undefined, 'the resume removed the mark with the pause');
    let lease: 'released' | 'expiring' | 'held' = 'released';
    try {
      const l = await kube.coordination.readNamespacedLease({ name: leaseName(name), namespace: ns });
      const expiry = leaseExpiry(l);
      lease = expiry && expiry.getTime() <= Date.now() + LEASE_SECONDS * 1000 ? 'expiring' : 'held';
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    const locksLeft = (await listLocks(repo.target, { bin: bin! })).length;
    console.log(`fault: apiserver restart during --remove-all: source paused after = ${paused ? 1 : 0}, lease left held = ${lease === 'held' ? 1 : 0} (${lease}), locks left = ${locksLeft}, down ${DOWN_MS / 1000} s`);
    assert.equal(paused, false, `the source must end un-paused:\n${out}`);
    assert.notEqual(lease, 'held');
    assert.match(out, /did not finish cleanly|All locks removed/);
    assert.match(out, new RegExp(`Resumed ${ns}/${name}`));
    assert.doesNotMatch(out, /still PAUSED/);
  });
});
