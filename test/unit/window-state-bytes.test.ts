// Window state lives in a ConfigMap (1 MiB): labels and fingerprints from alerts are capped, and the
// encoded state is kept within a byte budget, so a storm of huge or multibyte labels never stops saves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testConfig } from './backup-window-fixtures.ts';
import { windowSettings } from '../../src/backup-window/window-settings.ts';
import { ensureInstance, resolveGone, upsertAlert } from '../../src/backup-window/instance-records.ts';
import { encodeWindows, fitState, MAX_ALERTS, MAX_STATE_BYTES } from '../../src/backup-window/state.ts';
import type { WindowsState } from '../../src/backup-window/state.ts';
import type { CrashAlertEvent } from '../../src/alerts/hooks.ts';

const [w] = windowSettings(testConfig({}).windows);
const start = new Date('2026-11-22T02:00:00Z');
const inst = (day: number) => {
  const s = new Date(start.getTime() + day * 86_400_000);
  return { id: `pbs@${s.toISOString()}`, start: s, end: new Date(s.getTime() + 90 * 60_000), graceEnd: new Date(s.getTime() + 105 * 60_000) };
};

function event(fingerprint: string, pod: string, status: 'firing' | 'resolved' = 'firing'): CrashAlertEvent {
  return {
    groupKey: 'g', channel: 'C0ALERTS', threadTs: '1.0', status, fingerprint, startsAt: start.toISOString(), receivedAt: new Date(start.getTime() + 60_000),
    labels: { alertname: `KubePodCrashLooping${'ß'.repeat(5000)}`, namespace: `kube-system${'😀'.repeat(5000)}`, pod, container: '漢'.repeat(5000) },
  };
}

const bytes = (st: WindowsState) => Object.entries(encodeWindows(st)).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

describe('window state byte budget', () => {
  it('caps the label values and the fingerprint an alert is recorded with', () => {
    const st: WindowsState = {};
    const rec = ensureInstance(st, w!, inst(0) as never, start);
    const fp = 'f'.repeat(100_000);
    const a = upsertAlert(rec, event(fp, `etcd-0${'x'.repeat(100_000)}`), w!)!;
    for (const v of [a.alertname, a.namespace, a.pod, a.container, a.fingerprint]) assert.ok(Buffer.byteLength(v ?? '') <= 256, `${Buffer.byteLength(v ?? '')} bytes`);
    assert.equal(Object.keys(rec.alerts).length, 1);
    // The same long fingerprint finds the same record, and Alertmanager still listing it keeps it firing.
    upsertAlert(rec, event(fp, 'etcd-0'), w!);
    assert.equal(Object.keys(rec.alerts).length, 1);
    resolveGone(rec, [{ fingerprint: fp, labels: {}, startsAt: '', silencedBy: [] }], new Date());
    assert.equal(Object.values(rec.alerts)[0]!.status, 'firing');
  });

  it('a storm of huge multibyte labels in every kept instance stays within the budget, dropping (and counting) the oldest alerts', () => {
    const st: WindowsState = {};
    for (let day = 0; day < 3; day++) {
      const rec = ensureInstance(st, w!, inst(day) as never, start);
      for (let i = 0; i < MAX_ALERTS; i++) upsertAlert(rec, event(`fp-${day}-${i}`, `etcd-${i}-${'é'.repeat(3000)}`, i % 4 ? 'firing' : 'resolved'), w!);
    }
    assert.ok(bytes(st) <= MAX_STATE_BYTES, `capped labels alone keep a full storm at ${bytes(st)} bytes (budget ${MAX_STATE_BYTES})`);
    assert.ok(MAX_STATE_BYTES < 1024 * 1024);
    const before = bytes(st);
    fitState(st, 100_000);
    const after = bytes(st);
    assert.ok(after <= 100_000, `${before} → ${after} bytes (budget 100000)`);
    const dropped = Object.values(st).reduce((n, r) => n + (r.dropped ?? 0), 0);
    assert.ok(dropped > 0);
    assert.ok(Object.values(st).every((r) => Object.values(r.alerts).every((a) => a.status === 'firing')), 'resolved alerts went first');
    const kept = Object.values(st).reduce((n, r) => n + Object.keys(r.alerts).length, 0);
    assert.equal(kept + dropped, 3 * MAX_ALERTS, 'every alert is either kept or counted as dropped');
  });

  it('fitState leaves a state within the budget untouched', () => {
    const st: WindowsState = {};
    const rec = ensureInstance(st, w!, inst(0) as never, start);
    upsertAlert(rec, event('fp', 'etcd-0'), w!);
    const copy = structuredClone(st);
    fitState(st);
    assert.deepEqual(st, copy);
  });
});
