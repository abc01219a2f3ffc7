import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redact } from '../../src/restic/redact.ts';

describe('redact', () => {
  it('replaces every secret value with a label naming its key', () => {
    const text = 'Fatal: unable to open repo s3:https://minio.local/bucket with key AKIAEXAMPLE and secret wJalrXUtnFEMI';
    const out = redact(text, {
      RESTIC_REPOSITORY: 's3:https://minio.local/bucket',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI',
    });
    assert.equal(out, 'Fatal: unable to open repo [redacted RESTIC_REPOSITORY] with key [redacted AWS_ACCESS_KEY_ID] and secret [redacted AWS_SECRET_ACCESS_KEY]');
  });

  it('replaces the longer value first so a value inside another leaves nothing behind', () => {
    const out = redact('url rest:https://user:hunter22@host/repo', {
      RESTIC_REST_PASSWORD: 'hunter22',
      RESTIC_REPOSITORY: 'rest:https://user:hunter22@host/repo',
    });
    assert.equal(out, 'url [redacted RESTIC_REPOSITORY]');
  });

  it('catches percent-encoded and JSON-escaped spellings', () => {
    const password = 'p@ss/word "quoted"';
    const out = redact(`GET https://u:${encodeURIComponent(password)}@h/ and ${JSON.stringify(password)}`, { RESTIC_PASSWORD: password });
    assert.ok(!out.includes(encodeURIComponent(password)));
    assert.ok(!out.includes(JSON.stringify(password).slice(1, -1)));
    assert.ok(!out.includes(password));
  });

  it('catches a line of a multi-line credential echoed on its own', () => {
    const json = '{\n  "type": "service_account",\n  "private_key_id": "0123456789abcdef"\n}';
    const out = redact('bad key: "private_key_id": "0123456789abcdef"', { GOOGLE_APPLICATION_CREDENTIALS: json });
    assert.ok(!out.includes('0123456789abcdef'), out);
  });

  it('treats regular-expression characters in values literally', () => {
    assert.equal(redact('a.*b and a+b', { RESTIC_PASSWORD: 'a.*b' }), '[redacted RESTIC_PASSWORD] and a+b');
  });

  it('leaves plain settings alone, so a region or a concurrency does not garble the text', () => {
    const out = redact('PID 2 in us-east-1 with secret s3cr3t-value', {
      AWS_DEFAULT_REGION: 'us-east-1',
      RESTIC_READ_CONCURRENCY: '2',
      RESTIC_PASSWORD: 's3cr3t-value',
    });
    assert.equal(out, 'PID 2 in us-east-1 with secret [redacted RESTIC_PASSWORD]');
  });

  it('replaces a very short value where it stands alone, not inside words', () => {
    assert.equal(redact('user u failed: unexpected', { RESTIC_REST_USERNAME: 'u' }), 'user [redacted RESTIC_REST_USERNAME] failed: unexpected');
  });

  it('does not rescan its own labels', () => {
    assert.equal(redact('x secret x', { RESTIC_PASSWORD: 'secret', RESTIC_REST_PASSWORD: 'redacted' }), 'x [redacted RESTIC_PASSWORD] x');
  });

  it('takes a bare list of values', () => {
    assert.equal(redact('token abc123def and abc123def', ['abc123def']), 'token [redacted] and [redacted]');
  });

  it('ignores empty values and empty input', () => {
    assert.equal(redact('nothing to hide', { RESTIC_PASSWORD: '' }), 'nothing to hide');
    assert.equal(redact('', { RESTIC_PASSWORD: 'pw-long' }), '');
  });
});
