// Replies through a response_url over node:http: what is sent, what is retried, and one kept-alive socket.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ResponseUrlError, postJson, retryingRespond } from '../../src/slack/respond.ts';

interface Seen { method: string | undefined; contentType: string | undefined; body: string }

describe('retryingRespond over node:http', () => {
  let server: Server;
  let url: string;
  let seen: Seen[];
  let sockets: Set<unknown>;
  let answer: (n: number, req: IncomingMessage, res: ServerResponse) => void;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        sockets.add(req.socket);
        seen.push({ method: req.method, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        answer(seen.length, req, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response/abc`;
  });
  after(() => { server.closeAllConnections(); server.close(); });
  beforeEach(() => {
    seen = [];
    sockets = new Set();
    answer = (_n, _req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); };
  });

  it('POSTs the message as JSON, and a string as {text}', async () => {
    const respond = retryingRespond(url);
    const r = await respond({ response_type: 'ephemeral', text: 'héllo <&>' });
    assert.equal(r.status, 200);
    await respond('plain');
    assert.deepEqual(seen, [
      { method: 'POST', contentType: 'application/json', body: JSON.stringify({ response_type: 'ephemeral', text: 'héllo <&>' }) },
      { method: 'POST', contentType: 'application/json', body: JSON.stringify({ text: 'plain' }) },
    ]);
  });

  it('keeps the socket alive: many replies, one connection', async () => {
    for (let i = 0; i < 20; i++) await retryingRespond(url)({ text: `reply ${i}` });
    assert.equal(seen.length, 20);
    assert.equal(sockets.size, 1, 'every reply went over the same socket');
  });

  it('retries a 5xx and a 429 (after its Retry-After, capped) and then succeeds', async () => {
    answer = (n, _req, res) => {
      if (n === 1) { res.writeHead(503); res.end(); return; }
      if (n === 2) { res.writeHead(429, { 'retry-after': '30' }); res.end(); return; }
      res.writeHead(200); res.end();
    };
    const started = Date.now();
    const r = await retryingRespond(url, { backoffMs: 10, maxRetryAfterMs: 50 })({ text: 'x' });
    assert.equal(r.status, 200);
    assert.equal(seen.length, 3);
    assert.ok(Date.now() - started >= 50, 'waited the (capped) Retry-After');
  });

  it('gives up at once on a 4xx other than 429 (used_url, invalid_blocks), with the status', async () => {
    answer = (_n, _req, res) => { res.writeHead(404); res.end('{"ok":false,"error":"used_url"}'); };
    await assert.rejects(retryingRespond(url, { backoffMs: 10 })({ text: 'x' }), (err: unknown) => err instanceof ResponseUrlError && err.status === 404);
    assert.equal(seen.length, 1);
  });

  it('times out an attempt that gets no answer, retries it, and says so when every attempt timed out', async () => {
    answer = () => { /* never answers */ };
    await assert.rejects(
      retryingRespond(url, { attempts: 2, timeoutMs: 100, backoffMs: 10 })({ text: 'x' }),
      (err: unknown) => err instanceof ResponseUrlError && err.status === undefined && /no answer within 100 ms/.test(err.message),
    );
    assert.equal(seen.length, 2);
  });

  it('reports a refused connection as a network error, never the URL (it is a credential)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/response/secret-token`;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(retryingRespond(dead, { attempts: 2, backoffMs: 5 })({ text: 'x' }), (err: unknown) => {
      assert.ok(err instanceof ResponseUrlError);
      assert.match(err.message, /network error/);
      assert.doesNotMatch(err.message, /secret-token/);
      return true;
    });
    await assert.rejects(postJson(dead, '{}', 1000), /ECONNREFUSED/);
  });
});
