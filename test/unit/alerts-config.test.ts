// The alerts.* configuration keys this feature adds or validates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseFileConfig } from '../../src/config.ts';

describe('alerts configuration', () => {
  it('defaults: a queue of 5000 alerts, silence buttons clickable for 12 hours', () => {
    const c = parseFileConfig({}, 'test');
    assert.equal(c.alerts.queueCapacity, 5000);
    assert.equal(c.alerts.silenceButtonHours, 12);
    assert.deepEqual(c.alerts.patterns, []);
  });

  it('a crash pattern with a bad regex stops start-up naming the field', () => {
    assert.throws(
      () => parseFileConfig({ alerts: { patterns: [{ id: 'mine', title: 'Mine', match: { logRegex: '(' }, cause: 'c', nextStep: 'n' }] } }, 'test.yaml'),
      (err: Error) => err instanceof ConfigError && /alerts\.patterns.*alerts\.patterns\[0\]\.match\.logRegex: not a valid regular expression/.test(err.message),
    );
  });

  it('a valid crash pattern and queue size are accepted', () => {
    const c = parseFileConfig({ alerts: { queueCapacity: 10, patterns: [{ id: 'mine', title: 'Mine', match: { logRegex: 'boom' }, cause: 'c', nextStep: 'n' }] } }, 'test.yaml');
    assert.equal(c.alerts.queueCapacity, 10);
    assert.equal(c.alerts.patterns.length, 1);
    assert.throws(() => parseFileConfig({ alerts: { queueCapacity: 0 } }, 'test.yaml'), /alerts\.queueCapacity/);
  });
});
