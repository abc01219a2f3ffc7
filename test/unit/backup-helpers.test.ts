import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, relative } from '../../src/backup/human-duration.ts';
import { editDistance, nearest } from '../../src/backup/nearest.ts';
import { joinWithin } from '../../src/backup/status-reply.ts';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('kubectl-style ages', () => {
  // Expected values are what k8s.io/apimachinery duration.HumanDuration prints.
  for (const [ms, want] of [
    [-5 * s, '<invalid>'], [-500, '0s'], [0, '0s'], [47 * s, '47s'], [119 * s, '119s'], [2 * m, '2m'], [5 * m + 3 * s, '5m3s'],
    [10 * m + 30 * s, '10m'], [179 * m, '179m'], [3 * h, '3h'], [4 * h + 12 * m, '4h12m'], [8 * h + 59 * m, '8h'], [47 * h, '47h'],
    [2 * d, '2d'], [2 * d + 5 * h, '2d5h'], [8 * d, '8d'], [400 * d, '400d'], [2 * 365 * d + 3 * d, '2y3d'], [9 * 365 * d, '9y'],
  ] as const) {
    test(`${ms} ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  }
  test('relative', () => {
    assert.equal(relative(1000, 1000 + 5 * m), '5m ago');
    assert.equal(relative(1000 + 12 * m, 1000), 'in 12m');
  });
});

describe('nearest names', () => {
  test('edit distance', () => {
    assert.equal(editDistance('karakeep', 'karakep'), 1);
    assert.equal(editDistance('plex', 'plx'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });
  test('typos, containment, best first, at most three', () => {
    const names = ['karakeep', 'paperless-ngx', 'media', 'home-assistant', 'open-webui', 'mediaserver', 'medic'];
    assert.deepEqual(nearest('karakep', names), ['karakeep']);
    assert.deepEqual(nearest('paperless', names), ['paperless-ngx']);
    assert.deepEqual(nearest('medai', names), ['media', 'medic']);
    assert.deepEqual(nearest('zzzzzz', names), []);
    assert.ok(nearest('med', ['med1', 'med2', 'med3', 'med4']).length <= 3);
  });
});

describe('joinWithin', () => {
  test('keeps within the budget and says how many were left out', () => {
    const items = Array.from({ length: 500 }, (_, i) => `item-${i}`);
    const out = joinWithin(items, ' · ', 200, (n) => `…and ${n} more`);
    assert.ok(out.length <= 200, String(out.length));
    const shown = out.split(' · ').filter((x) => x.startsWith('item-')).length;
    assert.match(out, new RegExp(`…and ${500 - shown} more$`));
    assert.equal(joinWithin(['a', 'b'], ', ', 100, () => 'x'), 'a, b');
  });
});
