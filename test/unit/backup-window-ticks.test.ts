// The window's schedule under mocked timers (node-cron and our timer both run on them): it wakes
// at every start, end and grace end, on DST days too, where node-cron alone would be an hour off
// or silent, and the runtime it drives opens, mutes, summarises and closes on time.
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { scheduleWindowTicks, startBackupWindows } from '../../schedules/backup-window.ts';
import type { BackupWindows } from '../../schedules/backup-window.ts';
import { BackupWindowService } from '../../src/backup-window/service.ts';
import { MemoryWindowStore } from '../../src/backup-window/state.ts';
import { windowSettings } from '../../src/backup-window/window-settings.ts';
import { parseWindowMarker } from '../../src/backup-window/window-silence.ts';
import {
  ALERTS_CHANNEL,
  TestLeadership,
  testConfig,
  testServices,
  windowStandIns,
} from './backup-window-fixtures.ts';

afterEach(() => mock.timers.reset());

const realSetImmediate = setImmediate;
const MINUTE = 60_000;

/** Lets whatever a wake-up started run to the end (its awaits are real microtasks and immediates). */
async function settle(w?: { service: BackupWindowService }): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await w?.service.idle();
    await w?.service.flush();
    await new Promise((r) => realSetImmediate(r));
  }
}

/**
 * Advances the mocked clock to `iso`, stopping at every whole minute (node-cron's ticks) and at
 * the window timer, and letting each wake-up finish before going on: mock.timers runs a tick's
 * callbacks with the clock already at the tick's end, so one big tick would make every wake-up
 * see the last instant.
 */
async function advanceTo(iso: string, ticks: { nextTimerAt(): Date | undefined } | undefined, w?: { service: BackupWindowService }): Promise<void> {
  const target = new Date(iso).getTime();
  while (Date.now() < target) {
    const now = Date.now();
    let next = Math.min(target, (Math.floor(now / MINUTE) + 1) * MINUTE);
    const timer = ticks?.nextTimerAt()?.getTime();
    if (timer !== undefined && timer > now) next = Math.min(next, timer);
    mock.timers.tick(next - now);
    await settle(w);
  }
}

/** Starts the window runtime on stand-ins at `start`; `to` advances the clock as advanceTo does, letting each wake-up finish. */
function windowsFor(window: Record<string, unknown>, start: string, leadership = new TestLeadership(true)) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: new Date(start) });
  const deps = windowStandIns({ config: testConfig({ windows: [window], alerts: { channel: ALERTS_CHANNEL } }), leadership });
  const started = startBackupWindows({ ...deps, safetyTick: false });
  return { started, silences: deps.silences, poster: deps.poster, to: (iso: string) => advanceTo(iso, started.ticks, started) };
}

/** A mute window 02:00–03:30 in Pacific/Auckland, no grace period: its DST changes fall at 02:00 or 03:00. */
const NZ_WINDOW = { name: 'nz', zone: 'Pacific/Auckland', start: '02:00', end: '03:30', mode: 'mute', graceMinutes: 0 };

/** After `iso` the window has opened once, its silence muting from `startsAt` to `endsAt`. */
async function assertOpenedOnce(t: ReturnType<typeof windowsFor>, iso: string, startsAt: string, endsAt: string): Promise<void> {
  await t.to(iso);
  assert.equal(t.silences.created, 1);
  assert.equal(t.silences.all[0]!.startsAt, startsAt);
  assert.equal(t.silences.all[0]!.endsAt, endsAt);
}

describe('scheduleWindowTicks', () => {
  it('wakes at the cron tick and at the exact next change, and re-arms after each', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: new Date('2026-11-22T01:58:00.000Z') });
    const [w] = windowSettings(testConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30', graceMinutes: 15 }] }).windows);
    const svc = new BackupWindowService({ services: testServices({ config: testConfig({}) }), windows: [w!], store: new MemoryWindowStore() });
    const wakes: string[] = [];
    const ticks = scheduleWindowTicks({
      windows: [w!],
      wake: (reason) => {
        wakes.push(`${new Date().toISOString()} ${reason}`);
        ticks.rearm();
      },
      nextWakeAt: (t) => svc.nextWakeAt(t),
      safetyTick: false,
    });
    ticks.rearm();
    assert.equal(ticks.nextTimerAt()?.toISOString(), '2026-11-22T02:00:00.005Z');
    await advanceTo('2026-11-23T00:00:00.000Z', ticks);
    // The cron tick's re-arm moves the timer on to the next change, so each edge wakes once.
    assert.deepEqual(wakes, [
      '2026-11-22T02:00:00.000Z pbs start tick',
      '2026-11-22T03:30:00.000Z pbs end tick',
      '2026-11-22T03:45:00.005Z next window change',
    ]);
    assert.equal(ticks.nextTimerAt()?.toISOString(), '2026-11-23T02:00:00.005Z');
    ticks.stop();
  });

  it('the safety tick wakes every five minutes', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: new Date('2026-11-22T10:01:00.000Z') });
    const wakes: string[] = [];
    const ticks = scheduleWindowTicks({ windows: [], wake: (r) => wakes.push(`${new Date().toISOString()} ${r}`), nextWakeAt: () => undefined });
    await advanceTo('2026-11-22T10:11:00.000Z', ticks);
    ticks.stop();
    assert.deepEqual(wakes, ['2026-11-22T10:05:00.000Z safety tick', '2026-11-22T10:10:00.000Z safety tick']);
  });
});

