// The alert group → thread map in a ConfigMap on a real API server: survives a new store (a
// restart), two writers at once (optimistic concurrency, 409 → re-read), and stays bounded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { kubeForTests, kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { loadKube } from '../../src/kube/client.ts';
import type { Kube } from '../../src/kube/client.ts';
import { ConfigMapThreadStore, decodeRecord } from '../../src/alerts/thread-store.ts';
import type { ThreadRecord } from '../../src/alerts/thread-store.ts';

const skip = await kubeUnavailableReason();
const NS = `threads-${process.pid}`;
const log = pino({ level: 'silent' });

const rec = (g: string, ts: string, alerts: Record<string, 'f' | 'r'> = {}, at = Date.now()): ThreadRecord =>
  ({ groupKey: g, channel: 'C0ALERTS1', threadTs: ts, createdAt: at, updatedAt: at, alerts });

describe('ConfigMapThreadStore on a real API server', { skip }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  const store = (name = 'threads', limits = {}) => new ConfigMapThreadStore(kube, { namespace: NS, name, log, limits, debounceMs: 20 });
  const stored = async (name: string) => {
    const cm = await kube.core.readNamespacedConfigMap({ name, namespace: NS });
    return Object.values(cm.data ?? {}).map((t) => decodeRecord(t)!);
  };

  before(async () => {
    harness = await kubeForTests();
    kube = loadKube({ kubeconfigPath: harness.kubeconfigPath })!;
    await kube.core.createNamespace({ body: { metadata: { name: NS } } });
  }, { timeout: 180_000 });
  after(() => harness?.stop());

  it('a new store (a restarted bot) finds the thread a durable put wrote', async () => {
    await store().put(rec('{}:{alertname="A"}', '1700000000.000100', { fp1: 'f' }), { durable: true });
    const again = await store().get('{}:{alertname="A"}');
    assert.equal(again?.threadTs, '1700000000.000100');
    assert.deepEqual(again?.alerts, { fp1: 'f' });
  });

  it('two writers at once both land (409 conflicts are re-read and re-applied), and one group\'s alerts are merged', async () => {
    const a = store('shared');
    const b = store('shared');
    await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => a.put(rec(`ga${i}`, `1.${i}`), { durable: true })),
      ...Array.from({ length: 6 }, (_, i) => b.put(rec(`gb${i}`, `2.${i}`), { durable: true })),
    ]);
    await Promise.all([a.flush(), b.flush()]);
    const keys = (await stored('shared')).map((r) => r.groupKey).sort();
    assert.deepEqual(keys, [...Array.from({ length: 6 }, (_, i) => `ga${i}`), ...Array.from({ length: 6 }, (_, i) => `gb${i}`)].sort());

    await a.put(rec('same', '3.0', { x: 'f' }), { durable: true });
    const bView = (await b.get('same'))!;
    await a.put({ ...rec('same', '3.0', { x: 'r' }), updatedAt: Date.now() + 1 }, { durable: true });
    await b.put({ ...bView, alerts: { ...bView.alerts, y: 'f' }, updatedAt: Date.now() + 2 }, { durable: true });
    const merged = (await stored('shared')).find((r) => r.groupKey === 'same')!;
    assert.equal(merged.alerts['y'], 'f');
    assert.ok(merged.alerts['x'], 'the other writer\'s alert is kept');
  });

  it('debounced puts are written together; the map stays within its group cap', async () => {
    const s = store('capped', { maxGroups: 5 });
    for (let i = 0; i < 12; i++) await s.put(rec(`g${i}`, `4.${i}`, {}, Date.now() + i));
    await s.flush();
    const kept = (await stored('capped')).map((r) => r.groupKey).sort();
    assert.deepEqual(kept, ['g10', 'g11', 'g7', 'g8', 'g9']);
  });
});
