import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cronFor, currentOrNext, instanceAt, isTransientPod, lastClosed, nextChangeAt, nextInstance,
  validateTransientPods, WindowConfigError,
} from '../../src/window/index.ts';
import type { WindowInstance, WindowTimes } from '../../src/window/index.ts';

const at = (iso: string) => new Date(iso);
const span = (i: WindowInstance | undefined) => i && { id: i.id, start: i.start.toISOString(), end: i.end.toISOString() };

const pbs: WindowTimes = {
  name: 'pbs', zone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '02:00', end: '03:30', graceMinutes: 15,
};
// 2026-03-13 is a Friday.
const lateFriday: WindowTimes = { name: 'late', zone: 'UTC', days: ['fri'], start: '22:00', end: '01:00' };
const auckland: WindowTimes = { name: 'nz', zone: 'Pacific/Auckland', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '02:00', end: '03:30' };

describe('default pbs window, 02:00–03:30 UTC daily', () => {
  it('is open at 02:40 with the exact instance', () => {
    const open = instanceAt(pbs, at('2026-03-10T02:40:00.000Z'));
    assert.deepEqual(span(open), { id: 'pbs@2026-03-10T02:00:00.000Z', start: '2026-03-10T02:00:00.000Z', end: '2026-03-10T03:30:00.000Z' });
    assert.equal(open?.graceEnd.toISOString(), '2026-03-10T03:45:00.000Z');
    assert.equal(open?.name, 'pbs');
  });

  it('opens at 02:00:00.000 exactly and is closed a millisecond before', () => {
    assert.equal(instanceAt(pbs, at('2026-03-10T02:00:00.000Z'))?.id, 'pbs@2026-03-10T02:00:00.000Z');
    assert.equal(instanceAt(pbs, at('2026-03-10T01:59:59.999Z')), undefined);
  });

  it('is closed at 03:30 exactly; the next one opens tomorrow at 02:00 and the last closed is today', () => {
    const t = at('2026-03-10T03:30:00.000Z');
    assert.equal(instanceAt(pbs, t), undefined);
    const state = currentOrNext(pbs, t);
    assert.equal(state.open, false);
    assert.deepEqual(span(state.instance), { id: 'pbs@2026-03-11T02:00:00.000Z', start: '2026-03-11T02:00:00.000Z', end: '2026-03-11T03:30:00.000Z' });
    assert.equal(lastClosed(pbs, t)?.id, 'pbs@2026-03-10T02:00:00.000Z');
  });

  it('is closed at 01:59; the next opens at 02:00 the same day, the last closed yesterday', () => {
    const t = at('2026-03-10T01:59:00.000Z');
    assert.equal(instanceAt(pbs, t), undefined);
    const state = currentOrNext(pbs, t);
    assert.equal(state.open, false);
    assert.equal(state.instance.start.toISOString(), '2026-03-10T02:00:00.000Z');
    assert.deepEqual(span(lastClosed(pbs, t)), { id: 'pbs@2026-03-09T02:00:00.000Z', start: '2026-03-09T02:00:00.000Z', end: '2026-03-09T03:30:00.000Z' });
  });

  it('currentOrNext reports the open instance while open (a restart at 02:40 sees the window)', () => {
    const state = currentOrNext(pbs, at('2026-03-10T02:40:00.000Z'));
    assert.equal(state.open, true);
    assert.equal(state.instance.id, 'pbs@2026-03-10T02:00:00.000Z');
  });

  it('a window without graceMinutes has graceEnd equal to end', () => {
    const { graceMinutes: _ignored, ...noGrace } = pbs;
    const open = instanceAt(noGrace, at('2026-03-10T02:40:00.000Z'));
    assert.equal(open?.graceEnd.toISOString(), '2026-03-10T03:30:00.000Z');
  });

  it('nextChangeAt gives the next open or close instant', () => {
    assert.equal(nextChangeAt(pbs, at('2026-03-10T01:00:00.000Z')).toISOString(), '2026-03-10T02:00:00.000Z');
    assert.equal(nextChangeAt(pbs, at('2026-03-10T02:00:00.000Z')).toISOString(), '2026-03-10T03:30:00.000Z');
    assert.equal(nextChangeAt(pbs, at('2026-03-10T02:40:00.000Z')).toISOString(), '2026-03-10T03:30:00.000Z');
    assert.equal(nextChangeAt(pbs, at('2026-03-10T03:30:00.000Z')).toISOString(), '2026-03-11T02:00:00.000Z');
  });
});

