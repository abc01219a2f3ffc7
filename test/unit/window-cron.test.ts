// cronFor's expressions checked against node-cron 4 itself, including the DST behaviour that
// src/window/cron-for.ts documents (and that makes the scheduler reconcile with nextInstance).
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import cron from 'node-cron';
import { cronFor, nextInstance } from '../../src/window/index.ts';
import type { WindowTimes } from '../../src/window/index.ts';

const auckland: WindowTimes = { name: 'nz', zone: 'Pacific/Auckland', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '02:00', end: '03:30' };

/** node-cron's next `count` runs of the window edge's tick, as seen from the injected `now`. */
function nextTicks(w: WindowTimes, edge: 'start' | 'end', now: string, count: number): string[] {
  const { expression, timezone } = cronFor(w, edge);
  mock.timers.enable({ apis: ['Date'], now: new Date(now) });
  const task = cron.createTask(expression, () => undefined, { timezone });
  try {
    return task.getNextRuns(count).map((d) => d.toISOString());
  } finally {
    void task.destroy();
    mock.timers.reset();
  }
}

afterEach(() => mock.timers.reset());

describe('cronFor with node-cron 4', () => {
  it('produces expressions node-cron accepts', () => {
    for (const edge of ['start', 'end'] as const) {
      assert.equal(cron.validate(cronFor(auckland, edge).expression), true);
      assert.equal(cron.validate(cronFor({ ...auckland, days: ['sat', 'sun'], start: '22:00', end: '01:00' }, edge).expression), true);
    }
  });

  it('ticks exactly at the start and end instants on ordinary days', () => {
    const days: WindowTimes = { ...auckland, days: ['fri', 'sat'], start: '22:00', end: '01:00' };
    const first = nextInstance(days, new Date('2026-03-01T00:00:00.000Z'));
    const second = nextInstance(days, first.start);
    assert.deepEqual(nextTicks(days, 'start', '2026-03-01T00:00:00.000Z', 2), [first.start.toISOString(), second.start.toISOString()]);
    assert.deepEqual(nextTicks(days, 'end', '2026-03-01T00:00:00.000Z', 2), [first.end.toISOString(), second.end.toISOString()]);
    assert.deepEqual([first.start.toISOString(), first.end.toISOString()], ['2026-03-06T09:00:00.000Z', '2026-03-06T12:00:00.000Z']);
  });

  it('skips a start inside the spring-forward gap, where the window opens at 03:00 NZDT', () => {
    assert.equal(nextInstance(auckland, new Date('2026-09-26T12:00:00.000Z')).start.toISOString(), '2026-09-26T14:00:00.000Z');
    assert.deepEqual(nextTicks(auckland, 'start', '2026-09-26T12:00:00.000Z', 1), ['2026-09-27T13:00:00.000Z']);
  });

  it('fires a repeated start at its second occurrence, an hour after the window opened', () => {
    assert.equal(nextInstance(auckland, new Date('2026-04-04T12:00:00.000Z')).start.toISOString(), '2026-04-04T13:00:00.000Z');
    assert.deepEqual(nextTicks(auckland, 'start', '2026-04-04T12:00:00.000Z', 1), ['2026-04-04T14:00:00.000Z']);
  });
});
