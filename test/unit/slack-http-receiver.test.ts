// /slack/events in HTTP mode: a signed request is accepted once, and only a JSON object is a body.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { HttpServer } from '../../src/http/server.ts';
import { VerifiedHttpReceiver, parseBody } from '../../src/slack/http-receiver.ts';
import { MAX_SKEW_SECONDS, SeenSignatures, checkSlackHeaders } from '../../src/slack/verify.ts';
import { signSlackRequest } from '../harness/slack/request-signature.ts';

const SECRET = 'receiver-unit-test-signing-secret';
const log = pino({ level: 'silent' });

describe('SeenSignatures', () => {
  const sig = (n: number) => `v0=${n.toString(16).padStart(64, '0')}`;

  it('accepts a signature once inside its window and refuses it again', () => {
    const seen = new SeenSignatures();
    assert.equal(seen.remember(sig(1), 1000, 1000), 'fresh');
    assert.equal(seen.has(sig(1), 1000 + MAX_SKEW_SECONDS), true);
    assert.equal(seen.remember(sig(1), 1000, 1000 + MAX_SKEW_SECONDS), 'replayed');
    assert.equal(seen.remember(sig(2), 1000, 1000), 'fresh');
  });

  it('forgets a signature once its timestamp has left the window (the timestamp check refuses it from then on)', () => {
    const seen = new SeenSignatures();
    seen.remember(sig(1), 1000, 1000);
    assert.equal(seen.has(sig(1), 1000 + MAX_SKEW_SECONDS + 1), false);
    assert.deepEqual(checkSlackHeaders({ signature: sig(1), timestamp: '1000', nowSeconds: 1000 + MAX_SKEW_SECONDS + 1 }), { ok: false, reason: 'stale-timestamp' });
    seen.remember(sig(2), 1000 + MAX_SKEW_SECONDS + 10, 1000 + MAX_SKEW_SECONDS + 10);
    assert.equal(seen.size, 1, 'the expired one was pruned');
  });

  it('is bounded: when full of live signatures it refuses new ones instead of forgetting one (which would reopen it to replay)', () => {
    const seen = new SeenSignatures({ max: 3 });
    for (const n of [1, 2, 3]) assert.equal(seen.remember(sig(n), 1000, 1000), 'fresh');
    assert.equal(seen.remember(sig(4), 1000, 1000), 'full');
    assert.equal(seen.remember(sig(1), 1000, 1000), 'replayed');
    assert.equal(seen.size, 3);
    // Once the old ones expire there is room again.
    assert.equal(seen.remember(sig(4), 1400, 1400), 'fresh');
    assert.equal(seen.size, 1);
  });
});

describe('parseBody', () => {
  it('refuses JSON that is not an object, as JSON and as an interaction payload', () => {
    for (const text of ['null', '1', '[]', '"x"', 'true']) {
      assert.throws(() => parseBody('application/json', Buffer.from(text)), SyntaxError, text);
      assert.throws(() => parseBody('application/x-www-form-urlencoded', Buffer.from(new URLSearchParams({ payload: text }).toString())), SyntaxError, text);
    }
    assert.deepEqual(parseBody('application/json', Buffer.from('{"type":"x"}')), { type: 'x' });
  });
});

describe('VerifiedHttpReceiver', () => {
  let server: HttpServer;
  let url: string;
  let port: number;
  let warnings: Array<{ reason?: string; msg: string }>;

  before(async () => {
    warnings = [];
    const capture = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(JSON.parse(line)); } });
    server = new HttpServer(log);
    new VerifiedHttpReceiver({ signingSecret: SECRET, server, log: capture });
    port = await server.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${port}/slack/events`;
  });
  after(() => server.close());

  const signed = (body: string, timestamp = Math.floor(Date.now() / 1000)) => ({
    'content-type': 'application/json',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signSlackRequest(SECRET, timestamp, body),
  });

  it('answers the same signed request once; the replay is refused 401 and logged', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c-1' });
    const headers = signed(body);
    const first = await fetch(url, { method: 'POST', headers, body });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { challenge: 'c-1' });
    const again = await fetch(url, { method: 'POST', headers, body });
    assert.equal(again.status, 401);
    assert.ok(warnings.some((w) => w.reason === 'replayed' && /rejected an unverified request/.test(w.msg)), JSON.stringify(warnings));
  });

  it('answers a signed body that is valid JSON but not an object with 400, not 500', async () => {
    for (const body of ['null', '1', '[]']) {
      const res = await fetch(url, { method: 'POST', headers: signed(body), body });
      assert.equal(res.status, 400, body);
    }
  });

  it('refuses missing, stale and replayed signature headers before the body is read', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c-2' });
    const used = signed(body);
    assert.equal((await fetch(url, { method: 'POST', headers: used, body })).status, 200);
    const now = Math.floor(Date.now() / 1000);
    for (const headers of [
      { 'content-type': 'application/json' },
      { ...signed(body, now - 600) },
      used,
    ]) {
      // Headers with a large Content-Length and no body: the answer must not wait for the body.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST', headers: { ...headers, 'content-length': 500_000 }, agent: false });
        req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        req.on('error', reject);
        req.flushHeaders();
        setTimeout(() => reject(new Error('no answer within 2 s: the body was awaited')), 2000).unref();
      });
      assert.equal(status, 401);
    }
  });
});
