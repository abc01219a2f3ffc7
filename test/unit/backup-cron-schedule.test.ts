import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cronSchedule } from '../../src/backup/cron-schedule.ts';

const t = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('cron schedule (node-cron parse, robfig/cron semantics, UTC)', () => {
  test('hourly: next and previous firing, strictly after / before', () => {
    const c = cronSchedule('0 * * * *')!;
    assert.equal(iso(c.next(t('2026-01-18T10:00:48Z'))), '2026-01-18T11:00:00.000Z');
    assert.equal(iso(c.next(t('2026-01-18T11:00:00Z'))), '2026-01-18T12:00:00.000Z');
    assert.equal(iso(c.prev(t('2026-01-18T11:00:00Z'))), '2026-01-18T10:00:00.000Z');
    assert.equal(iso(c.prev(t('2026-01-18T11:00:01Z'))), '2026-01-18T11:00:00.000Z');
  });

  test('steps, ranges and weekdays; crossing a weekend', () => {
    const c = cronSchedule('*/15 2-4 * * 1-5')!;
    assert.equal(iso(c.next(t('2026-01-16T04:45:00Z'))), '2026-01-19T02:00:00.000Z', 'Friday 04:45 → Monday 02:00');
    assert.equal(iso(c.prev(t('2026-01-19T02:00:00Z'))), '2026-01-16T04:45:00.000Z');
    assert.equal(iso(c.next(t('2026-01-19T02:07:00Z'))), '2026-01-19T02:15:00.000Z');
  });

  test('day-of-month and day-of-week both restricted: either one fires (cron OR rule)', () => {
    const c = cronSchedule('30 2 13 * 5')!;
    // 2026-02-06 is a Friday; 2026-02-13 is a Friday the 13th; 2026-03-13 a Friday too; 2026-02-20 Friday.
    assert.equal(iso(c.next(t('2026-02-01T00:00:00Z'))), '2026-02-06T02:30:00.000Z');
    assert.equal(iso(c.next(t('2026-02-06T02:30:00Z'))), '2026-02-13T02:30:00.000Z');
    const monthly = cronSchedule('0 3 1 * *')!;
    assert.equal(iso(monthly.next(t('2026-01-31T12:00:00Z'))), '2026-02-01T03:00:00.000Z');
    const sunday = cronSchedule('0 3 * * 7')!;
    assert.equal(new Date(sunday.next(t('2026-01-14T00:00:00Z'))!).getUTCDay(), 0, '7 is Sunday');
  });

  test('nicknames VolSync accepts', () => {
    assert.equal(iso(cronSchedule('@hourly')!.next(t('2026-01-18T10:20:00Z'))), '2026-01-18T11:00:00.000Z');
    assert.equal(iso(cronSchedule('@daily')!.next(t('2026-01-18T10:20:00Z'))), '2026-01-19T00:00:00.000Z');
    assert.equal(iso(cronSchedule('@weekly')!.next(t('2026-01-14T10:20:00Z'))), '2026-01-18T00:00:00.000Z', 'Sunday midnight');
    assert.equal(iso(cronSchedule('@monthly')!.next(t('2026-01-14T10:20:00Z'))), '2026-02-01T00:00:00.000Z');
  });

  test('February 30th never fires; nonsense does not parse', () => {
    assert.equal(cronSchedule('0 0 30 2 *')?.next(t('2026-01-01T00:00:00Z')), undefined);
    assert.equal(cronSchedule('every hour'), undefined);
    assert.equal(cronSchedule('61 * * * *'), undefined);
  });
});
