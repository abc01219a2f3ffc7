// POST /alertmanager on the bot's HTTP server: token, payload validation, back-pressure.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import pino from 'pino';
import { HttpServer } from '../../src/http/server.ts';
import { bearerMatches, mountWebhook } from '../../src/alerts/webhook-route.ts';
import { crashLoopPayload, webhookServer } from './alertmanager-fixtures.ts';

const TOKEN = 'webhook-token-for-tests-7f2a';
const log = pino({ level: 'silent' });

const body = (groupKey: string, fingerprints: string[]) => JSON.stringify(crashLoopPayload(groupKey, fingerprints.map((fp) => [fp, 'firing'])));

describe('bearerMatches', () => {
  it('accepts only the exact token', () => {
    assert.equal(bearerMatches(`Bearer ${TOKEN}`, TOKEN), true);
    assert.equal(bearerMatches(`bearer ${TOKEN}`, TOKEN), true);
    assert.equal(bearerMatches(`Bearer ${TOKEN}x`, TOKEN), false);
    assert.equal(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN), false);
    assert.equal(bearerMatches(undefined, TOKEN), false);
    assert.equal(bearerMatches('Basic abc', TOKEN), false);
    assert.equal(bearerMatches('Bearer ', TOKEN), false);
  });
});

describe('POST /alertmanager', () => {
  const hook = webhookServer(TOKEN, 3);
  const { queue } = hook;

  const post = (b: string, auth: string | null = `Bearer ${TOKEN}`) =>
    fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: b });

  it('answers 401 without the token or with a wrong one, and queues nothing', async () => {
    assert.equal((await post(body('g', ['a']), null)).status, 401);
    const wrong = await post(body('g', ['a']), 'Bearer nope');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer');
    assert.equal(queue.depth, 0);
  });

  it('answers 401 on the headers alone: an unauthenticated upload that never sends its body is answered at once', async () => {
    const { port } = new URL(hook.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/alertmanager', method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': 5 * 1024 * 1024 } });
      req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.flushHeaders();
      setTimeout(() => reject(new Error('no answer within 2 s: the body was awaited before the token was checked')), 2000).unref();
    });
    assert.equal(status, 401);
    assert.equal(queue.depth, 0);
  });

  it('answers 400 with a short reason for a body that is not a version 4 payload', async () => {
    const notJson = await post('{nope');
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: string }).error, /not JSON/);
    const v3 = await post(JSON.stringify({ ...JSON.parse(body('g', ['a'])), version: '3' }));
    assert.equal(v3.status, 400);
    assert.match(((await v3.json()) as { error: string }).error, /version/);
    const noFp = JSON.parse(body('g', ['a']));
    delete noFp.alerts[0].fingerprint;
    const r = await post(JSON.stringify(noFp));
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /alerts\[0\]\.fingerprint/);
    assert.equal(queue.depth, 0);
  });

  it('answers 413 for a body over the limit', async () => {
    const huge = 'x'.repeat(6 * 1024 * 1024);
    const r = await post(huge);
    assert.equal(r.status, 413);
  });

  it('queues a valid payload (200), then answers 503 when the queue is full, and 200 again once it drained', async () => {
    const ok = await post(body('g1', ['a', 'b']));
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true, queued: 2 });
    const full = await post(body('g2', ['c', 'd']));
    assert.equal(full.status, 503);
    assert.equal(queue.depth, 2, 'the refused notification was not queued');
    queue.done(queue.take()!);
    assert.equal((await post(body('g2', ['c', 'd']))).status, 200);
  });

  it('is not mounted without a token, and says why', async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
    const s = new HttpServer(capture);
    assert.equal(mountWebhook({ server: s, token: undefined, log: capture, offer: () => ({ accepted: true, depth: 0 }) }), false);
    const port = await s.listen(0, '127.0.0.1');
    const r = await fetch(`http://127.0.0.1:${port}/alertmanager`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 404);
    await s.close();
    assert.match(lines.join('\n'), /ALERTMANAGER_WEBHOOK_TOKEN is not set/);
  });
});

describe('POST /alertmanager when empty notifications fill the queue', () => {
  const hook = webhookServer(TOKEN, 3);

  it('each empty group takes a place: the fourth is answered 503 so Alertmanager retries', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(hook.url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: body(`empty-${i}`, []) });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 200, 503, 503]);
  });
});