describe('a window that crosses midnight, 22:00–01:00 UTC on Fridays', () => {
  it('is open at 00:30 on the Saturday after a configured Friday', () => {
    assert.deepEqual(span(instanceAt(lateFriday, at('2026-03-14T00:30:00.000Z'))),
      { id: 'late@2026-03-13T22:00:00.000Z', start: '2026-03-13T22:00:00.000Z', end: '2026-03-14T01:00:00.000Z' });
    assert.equal(instanceAt(lateFriday, at('2026-03-13T23:59:00.000Z'))?.id, 'late@2026-03-13T22:00:00.000Z');
  });

  it('is closed at 00:30 on the Friday after a non-configured Thursday', () => {
    const t = at('2026-03-13T00:30:00.000Z');
    assert.equal(instanceAt(lateFriday, t), undefined);
    assert.equal(currentOrNext(lateFriday, t).instance.start.toISOString(), '2026-03-13T22:00:00.000Z');
    assert.equal(lastClosed(lateFriday, t)?.end.toISOString(), '2026-03-07T01:00:00.000Z');
  });

  it('closes at 01:00 on Saturday exactly', () => {
    assert.equal(instanceAt(lateFriday, at('2026-03-14T01:00:00.000Z')), undefined);
    assert.equal(lastClosed(lateFriday, at('2026-03-14T01:00:00.000Z'))?.id, 'late@2026-03-13T22:00:00.000Z');
  });

  it('end equal to start is a 24-hour window ending when the next one starts', () => {
    const allDay: WindowTimes = { name: 'allday', zone: 'UTC', days: ['mon', 'tue'], start: '02:00', end: '02:00' };
    assert.deepEqual(span(instanceAt(allDay, at('2026-03-10T01:59:00.000Z'))),
      { id: 'allday@2026-03-09T02:00:00.000Z', start: '2026-03-09T02:00:00.000Z', end: '2026-03-10T02:00:00.000Z' });
    assert.equal(instanceAt(allDay, at('2026-03-10T02:00:00.000Z'))?.id, 'allday@2026-03-10T02:00:00.000Z');
    assert.equal(instanceAt(allDay, at('2026-03-11T02:00:00.000Z')), undefined);
  });
});

describe('days of the week', () => {
  const weekdays: WindowTimes = { ...pbs, days: ['mon', 'tue', 'wed', 'thu', 'fri'] };

  it('is closed on Saturday at 02:40; opens next on Monday; last closed on Friday', () => {
    const saturday = at('2026-03-14T02:40:00.000Z');
    assert.equal(instanceAt(weekdays, saturday), undefined);
    assert.equal(nextInstance(weekdays, saturday).id, 'pbs@2026-03-16T02:00:00.000Z');
    assert.equal(lastClosed(weekdays, saturday)?.id, 'pbs@2026-03-13T02:00:00.000Z');
  });

  it('is open on Monday at 02:40', () => {
    assert.equal(instanceAt(weekdays, at('2026-03-16T02:40:00.000Z'))?.id, 'pbs@2026-03-16T02:00:00.000Z');
  });

  it('nextInstance walks a week with one configured day, strictly after the given instant', () => {
    const wednesdays: WindowTimes = { ...pbs, days: ['wed'] };
    assert.equal(nextInstance(wednesdays, at('2026-03-11T01:59:59.999Z')).id, 'pbs@2026-03-11T02:00:00.000Z');
    let after = at('2026-03-11T02:00:00.000Z'); // a start is not "after" itself
    const starts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const next = nextInstance(wednesdays, after);
      starts.push(next.start.toISOString());
      after = next.start;
    }
    assert.deepEqual(starts, ['2026-03-18T02:00:00.000Z', '2026-03-25T02:00:00.000Z', '2026-04-01T02:00:00.000Z', '2026-04-08T02:00:00.000Z']);
    assert.equal(lastClosed(wednesdays, at('2026-03-17T12:00:00.000Z'))?.id, 'pbs@2026-03-11T02:00:00.000Z');
  });

  it('a window in a zone uses the local weekday, not the UTC one', () => {
    // Monday 02:00 in Auckland (NZDT, +13) is Sunday 13:00 UTC.
    const mondays: WindowTimes = { ...auckland, days: ['mon'] };
    assert.equal(nextInstance(mondays, at('2026-03-14T00:00:00.000Z')).id, 'nz@2026-03-15T13:00:00.000Z');
  });
});

