import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, nearest } from '../../src/backup/nearest.ts';
import { joinWithin } from '../../src/backup/status-reply.ts';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

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
