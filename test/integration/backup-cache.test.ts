/**
 * The watch cache behind /backup status on a real API server: it syncs, follows changes, survives
 * the API server going away and coming back (a TCP proxy in front of the shared server is cut and
 * restored: the watch breaks, the informer is restarted with backoff and resumes), keeps following
 * after client-node's 30 s inactivity abort, and a command costs a fixed number of API calls
 * whatever the number of namespaces.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { kubeThroughProxy } from '../harness/kube/cuttable-proxy.ts';
import type { CuttableProxy } from '../harness/kube/cuttable-proxy.ts';
import type { Kube } from '../../src/kube/client.ts';
import { BackupCache } from '../../src/backup/backup-cache.ts';
import { backupStatus } from '../../src/backup/status.ts';
import { Fixtures, MINUTE, iso, kubeFixtures, kubeFor, moverLabels, syncCondition, uniq } from './backup-fixtures.ts';
import { stopAll } from '../harness/stop-all.ts';
import { countingKube } from '../harness/kube/counting-kube.ts';

const skip = await kubeUnavailableReason();
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('backup watch cache', { skip }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  let proxy: CuttableProxy;
  let viaProxy: Kube;
  let cache: BackupCache;
  const ns = uniq('bbca');

  before(async () => {
    ({ harness, fx } = await kubeFixtures(ns));
    await fx.syncedSource(ns, 'first', { pvc: 'data', schedule: '*/5 * * * *', at: Date.now() - MINUTE });
    ({ proxy, kube: viaProxy } = await kubeThroughProxy(harness.kubeconfigPath));
    cache = new BackupCache(viaProxy, log, { backoff: { initialMs: 200, maxMs: 1000 } });
    cache.start();
  }, { timeout: 180_000 });

  after(() => stopAll(cache, proxy, fx, harness));

  test('syncs, then answers from the cache and follows changes', async () => {
    assert.equal(await cache.whenSynced(30_000), true, JSON.stringify(cache.states()));
    assert.equal(cache.states()['ReplicationSources'], 'synced');
    const r = await backupStatus({ kube: viaProxy, cache, now: () => new Date() }, { namespace: ns });
    assert.match(JSON.stringify(r.blocks), /From the watch cache/);
    assert.match(r.text, /1 sources: 0 failing, 0 overdue, 0 running, 0 paused, 1 healthy/);
    // managedFields (never read, often most of an object) are not kept: not from the first list…
    assert.ok((await fx.getSource(ns, 'first')).metadata.managedFields?.length, 'the server has managedFields');
    assert.equal(cache.sources.get('first', ns)?.metadata?.managedFields, undefined);
    await fx.pod(ns, 'volsync-src-first-x1', moverLabels('first'), { phase: 'Running', startTime: iso(Date.now()) });
    await fx.sourceStatus(ns, 'first', { conditions: [syncCondition('True', 'SyncInProgress', 'Synchronization in-progress', Date.now())] });
    await until('the running sync in the cache', () => cache.inventory(ns)?.pods.length === 1 && cache.inventory(ns)!.sources[0]?.status?.conditions?.[0]?.status === 'True');
    // …nor from watch events.
    assert.equal(cache.sources.get('first', ns)?.metadata?.managedFields, undefined);
    assert.equal(cache.pods.list(ns)[0]!.metadata?.managedFields, undefined);
    const running = await backupStatus({ kube: viaProxy, cache, now: () => new Date() }, { namespace: ns });
    assert.match(running.text, /1 running/);
  });

  test('API server gone: a clear line, the bot stays up; back: the watch is restarted and catches up', async () => {
    await proxy.down();
    await until('the watch to notice', () => cache.sources.state === 'failed' || cache.sources.state === 'syncing' ? true : undefined);
    await until('the informer to report the failure', () => cache.sources.state === 'failed');
    const down = await backupStatus({ kube: viaProxy, cache, now: () => new Date() }, { namespace: ns });
    assert.equal(down.tone, 'error');
    assert.match(down.text, /^Cannot list ReplicationSources in bbca-[0-9a-f]+: the Kubernetes API server at https:\/\/127\.0\.0\.1:\d+ is unreachable/);
    // Meanwhile the cluster changes behind the proxy.
    await fx.pvc(ns, 'more');
    await fx.source(ns, 'second', { sourcePVC: 'more', trigger: { schedule: '0 * * * *' } });
    await proxy.up();
    await until('the cache to resync', () => cache.synced && cache.inventory(ns)?.sources.some((s) => s.metadata?.name === 'second'), 30_000);
    // client-node leaves an informer stopped after an error: only our restart brought it back.
    assert.ok(cache.sources.restarts > 0, 'the informer was restarted');
    assert.equal(cache.sources.state, 'synced');
    const back = await backupStatus({ kube: viaProxy, cache, now: () => new Date() }, { namespace: ns });
    assert.match(JSON.stringify(back.blocks), /From the watch cache/);
    assert.match(back.text, /2 sources/);
    console.log(`fault: apiserver cut during the watch: informer restarts = ${cache.sources.restarts}, change made while down shown after = 1, lost = 0`);
  });

  test('keeps following after a quiet period longer than the 30 s watch timeout', { timeout: 90_000 }, async () => {
    await new Promise((r) => setTimeout(r, 35_000));
    await fx.pvc(ns, 'late');
    await fx.source(ns, 'late', { sourcePVC: 'late', trigger: { schedule: '0 * * * *' } });
    await until('the late source in the cache', () => cache.inventory(ns)?.sources.some((s) => s.metadata?.name === 'late'), 15_000);
  });

  test('API calls per command do not grow with the number of namespaces', async () => {
    const count = async (k: Kube) => {
      const c = countingKube(k);
      await backupStatus({ kube: c.kube, now: () => new Date() }, {});
      return c.calls;
    };
    const admin = kubeFor(harness.kubeconfigPath);
    const before = await count(admin);
    // Ten more namespaces with a source, a PVC and a mover pod each.
    for (let i = 0; i < 10; i++) {
      const n = `${ns}-n${i}`;
      await fx.namespace(n);
      await fx.pvc(n, 'data');
      await fx.source(n, 'app', { sourcePVC: 'data', trigger: { schedule: '0 * * * *' } }, { lastSyncTime: iso(Date.now() - MINUTE) });
      await fx.pod(n, `volsync-src-app-${i}`, moverLabels('app'), { phase: 'Running', startTime: iso(Date.now()) });
    }
    const afterMore = await count(admin);
    assert.deepEqual(afterMore.filter((c) => !c.includes('Event') && !c.includes('Lease')).sort(), before.filter((c) => !c.includes('Event') && !c.includes('Lease')).sort());
    assert.ok(afterMore.filter((c) => c.includes('Event')).length <= 10, 'event lookups are capped');
    // From a synced cache, the lists cost nothing.
    await until('the cache to see the new namespaces', () => cache.inventory()?.sources.some((s) => s.metadata?.namespace === `${ns}-n9`));
    const c = countingKube(viaProxy);
    // The same cache, seen through the counting clients.
    const cached = new Proxy(cache, {
      get: (t, p) => {
        if (p === 'kube') return c.kube;
        const v = Reflect.get(t, p, t) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const r = await backupStatus({ kube: c.kube, cache: cached, now: () => new Date() }, {});
    assert.match(JSON.stringify(r.blocks), /From the watch cache/);
    assert.deepEqual(c.calls.filter((x) => /list(Namespaced|Cluster)CustomObject|ForAllNamespaces/.test(x) && !/Lease|Event/.test(x)), []);
  });
});