describe('Pacific/Auckland across daylight-saving changes (02:00–03:30 daily)', () => {
  /** The next instance after 12:00 UTC (00:00 or 01:00 in Auckland) on each of `dates`, as spans. */
  const nightsFromNoon = (dates: string[]) => dates.map((d) => span(nextInstance(auckland, at(`${d}T12:00:00.000Z`))));

  it('spring forward, 2026-09-27: opens at 03:00 NZDT (the end of the gap) and lasts 30 minutes', () => {
    assert.deepEqual(nightsFromNoon(['2026-09-25', '2026-09-26', '2026-09-27']), [
      { id: 'nz@2026-09-25T14:00:00.000Z', start: '2026-09-25T14:00:00.000Z', end: '2026-09-25T15:30:00.000Z' }, // Sat, NZST +12
      { id: 'nz@2026-09-26T14:00:00.000Z', start: '2026-09-26T14:00:00.000Z', end: '2026-09-26T14:30:00.000Z' }, // Sun, 03:00–03:30 NZDT
      { id: 'nz@2026-09-27T13:00:00.000Z', start: '2026-09-27T13:00:00.000Z', end: '2026-09-27T14:30:00.000Z' }, // Mon, NZDT +13
    ]);
    assert.equal(instanceAt(auckland, at('2026-09-26T13:59:59.999Z')), undefined); // 01:59:59.999 NZST
    assert.equal(instanceAt(auckland, at('2026-09-26T14:00:00.000Z'))?.id, 'nz@2026-09-26T14:00:00.000Z');
    assert.equal(instanceAt(auckland, at('2026-09-26T14:30:00.000Z')), undefined);
  });

  it('fall back, 2026-04-05: opens at the first 02:00 (NZDT), closes at 03:30 NZST, lasting 2 h 30 min', () => {
    assert.deepEqual(nightsFromNoon(['2026-04-03', '2026-04-04', '2026-04-05']), [
      { id: 'nz@2026-04-03T13:00:00.000Z', start: '2026-04-03T13:00:00.000Z', end: '2026-04-03T14:30:00.000Z' }, // Sat, NZDT +13
      { id: 'nz@2026-04-04T13:00:00.000Z', start: '2026-04-04T13:00:00.000Z', end: '2026-04-04T15:30:00.000Z' }, // Sun, 02:00 NZDT–03:30 NZST
      { id: 'nz@2026-04-05T14:00:00.000Z', start: '2026-04-05T14:00:00.000Z', end: '2026-04-05T15:30:00.000Z' }, // Mon, NZST +12
    ]);
    // 02:45 on the second pass through the repeated hour is still inside the same instance.
    assert.equal(instanceAt(auckland, at('2026-04-04T14:45:00.000Z'))?.id, 'nz@2026-04-04T13:00:00.000Z');
    assert.equal(nextChangeAt(auckland, at('2026-04-04T13:00:00.000Z')).toISOString(), '2026-04-04T15:30:00.000Z');
  });

  it('a start inside the gap (02:30) opens at 03:00 NZDT, not at luxon\'s shifted 03:30', () => {
    const w: WindowTimes = { ...auckland, start: '02:30', end: '04:00' };
    assert.deepEqual(span(nextInstance(w, at('2026-09-26T12:00:00.000Z'))),
      { id: 'nz@2026-09-26T14:00:00.000Z', start: '2026-09-26T14:00:00.000Z', end: '2026-09-26T15:00:00.000Z' });
  });

  it('an end inside the gap closes at 03:00 NZDT', () => {
    const w: WindowTimes = { ...auckland, start: '01:00', end: '02:30' };
    assert.deepEqual(span(nextInstance(w, at('2026-09-26T12:00:00.000Z'))),
      { id: 'nz@2026-09-26T13:00:00.000Z', start: '2026-09-26T13:00:00.000Z', end: '2026-09-26T14:00:00.000Z' });
  });

  it('a window entirely inside the gap has no instance that day', () => {
    const w: WindowTimes = { ...auckland, start: '02:15', end: '02:45' };
    assert.equal(instanceAt(w, at('2026-09-26T14:00:00.000Z')), undefined);
    assert.deepEqual(span(nextInstance(w, at('2026-09-26T12:00:00.000Z'))),
      { id: 'nz@2026-09-27T13:15:00.000Z', start: '2026-09-27T13:15:00.000Z', end: '2026-09-27T13:45:00.000Z' });
    assert.equal(lastClosed(w, at('2026-09-27T12:00:00.000Z'))?.id, 'nz@2026-09-25T14:15:00.000Z');
  });

  it('a repeated local time means its first occurrence, for the start and for the end', () => {
    const start = { ...auckland, start: '02:30', end: '04:00' };
    assert.deepEqual(span(nextInstance(start, at('2026-04-04T12:00:00.000Z'))),
      { id: 'nz@2026-04-04T13:30:00.000Z', start: '2026-04-04T13:30:00.000Z', end: '2026-04-04T16:00:00.000Z' });

    const end = { ...auckland, start: '01:00', end: '02:30' };
    assert.deepEqual(span(nextInstance(end, at('2026-04-04T11:00:00.000Z'))),
      { id: 'nz@2026-04-04T12:00:00.000Z', start: '2026-04-04T12:00:00.000Z', end: '2026-04-04T13:30:00.000Z' });
    // 02:15 NZST, the second pass: that window has already closed.
    assert.equal(instanceAt(end, at('2026-04-04T14:15:00.000Z')), undefined);
  });

  it('a midnight-crossing window ends at the first occurrence of a repeated end time', () => {
    const w: WindowTimes = { ...auckland, days: ['sat'], start: '22:00', end: '02:30' };
    assert.deepEqual(span(nextInstance(w, at('2026-04-03T00:00:00.000Z'))),
      { id: 'nz@2026-04-04T09:00:00.000Z', start: '2026-04-04T09:00:00.000Z', end: '2026-04-04T13:30:00.000Z' });
  });
});

