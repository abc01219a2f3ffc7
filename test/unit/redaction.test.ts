import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, registerSecret, scrub } from '../../src/log.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

test('no token or secret value reaches a log line, at any level, by key or inside a message', () => {
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdefghijklmnop',
    SLACK_APP_TOKEN: 'xapp-1-A111-222-deadbeefdeadbeef',
    SLACK_SIGNING_SECRET: 'signing-secret-value-123',
    ALERTMANAGER_WEBHOOK_TOKEN: 'webhook-token-value-456',
  };
  const { lines, stream } = capture();
  const log = createLogger({ level: 'trace', destination: stream, env });
  registerSecret('restic-password-789');
  log.trace({ token: env.SLACK_BOT_TOKEN }, 'trace');
  log.debug({ headers: { authorization: `Bearer ${env.ALERTMANAGER_WEBHOOK_TOKEN}` } }, 'debug');
  log.info(`connecting with ${env.SLACK_APP_TOKEN}`);
  log.warn({ err: new Error(`restic failed: password restic-password-789 rejected`) }, 'warn');
  log.error({ env: { RESTIC_PASSWORD: 'restic-password-789', AWS_SECRET_ACCESS_KEY: 'aws-secret-000' } }, 'error');
  log.fatal({ nested: { deeper: { signingSecret: env.SLACK_SIGNING_SECRET } } }, `secret ${env.SLACK_SIGNING_SECRET}`);
  log.info({ data: { RESTIC_PASSWORD: Buffer.from('restic-password-789').toString('base64') } }, 'secret object');
  log.info({ anyKey: 'xoxb-9999-8888-unregisteredtokenvalue' }, 'a token nobody registered');
  const all = lines.join('');
  assert.equal(lines.length, 8);
  for (const secret of [...Object.values(env), 'restic-password-789', 'aws-secret-000', 'xoxb-9999-8888-unregisteredtokenvalue', Buffer.from('restic-password-789').toString('base64')]) {
    assert.ok(!all.includes(secret), `leaked ${secret.slice(0, 6)}...`);
  }
  assert.match(all, /\[REDACTED\]/);
});

test('scrub also removes the JSON-escaped form of a secret', () => {
  registerSecret('pa"ss\\word');
  assert.equal(scrub(JSON.stringify({ m: 'x pa"ss\\word y' })).includes('pa\\"ss'), false);
});
