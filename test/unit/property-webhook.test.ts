// Property tests for POST /alertmanager: any body, from arbitrary JSON to a valid version-4
// payload with any field swapped for any value, gets an answer (queued, invalid, or retry later),
// never a 500 and never a crash; valid payloads are always queued.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { webhookServer } from './alertmanager-fixtures.ts';

const TOKEN = 'property-webhook-token-3b9e';

const alert = fc.record({
  status: fc.constantFrom('firing', 'resolved'),
  labels: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 60 }), { maxKeys: 6 }),
  annotations: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 200 }), { maxKeys: 3 }),
  startsAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  endsAt: fc.constant('0001-01-01T00:00:00Z'),
  generatorURL: fc.string({ maxLength: 40 }),
  fingerprint: fc.string({ minLength: 1, maxLength: 16 }),
});
const valid = fc.record({
  version: fc.constant('4'),
  groupKey: fc.string({ minLength: 1, maxLength: 120 }),
  truncatedAlerts: fc.nat(5),
  status: fc.constantFrom('firing', 'resolved'),
  receiver: fc.string({ maxLength: 20 }),
  groupLabels: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
  commonLabels: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
  commonAnnotations: fc.constant({}),
  externalURL: fc.string({ maxLength: 60 }),
  alerts: fc.array(alert, { minLength: 1, maxLength: 4 }),
});
// A valid payload with one field replaced by anything JSON can carry.
const mutated = fc.tuple(valid, fc.constantFrom('version', 'groupKey', 'status', 'alerts', 'groupLabels', 'commonLabels', 'externalURL', 'truncatedAlerts'), fc.jsonValue())
  .map(([p, k, v]) => ({ ...p, [k]: v }));

describe('POST /alertmanager under arbitrary input', () => {
  const hook = webhookServer(TOKEN, 100_000);

  const post = async (body: string) => {
    const res = await fetch(hook.url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
    const json = (await res.json()) as { ok?: unknown };
    return { status: res.status, json };
  };

  it('answers every body with 200, 400 or 503 — never a 500 — and says whether it was queued', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), mutated.map((m) => JSON.stringify(m)), fc.string({ maxLength: 300 })), async (body) => {
        const { status, json } = await post(body);
        assert.ok([200, 400, 503].includes(status), `status ${status} for ${body.slice(0, 200)}`);
        assert.equal(typeof json.ok, 'boolean');
        assert.equal(json.ok, status === 200);
      }),
      { numRuns: 400 },
    );
  });

  it('queues every valid version-4 payload', async () => {
    await fc.assert(
      fc.asyncProperty(valid, async (payload) => {
        const { status } = await post(JSON.stringify(payload));
        assert.equal(status, 200);
      }),
      { numRuns: 200 },
    );
  });
});