describe('ids', () => {
  it('are the same for every instant inside one instance, and name the start in UTC', () => {
    const ids = ['2026-03-10T02:00:00.000Z', '2026-03-10T02:40:00.000Z', '2026-03-10T03:29:59.999Z']
      .map((iso) => instanceAt(pbs, at(iso))?.id);
    assert.deepEqual(ids, ['pbs@2026-03-10T02:00:00.000Z', 'pbs@2026-03-10T02:00:00.000Z', 'pbs@2026-03-10T02:00:00.000Z']);
    assert.equal(nextInstance(pbs, at('2026-03-09T12:00:00.000Z')).id, 'pbs@2026-03-10T02:00:00.000Z');
    assert.equal(lastClosed(pbs, at('2026-03-10T12:00:00.000Z'))?.id, 'pbs@2026-03-10T02:00:00.000Z');
  });
});

describe('transient pods', () => {
  const patterns = ['kube-scheduler-.*', 'kube-controller-manager-.*', 'kube-apiserver-.*', 'etcd-.*'];

  it('match the whole pod name', () => {
    assert.equal(isTransientPod(patterns, 'kube-scheduler-talos-monitor'), true);
    assert.equal(isTransientPod(patterns, 'etcd-talos-monitor'), true);
    assert.equal(isTransientPod(patterns, 'my-etcd-backup'), false);
    assert.equal(isTransientPod(patterns, 'kube-scheduler'), false);
    assert.equal(isTransientPod(patterns, 'grafana-0'), false);
    assert.equal(isTransientPod([], 'etcd-talos-monitor'), false);
  });

  it('anchor every alternative of a pattern', () => {
    assert.equal(isTransientPod(['a|b'], 'ab'), false);
    assert.equal(isTransientPod(['a|b'], 'b'), true);
  });

  it('reject an invalid regular expression naming the field and the index', () => {
    assert.throws(() => validateTransientPods(['etcd-.*', 'kube-(']),
      (err: unknown) => err instanceof WindowConfigError && err.field === 'transientPods' && /transientPods\[1\] "kube-\("/.test(err.message));
  });
});

