import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, registerSecret, scrub } from '../../src/log.ts';
import { registerRepositoryCredentials } from '../../src/restic/environment.ts';
import { AuditLog } from '../../src/audit.ts';

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

test('a tenant Secret with setting-like values and user IDs does not alter later log lines', () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'info', destination: stream, env: {} });
  // A repository Secret as a tenant may write it: settings, flags and names next to the password.
  registerRepositoryCredentials({
    RESTIC_REPOSITORY: 'true',
    RESTIC_PASSWORD: 'U0ALICE',
    AWS_ACCESS_KEY_ID: 'U0BOBBY123',
    AWS_DEFAULT_REGION: 'info',
    RESTIC_REST_USERNAME: 'backup-bot',
    AWS_SESSION_TOKEN: '12345678',
    RCLONE_CONFIG_REMOTE_TYPE: 'level',
  });
  const audit = new AuditLog(log);
  audit.record({ actor: { id: 'U0ALICE', name: 'alice', via: 'slack' }, action: 'restic.unlock', target: 'media/plex', outcome: 'succeeded', detail: 'removed 1 lock, retry true' });
  log.info({ ok: true, user: 'U0BOBBY123', pid: 12345678, host: 'backup-bot' }, 'info line for U0ALICE at level true');
  assert.equal(lines.length, 2);
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(parsed[0]!.who, 'U0ALICE');
  assert.equal(parsed[0]!.detail, 'removed 1 lock, retry true');
  assert.equal(parsed[0]!.audit, true);
  assert.equal(parsed[1]!.msg, 'info line for U0ALICE at level true');
  assert.equal(parsed[1]!.ok, true);
  assert.equal(parsed[1]!.user, 'U0BOBBY123');
  assert.equal(parsed[1]!.pid, 12345678);
  assert.equal(parsed[1]!.host, 'backup-bot');
  assert.ok(!lines.join('').includes('REDACTED'), lines.join(''));
});

test('repository credentials are scrubbed from messages, nested objects and errors, and every line stays JSON', () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'info', destination: stream, env: {} });
  const password = 'Tenant"Pass\\word-8841';
  const awsSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const restPassword = 'rest-pw-Zq81x';
  registerRepositoryCredentials({
    RESTIC_REPOSITORY: `rest:https://backup:${restPassword}@rest.example:8000/plex`,
    RESTIC_PASSWORD: password,
    AWS_SECRET_ACCESS_KEY: awsSecret,
  });
  log.info(`restic said ${password}`);
  log.warn({ deep: { deeper: { list: [`key ${awsSecret}`, { x: password }] } } }, 'nested');
  log.error({ err: new Error(`Fatal: wrong password ${password} for ${awsSecret}`) }, 'error object');
  log.error(new Error(`stat failed: ${awsSecret}`));
  log.info({ url: `https://backup:${restPassword}@rest.example:8000/plex` }, 'a URL with the REST password');
  log.info({ err: new Error('not a secret'), ok: true }, 'innocent');
  assert.equal(lines.length, 6);
  const all = lines.join('');
  for (const line of lines) JSON.parse(line);
  for (const secret of [password, JSON.stringify(password).slice(1, -1), awsSecret, restPassword]) {
    assert.ok(!all.includes(secret), `leaked ${secret.slice(0, 6)}...`);
  }
  const errLine = JSON.parse(lines[2]!) as { err: { message: string; stack: string; type: string } };
  assert.equal(errLine.err.type, 'Error');
  assert.match(errLine.err.message, /^Fatal: wrong password \[REDACTED\] for \[REDACTED\]$/);
  assert.match(errLine.err.stack, /\[REDACTED\]/);
  const innocent = JSON.parse(lines[5]!) as { err: { message: string }; ok: boolean };
  assert.equal(innocent.err.message, 'not a secret');
  assert.equal(innocent.ok, true);
});
