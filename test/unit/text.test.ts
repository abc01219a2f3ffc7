import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { datedRange, duration, formatInZone, oneLine, plural, relative, timeIn, timeRange, truncate, whenIn } from '../../src/text.ts';
import { mention } from '../../src/command/context.ts';

const at = (iso: string) => new Date(iso);
const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('durations, one way everywhere', () => {
  // /backup printed kubectl's HumanDuration ("5m3s", "4h12m", "179m"), /restic and the alerts
  // "3h 5m": the bot now prints the latter everywhere a user reads a duration.
  for (const [ms, want] of [
    [-5 * s, '0s'], [-500, '0s'], [0, '0s'], [45 * s, '45s'], [47 * s, '47s'], [119 * s, '1m'], [2 * m, '2m'], [5 * m + 3 * s, '5m'],
    [10 * m + 30 * s, '10m'], [179 * m, '2h 59m'], [3 * h, '3h'], [3 * h + 5 * m, '3h 5m'], [4 * h + 12 * m, '4h 12m'], [8 * h + 59 * m, '8h 59m'],
    [47 * h, '1d 23h'], [2 * d, '2d'], [2 * d + 5 * h, '2d 5h'], [(189 * 60 + 37) * m, '7d 21h'], [8 * d, '8d'], [400 * d, '400d'],
  ] as const) {
    it(`${ms} ms → ${want}`, () => assert.equal(duration(ms), want));
  }
  it('relative', () => {
    assert.equal(relative(1000, 1000 + 5 * m), '5m ago');
    assert.equal(relative(1000 + 12 * m, 1000), 'in 12m');
  });
});

describe('instants in a zone', () => {
  it('shows the clock time and the zone abbreviation', () => {
    assert.equal(formatInZone(at('2026-03-10T02:00:00.000Z'), 'UTC'), '02:00 UTC');
    assert.equal(formatInZone(at('2026-10-06T02:00:00.000Z'), 'Pacific/Auckland', 'weekday'), 'Tue 15:00 NZDT');
    assert.equal(formatInZone(at('2026-06-06T02:00:00.000Z'), 'Pacific/Auckland', 'weekday'), 'Sat 14:00 NZST');
    assert.equal(formatInZone(at('2026-09-26T14:00:00.000Z'), 'Pacific/Auckland', 'date'), 'Sun 27 Sep 03:00 NZDT');
    assert.equal(formatInZone(at('2026-06-06T02:00:00.000Z'), 'America/New_York', 'weekday'), 'Fri 22:00 EDT');
  });

  it('rejects an unknown zone', () => {
    assert.throws(() => formatInZone(at('2026-03-10T02:00:00.000Z'), 'Mars/Olympus'), /zone must be an IANA time zone.*"Mars\/Olympus"/);
  });
});

describe('instants relative to now', () => {
  it('drops the day within a day of now', () => {
    assert.equal(timeIn(at('2026-11-22T02:04:00Z'), 'UTC', at('2026-11-22T02:40:00Z')), '02:04 UTC');
    assert.equal(timeIn(at('2026-11-20T02:04:00Z'), 'UTC', at('2026-11-22T02:40:00Z')), 'Fri 02:04 UTC');
    assert.equal(whenIn(at('2026-11-21T02:14:00Z'), 'UTC', at('2026-11-22T02:40:00Z')), 'Sat 21 Nov 02:14 UTC');
    assert.equal(timeRange({ start: at('2026-11-22T02:00:00Z'), end: at('2026-11-22T03:30:00Z') }, 'UTC'), '02:00–03:30 UTC');
    assert.equal(datedRange(at('2026-11-22T02:00:00Z'), at('2026-11-22T03:30:00Z'), 'UTC'), 'Sun 22 Nov 02:00 UTC – 03:30 UTC');
  });
});

describe('truncation, plurals, who', () => {
  it('cuts with an ellipsis and flattens outside text to one escaped line', () => {
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abc', 4), 'abc');
    assert.equal(oneLine('a\n  <b>\tc', 100), 'a &lt;b&gt; c');
  });

  it('plurals', () => {
    assert.equal(plural(1, 'lock'), '1 lock');
    assert.equal(plural(3, 'lock'), '3 locks');
    assert.equal(plural(2, 'mover pod'), '2 mover pods');
  });

  it('who (mention): a mention in Slack, the escaped name elsewhere', () => {
    assert.equal(mention({ id: 'U0ALICE', name: 'alice', via: 'slack' }), '<@U0ALICE>');
    assert.equal(mention({ id: 'root', via: 'terminal' }), 'root');
    // A terminal user name is not ours: it must not become a mention or a link in mrkdwn.
    assert.equal(mention({ id: 'x', name: '<!channel> <https://evil|ok>', via: 'terminal' }), '&lt;!channel&gt; &lt;https://evil|ok&gt;');
    assert.equal(mention({ id: '<!here>', via: 'terminal' }), '&lt;!here&gt;');
  });
});