describe('cron expressions for node-cron', () => {
  it('tick at the start and end in the window zone', () => {
    assert.deepEqual(cronFor(pbs, 'start'), { expression: '0 2 * * *', timezone: 'UTC' });
    assert.deepEqual(cronFor(pbs, 'end'), { expression: '30 3 * * *', timezone: 'UTC' });
    assert.deepEqual(cronFor({ ...auckland, days: ['fri', 'mon', 'wed'] }, 'start'), { expression: '0 2 * * 1,3,5', timezone: 'Pacific/Auckland' });
  });

  it('move the end to the next day for a window that crosses midnight (Sunday wraps to Monday)', () => {
    assert.deepEqual(cronFor(lateFriday, 'start'), { expression: '0 22 * * 5', timezone: 'UTC' });
    assert.deepEqual(cronFor(lateFriday, 'end'), { expression: '0 1 * * 6', timezone: 'UTC' });
    assert.deepEqual(cronFor({ ...lateFriday, days: ['sat', 'sun'] }, 'end'), { expression: '0 1 * * 0,1', timezone: 'UTC' });
  });
});

// The configuration rejects these at start-up (test/unit/config.test.ts); the arithmetic still
// refuses them when called with a window that did not come through the schema.
describe('invalid windows', () => {
  const rejects = (w: WindowTimes, field: string, message: RegExp) => {
    for (const call of [() => instanceAt(w, at('2026-03-10T02:40:00.000Z')), () => cronFor(w, 'start')]) {
      assert.throws(call, (err: unknown) => {
        assert.ok(err instanceof WindowConfigError, `expected WindowConfigError, got ${String(err)}`);
        assert.equal(err.field, field);
        assert.match(err.message, message);
        return true;
      });
    }
  };

  it('name the bad field and what is expected', () => {
    rejects({ ...pbs, zone: 'Mars/Olympus' }, 'zone', /^window "pbs": zone must be an IANA time zone.*got "Mars\/Olympus"$/);
    rejects({ ...pbs, start: '2:00' }, 'start', /^window "pbs": start must be a quoted 24-hour time "HH:MM".*got "2:00"$/);
    rejects({ ...pbs, end: '24:00' }, 'end', /end must be a quoted 24-hour time "HH:MM".*got "24:00"$/);
    rejects({ ...pbs, start: 120 as unknown as string }, 'start', /start must be a quoted.*got 120$/);
    rejects({ ...pbs, days: [] }, 'days', /days must list at least one of mon, tue/);
    rejects({ ...pbs, days: ['monday' as 'mon'] }, 'days', /days has "monday"; use the lowercase three-letter names/);
    rejects({ ...pbs, graceMinutes: -1 }, 'graceMinutes', /graceMinutes must be a whole number of minutes from 0 to 720; got -1/);
    rejects({ ...pbs, graceMinutes: 1.5 }, 'graceMinutes', /got 1.5/);
    rejects({ ...pbs, name: '' }, 'name', /name must be a non-empty word/);
    rejects({ ...pbs, name: 'a@b' }, 'name', /without spaces or "@"/);
  });

  it('accepts the default window', () => {
    assert.doesNotThrow(() => instanceAt(pbs, at('2026-03-10T02:40:00.000Z')));
    assert.doesNotThrow(() => cronFor(pbs, 'start'));
  });

  it('rejects an invalid instant', () => {
    assert.throws(() => instanceAt(pbs, new Date('not a date')), /at must be a valid Date/);
    assert.throws(() => nextInstance(pbs, new Date(Number.NaN)), /after must be a valid Date/);
  });
});
