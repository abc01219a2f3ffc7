import { test } from 'node:test';
import assert from 'node:assert/strict';
import nock from 'nock';
import pino from 'pino';
import { AccessControl } from '../../src/access.ts';
import { createWebClient } from '../../src/slack/web-client.ts';
import { verifySlackSignature } from '../../src/slack/verify.ts';
import { createHmac } from 'node:crypto';

const log = pino({ level: 'silent' });

test('operators are configured users or members of configured user groups, resolved once and cached', async () => {
  nock.disableNetConnect();
  const scope = nock('https://slack.test')
    .post('/api/usergroups.users.list', (body) => body.usergroup === 'S0123SRE')
    .once()
    .reply(200, { ok: true, users: ['U0BOB'] });
  const client = createWebClient('xoxb-test', { slackApiUrl: 'https://slack.test/api/', log });
  let now = 0;
  const access = new AccessControl({
    operators: { users: ['U0ALICE'], groups: ['S0123SRE'] },
    channels: ['C0OPS'],
    groups: { members: async (g) => (await client.usergroups.users.list({ usergroup: g })).users ?? [] },
    log,
    now: () => now,
  });
  assert.equal(await access.isOperator({ id: 'U0ALICE', via: 'slack' }), true);
  assert.equal(await access.isOperator({ id: 'U0BOB', via: 'slack' }), true);
  assert.equal(await access.isOperator({ id: 'U0EVE', via: 'slack' }), false);
  assert.match((await access.checkOperator({ id: 'U0EVE', via: 'slack' }))!, /Only operators can do that/);
  assert.equal(await access.checkOperator({ id: 'terminal:me', via: 'terminal' }), undefined);
  scope.done();
  // After the cache expires the group is asked again; if Slack then fails, the last list stands.
  now = 10 * 60_000;
  nock('https://slack.test').post('/api/usergroups.users.list').reply(200, { ok: false, error: 'missing_scope' });
  assert.equal(await access.isOperator({ id: 'U0BOB', via: 'slack' }), true);
  assert.equal(access.channelAllowed('C0OPS'), true);
  assert.equal(access.channelAllowed('C0RANDOM'), false);
  nock.cleanAll();
  nock.enableNetConnect();
});

test('signature verification rejects timestamps more than 5 minutes off in either direction', () => {
  const secret = 's3cret';
  const body = 'command=%2Fbackup&text=help';
  const sign = (ts: number) => `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const now = 1_800_000_000;
  const check = (ts: number, signature = sign(ts)) => verifySlackSignature({ signingSecret: secret, signature, timestamp: String(ts), body, nowSeconds: now });
  assert.deepEqual(check(now), { ok: true });
  assert.deepEqual(check(now - 299), { ok: true });
  assert.deepEqual(check(now + 299), { ok: true });
  assert.deepEqual(check(now - 301), { ok: false, reason: 'stale-timestamp' });
  assert.deepEqual(check(now + 301), { ok: false, reason: 'future-timestamp' });
  assert.deepEqual(check(now, sign(now - 1)), { ok: false, reason: 'bad-signature' });
  assert.deepEqual(verifySlackSignature({ signingSecret: secret, signature: undefined, timestamp: String(now), body, nowSeconds: now }), { ok: false, reason: 'missing-headers' });
});
