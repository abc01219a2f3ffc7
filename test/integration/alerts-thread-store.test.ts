// The alert group → thread map in a ConfigMap on a real API server: survives a new store (a
// restart), two writers at once (optimistic concurrency, 409 → re-read), and stays bounded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import type { Kube } from '../../src/kube/client.ts';
import { ConfigMapThreadStore, decodeRecord } from '../../src/alerts/thread-store.ts';
import type { ThreadRecord } from '../../src/alerts/thread-store.ts';
import { stopAll } from '../harness/stop-all.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';

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
    ({ harness, kube } = await kubeWithNamespaces(NS));
  }, { timeout: 180_000 });
  after(() => stopAll(harness));

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

  it('multibyte and huge labels never push the ConfigMap past 1 MiB: every save lands, the newest groups are kept', { timeout: 120_000 }, async () => {
    const s = store('huge');
    let last = '';
    for (let i = 0; i < 40; i++) {
      const alerts: Record<string, 'f' | 'r'> = {};
      // Fingerprints 2 KB of 4-byte emoji each, 500 of them; a group key of 30,000 CJK characters (90 KB).
      for (let j = 0; j < 500; j++) alerts[`${'😀'.repeat(500)}-${i}-${j}`] = j % 3 ? 'f' : 'r';
      last = `{}:{alertname="Storm", description="${'漢'.repeat(30_000)}", n="${i}"}`;
      await s.put({ ...rec(last, `6.${i}`, alerts, Date.now() + i), receiver: 'bot', groupLabels: { alertname: 'Storm', description: 'ü'.repeat(50_000) } });
      await s.flush(); // throws if the API server refused the write
    }
    const cm = await kube.core.readNamespacedConfigMap({ name: 'huge', namespace: NS });
    const size = Buffer.byteLength(JSON.stringify(cm));
    assert.ok(size < 1024 * 1024, `ConfigMap is ${size} bytes`);
    const again = await store('huge').get(last);
    assert.equal(again?.threadTs, '6.39', 'the newest group survives a restart');
    assert.ok(Object.keys(again!.alerts).length > 0);
  });
});
