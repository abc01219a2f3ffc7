// A mute window whose silence cannot be made because Alertmanager is down: the service wakes itself
// again with backoff (5 s, doubling, at most a minute) until the silence exists or the window ends,
// instead of waiting for the next 5-minute safety tick. test/integration/faults-alertmanager.test.ts
// proves the same against the real Alertmanager and bot process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Silence } from '../../src/alerts/alertmanager-types.ts';
import { AlertmanagerError } from '../../src/alerts/silences.ts';
import { BackupWindowService } from '../../src/backup-window/service.ts';
import { MemoryWindowStore } from '../../src/backup-window/state.ts';
import { RecordingSilences, testConfig, testServices } from './backup-window-fixtures.ts';

class FlakyAlertmanager extends RecordingSilences {
  down = true;
  calls = 0;
  override async findOwned(marker: string): Promise<Silence[]> {
    this.calls++;
    if (this.down) throw new AlertmanagerError('unreachable', 'Alertmanager at http://alertmanager.test is unreachable (ECONNREFUSED)');
    return super.findOwned(marker);
  }
}

describe('a mute window retries its silence while Alertmanager is down', () => {
  let clock = new Date('2026-11-22T02:00:00.000Z');
  const silences = new FlakyAlertmanager();
  const config = testConfig({ windows: [{ name: 'pbs', zone: 'UTC', start: '02:00', end: '03:30', graceMinutes: 15, mode: 'mute', namespaces: ['kube-system'] }] });
  const svc = new BackupWindowService({ services: testServices({ config }), store: new MemoryWindowStore({ now: () => clock }), silences, now: () => clock });
  const wakeAt = async (iso: string) => {
    clock = new Date(iso);
    await svc.reconcile('test');
    return svc.nextWakeAt(clock)?.toISOString();
  };

  it('wakes after 5, 10, 20, 40 s, then every minute; an extra wake-up in between keeps the schedule', async () => {
    assert.equal(await wakeAt('2026-11-22T02:00:00.000Z'), '2026-11-22T02:00:05.000Z');
    assert.equal(await wakeAt('2026-11-22T02:00:05.000Z'), '2026-11-22T02:00:15.000Z');
    assert.equal(await wakeAt('2026-11-22T02:00:15.000Z'), '2026-11-22T02:00:35.000Z');
    assert.equal(await wakeAt('2026-11-22T02:00:35.000Z'), '2026-11-22T02:01:15.000Z');
    assert.equal(await wakeAt('2026-11-22T02:01:15.000Z'), '2026-11-22T02:02:15.000Z');
    assert.equal(await wakeAt('2026-11-22T02:02:15.000Z'), '2026-11-22T02:03:15.000Z');
    assert.equal(await wakeAt('2026-11-22T02:02:30.000Z'), '2026-11-22T02:03:15.000Z', 'a safety tick before the retry is due');
    assert.equal(silences.created, 0);
  });

  it('makes the one silence once Alertmanager answers, and then sleeps until the window ends', async () => {
    silences.down = false;
    assert.equal(await wakeAt('2026-11-22T02:03:15.000Z'), '2026-11-22T03:30:00.000Z');
    assert.equal(silences.created, 1);
    assert.equal(await wakeAt('2026-11-22T02:10:00.000Z'), '2026-11-22T03:30:00.000Z');
    assert.equal(silences.active().length, 1, 'not made twice');
  });

  it('does not retry when no mute window is open: a failure then waits for the next change', async () => {
    silences.down = true;
    const calls = silences.calls;
    assert.equal(await wakeAt('2026-11-22T04:00:00.000Z'), '2026-11-23T02:00:00.000Z');
    assert.equal(silences.calls, calls + 1, 'it did try');
  });
});