describe('startBackupWindows on mocked timers', () => {
  let started: BackupWindows | undefined;
  afterEach(async () => {
    await started?.stop();
    started = undefined;
  });
  /** windowsFor, stopped after the test. */
  const start = (...args: Parameters<typeof windowsFor>) => {
    const t = windowsFor(...args);
    started = t.started;
    return t;
  };

  it('mutes at 02:00, keeps muting through the grace period, summarises and unmutes at 03:45, and does it again the next night', async () => {
    const t = start({ name: 'pbs', start: '02:00', end: '03:30', mode: 'mute' }, '2026-11-22T01:55:00.000Z');
    await t.started.ready;
    await t.to('2026-11-22T01:59:59.000Z');
    assert.equal(t.silences.created, 0);

    await t.to('2026-11-22T02:01:00.000Z');
    assert.equal(t.silences.created, 1);
    const first = t.silences.active()[0]!;
    assert.equal(first.startsAt, '2026-11-22T02:00:00.000Z');
    assert.equal(first.endsAt, '2026-11-22T03:45:00.000Z');

    await t.to('2026-11-22T03:44:00.000Z');
    assert.equal(t.silences.active().length, 1);
    assert.equal(t.poster.posts.length, 0);

    await t.to('2026-11-22T03:46:00.000Z');
    assert.equal(t.silences.active().length, 0);
    assert.equal(t.poster.posts.length, 1);
    assert.match(t.poster.posts[0]!.reply.text, /Backup window pbs closed \(02:00–03:30 UTC\): no crash loops/);

    await t.to('2026-11-23T02:00:30.000Z');
    assert.equal(t.silences.created, 2);
    assert.equal(parseWindowMarker(t.silences.active()[0]!.comment)?.instanceId, 'pbs@2026-11-23T02:00:00.000Z');
    assert.equal(t.poster.posts.length, 1);
  });

  it('opens a Pacific/Auckland window at 03:00 NZDT on the spring-forward night, where node-cron has no tick', async () => {
    // 2026-09-27 02:00 NZST → 03:00 NZDT (14:00Z the day before): 02:00 never happens.
    const t = start(NZ_WINDOW, '2026-09-26T13:30:00.000Z');
    await t.to('2026-09-26T13:59:59.000Z');
    assert.equal(t.silences.created, 0);
    await assertOpenedOnce(t, '2026-09-26T14:00:01.000Z', '2026-09-26T14:00:00.005Z', '2026-09-26T14:30:00.000Z');
    await t.to('2026-09-26T14:31:00.000Z');
    assert.equal(t.silences.active().length, 0);
    assert.equal(t.poster.posts.length, 1);
  });

  it('opens at the first 02:00 on the fall-back night, an hour before node-cron\'s tick, and closes at 03:30 NZST', async () => {
    // 2026-04-05 03:00 NZDT → 02:00 NZST: 02:00 first happens at 13:00Z, again at 14:00Z.
    const t = start(NZ_WINDOW, '2026-04-04T12:30:00.000Z');
    await assertOpenedOnce(t, '2026-04-04T13:00:30.000Z', '2026-04-04T13:00:00.005Z', '2026-04-04T15:30:00.000Z');
    await t.to('2026-04-04T15:29:00.000Z');
    assert.equal(t.silences.active().length, 1, 'the repeated hour does not close or reopen the window');
    assert.equal(t.silences.created, 1);
    await t.to('2026-04-04T15:31:00.000Z');
    assert.equal(t.silences.active().length, 0);
  });

  it('a replica does nothing until it becomes the leader, then catches up at once', async () => {
    const leadership = new TestLeadership(false);
    const t = start({ name: 'pbs', start: '02:00', end: '03:30', mode: 'mute' }, '2026-11-22T01:59:00.000Z', leadership);
    await t.to('2026-11-22T02:30:00.000Z');
    assert.equal(t.silences.created, 0);
    leadership.set(true);
    await settle(t.started);
    assert.equal(t.silences.created, 1);
  });
});
