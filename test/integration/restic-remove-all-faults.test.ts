/**
 * Faults during `/restic unlock --remove-all`, against a real API server and real restic: the API
 * server restarts (a proxy in front of it is cut and restored) right after the source was paused.
 * Whatever else fails, the source must end un-paused and the repository's Lease released or
 * expiring on its own; the figures are printed for the README.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { commandSet } from '../../src/command/dispatch.ts';
import { resticCommands } from '../../commands/restic/index.ts';
import type { RemoveAllOptions } from '../../commands/restic/remove-all.ts';
import { REMOVE_ALL_ACTION } from '../../commands/restic/actions.ts';
import { leaseName, LEASE_SECONDS } from '../../commands/restic/repository-lease.ts';
import { leaseExpiry } from '../../src/kube/lease.ts';
import type { Kube } from '../../src/kube/client.ts';
import { kubeFromConfig } from '../../src/kube/client.ts';
import { listLocks } from '../../src/restic/index.ts';
import { kubeForTests, kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { CuttableProxy } from '../harness/kube/cuttable-proxy.ts';
import { holdLock, killAllHolders, makeLocalRepository, resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import { createNamespace, createPod, createSecret, createSource, getSource, kubeFor, moverLabels, sleep, slackUser, testBot, uniq } from './restic-cmd-fixtures.ts';

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
  const cleanups: Array<() => Promise<void>> = [];
  let afterPause: RemoveAllOptions['afterPause'];
  const commands = commandSet([resticCommands({
    removeAll: { moverStopWaitMs: 1500, moverPollMs: 250, afterPause: (s) => afterPause?.(s) ?? Promise.resolve() },
  })]);

  before(async () => {
    harness = await kubeForTests();
    kube = kubeFor(harness.kubeconfigPath);
    await createNamespace(kube, ns);
    const base = new KubeConfig();
    base.loadFromFile(harness.kubeconfigPath);
    const url = new URL(base.getCurrentCluster()!.server);
    proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port) });
    await proxy.up();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ ...base.getCurrentCluster()!, server: `https://127.0.0.1:${proxy.port}` }],
      users: base.getUsers(), contexts: base.getContexts(), currentContext: base.getCurrentContext(),
    });
    viaProxy = kubeFromConfig(kc);
  }, { timeout: 180_000 });

  after(async () => {
    await killAllHolders();
    await proxy?.down();
    for (const c of cleanups) await c().catch(() => undefined);
    await kube?.core.deleteNamespace({ name: ns }).catch(() => undefined);
    await harness?.stop();
  });

  test('the API server restarts right after the pause: the source ends un-paused, the Lease released or expiring', async () => {
    const name = 'kappa';
    const repo = await makeLocalRepository();
    cleanups.push(repo.cleanup);
    await createSecret(kube, ns, `${name}-restic-secret`, { RESTIC_REPOSITORY: repo.target.repository, RESTIC_PASSWORD: repo.target.env['RESTIC_PASSWORD']! });
    await createSource(kube, ns, name);
    await createPod(kube, ns, `volsync-src-${name}-gone1`, 'Failed', moverLabels(name));
    const held = await holdLock(repo.target, { hostname: `volsync-src-${name}-gone1` });
    await held.kill9();

    const bot = testBot({ kube: viaProxy, botNamespace: ns, operators: [ALICE.id], commands });
    const r = await bot.run(`/restic unlock ${ns} ${name} --remove-all`, ALICE);
    assert.ok(r.confirmation, bot.text(r));

    // Down for 4 s, starting the moment the source is paused: every call meanwhile is refused.
    const DOWN_MS = 4000;
    let pausedSeen: unknown;
    let back: Promise<void> = Promise.resolve();
    afterPause = async () => {
      pausedSeen = (await getSource(kube, ns, name)).spec.paused;
      await proxy.down();
      back = sleep(DOWN_MS).then(() => proxy.up());
    };
    let out: string;
    try {
      out = bot.text(await bot.click(REMOVE_ALL_ACTION, r.confirmation.token, ALICE));
    } finally {
      afterPause = undefined;
      await back;
    }
    assert.equal(pausedSeen, true, 'the source was paused when the API server went away');

    const paused = (await getSource(kube, ns, name)).spec.paused === true;
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
