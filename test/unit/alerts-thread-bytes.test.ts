// The alert thread map must always fit its ConfigMap (1 MiB): budgets in UTF-8 bytes, long group
// keys and fingerprints capped, the oldest groups evicted first, and no state in which every write fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertKey, capAlerts, decodeRecord, DEFAULT_THREAD_LIMITS, encodeRecord, MemoryThreadStore, pruneEntries, storeKey } from '../../src/alerts/thread-store.ts';
import type { ThreadRecord } from '../../src/alerts/thread-store.ts';

const rec = (groupKey: string, updatedAt: number, alerts: Record<string, 'f' | 'r'> = { a: 'f' }): ThreadRecord =>
  ({ groupKey, channel: 'C0X', threadTs: `${updatedAt}.0`, createdAt: updatedAt, updatedAt, alerts });

const bytesOf = (data: Record<string, string>) => Object.entries(data).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

describe('thread map byte budget', () => {
  it('budgets UTF-8 bytes, not UTF-16 units: multibyte labels are evicted to fit, oldest first', () => {
    const limits = { ...DEFAULT_THREAD_LIMITS, maxBytes: 20_000 };
    const data: Record<string, string> = {};
    // Each record is ~1,000 UTF-16 units but ~3,000 bytes (CJK is 3 bytes in UTF-8).
    for (let i = 0; i < 15; i++) {
      const r = rec(`{}:{alertname="漢字${i}"}`, 1000 + i, { a: 'f' });
      r.channel = `C${'字'.repeat(1000)}`;
      data[storeKey(r.groupKey)] = encodeRecord(r);
    }
    const units = Object.entries(data).reduce((n, [k, v]) => n + k.length + v.length, 0);
    assert.ok(units <= 20_000, `the UTF-16 length (${units}) is within the budget`);
    const removed = pruneEntries(data, limits, 2000);
    assert.ok(removed.length > 0, 'records were evicted');
    assert.ok(bytesOf(data) <= 20_000, `${bytesOf(data)} bytes kept`);
    const kept = Object.values(data).map((t) => decodeRecord(t)!.updatedAt).sort();
    assert.equal(kept.at(-1), 1014, 'the newest group is kept');
    assert.ok(kept[0]! > 1000, 'the oldest went first');
  });

  it('stores a long group key capped, and still finds it by the full key', async () => {
    const long = `{}:{alertname="X", description="${'ü'.repeat(100_000)}"}`;
    const text = encodeRecord(rec(long, 1));
    assert.ok(Buffer.byteLength(text) < 2000, `record is ${Buffer.byteLength(text)} bytes`);
    const store = new MemoryThreadStore();
    await store.put(rec(long, Date.now()));
    const back = await store.get(long);
    assert.equal(back?.groupKey, long, 'get() answers with the caller\'s key');
    assert.equal(store.size, 1);
  });

  it('caps fingerprints: a huge one is stored hashed, and alertKey maps the same input to the same key', () => {
    const fp = 'f'.repeat(50_000);
    assert.ok(alertKey(fp).length <= 64);
    assert.equal(alertKey(fp), alertKey(fp));
    assert.notEqual(alertKey(fp), alertKey(`${fp}x`));
    assert.equal(alertKey('0123456789abcdef'), '0123456789abcdef', 'Alertmanager\'s own fingerprints stay readable');
    const r = rec('g', 1, { [fp]: 'f' });
    const decoded = decodeRecord(encodeRecord(r))!;
    assert.deepEqual(Object.keys(decoded.alerts), [alertKey(fp)]);
  });

  it('caps one record by bytes too, so a single group can never outgrow the budget', () => {
    const alerts: Record<string, 'f' | 'r'> = {};
    for (let i = 0; i < 500; i++) alerts[`${i}`.padStart(60, 'x')] = i % 2 ? 'f' : 'r';
    const r = rec('g', 1, alerts);
    capAlerts(r, 500, 8_000);
    assert.ok(Buffer.byteLength(encodeRecord(r)) <= 8_000, `${Buffer.byteLength(encodeRecord(r))} bytes`);
    assert.ok(Object.values(r.alerts).every((s) => s === 'f'), 'resolved ones go first');
  });

  it('the store never ends unable to write: after any series of puts the data fits the budget and the newest group is kept', async () => {
    const limits = { maxBytes: 30_000 };
    const store = new MemoryThreadStore({ limits });
    for (let i = 0; i < 60; i++) {
      const alerts: Record<string, 'f' | 'r'> = {};
      for (let j = 0; j < 500; j++) alerts[`é${'😀'.repeat(20)}${i}-${j}`] = 'f';
      const r = rec(`{}:{alertname="${'😀'.repeat(2000)}${i}"}`, Date.now() + i, alerts);
      await store.put(r);
      assert.ok(store.bytes <= 30_000, `after put ${i}: ${store.bytes} bytes`);
      assert.ok(await store.get(r.groupKey), `put ${i} is kept`);
    }
  });
});
