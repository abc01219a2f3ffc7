// The bot's HTTP listener spends memory on a body only for an authorised caller, within the limits.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { HttpServer, sendJson } from '../../src/http/server.ts';

const log = pino({ level: 'silent' });
const MAX = 64 * 1024;

interface Upload {
  req: ClientRequest;
  /** Resolves with the response (status, headers, body) as soon as the server answers. */
  response: Promise<{ status: number; headers: IncomingMessage['headers']; body: string; afterMs: number }>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/** A POST that sends its headers at once and its body only when the test writes it. */
function upload(port: number, path: string, headers: Record<string, string | number>): Upload {
  const started = Date.now();
  const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false });
  req.on('error', () => {});
  const closed = new Promise<void>((resolve) => req.once('close', () => resolve()));
  const response = new Promise<{ status: number; headers: IncomingMessage['headers']; body: string; afterMs: number }>((resolve, reject) => {
    req.once('response', (res) => {
      const afterMs = Date.now() - started;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, afterMs }));
      res.on('error', reject);
    });
    req.once('error', reject);
  });
  req.flushHeaders();
  return { req, response, closed };
}

/** Fails instead of waiting for the server's 30 s request timeout. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref())]);
}

describe('HttpServer: nothing is read before the caller is authorised', () => {
  let server: HttpServer;
  let port: number;
  const handled: number[] = [];
  const release: Array<() => void> = [];

  before(async () => {
    server = new HttpServer(log);
    server.route('POST', '/guarded', (_req, res, body) => {
      handled.push(body.length);
      sendJson(res, 200, { ok: true, bytes: body.length });
    }, {
      maxBody: MAX,
      maxConcurrentUploads: 2,
      authorize: (req) => (req.headers.authorization === 'Bearer right' ? undefined : { status: 401, error: 'no', headers: { 'www-authenticate': 'Bearer' } }),
    });
    port = await server.listen(0, '127.0.0.1');
  });
  after(async () => {
    for (const r of release) r();
    await server.close();
  });

  it('answers 401 to a request that sends its headers and never its body, at once, and drops the connection', async () => {
    const u = upload(port, '/guarded', { 'content-length': MAX, 'content-type': 'application/json' });
    const res = await within(2000, u.response, 'unauthenticated upload');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    assert.equal(res.headers.connection, 'close');
    await within(2000, u.closed, 'connection close');
    assert.deepEqual(handled, []);
  });

  it('answers 401 while a slow unauthenticated upload is still sending, without reading it to the end', async () => {
    const u = upload(port, '/guarded', { 'content-length': MAX, 'content-type': 'application/json' });
    u.req.write(Buffer.alloc(1024));
    const res = await within(2000, u.response, 'slow unauthenticated upload');
    assert.equal(res.status, 401);
    await within(2000, u.closed, 'connection close');
    assert.deepEqual(handled, []);
  });

  it('answers 413 at once to a declared Content-Length over the limit, before any body arrives', async () => {
    const u = upload(port, '/guarded', { 'content-length': MAX + 1, authorization: 'Bearer right' });
    const res = await within(2000, u.response, 'oversize Content-Length');
    assert.equal(res.status, 413);
    assert.match(res.body, /larger than 65536 bytes/);
    await within(2000, u.closed, 'connection close');
    assert.deepEqual(handled, []);
  });

  it('answers 413 as soon as a streamed (chunked) body passes the limit, while the client is still sending', async () => {
    const u = upload(port, '/guarded', { 'transfer-encoding': 'chunked', authorization: 'Bearer right' });
    u.req.write(Buffer.alloc(MAX / 2));
    u.req.write(Buffer.alloc(MAX / 2 + 1));
    // The client never ends the body: the answer must not wait for it.
    const res = await within(2000, u.response, 'oversize streamed body');
    assert.equal(res.status, 413);
    await within(2000, u.closed, 'connection close');
    assert.deepEqual(handled, []);
  });

  it('reads at most maxConcurrentUploads bodies at a time; the next one gets 503 with Retry-After, later ones get through', async () => {
    const slow = [0, 1].map(() => upload(port, '/guarded', { 'content-length': 10, authorization: 'Bearer right' }));
    for (const u of slow) u.req.write('01234');
    // Both are now being read (the server has their headers and half their bodies).
    await new Promise((r) => setTimeout(r, 200));
    const third = upload(port, '/guarded', { 'content-length': 10, authorization: 'Bearer right' });
    const res = await within(2000, third.response, 'upload beyond the cap');
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    for (const u of slow) u.req.end('56789');
    const done = await Promise.all(slow.map((u) => within(2000, u.response, 'capped upload')));
    assert.deepEqual(done.map((d) => d.status), [200, 200]);
    const again = upload(port, '/guarded', { 'content-length': 2, authorization: 'Bearer right' });
    again.req.end('{}');
    assert.equal((await within(2000, again.response, 'upload after the cap freed')).status, 200);
    assert.deepEqual(handled, [10, 10, 2]);
  });

  it('an upload the client abandons mid-body frees its place under the cap', async () => {
    handled.length = 0;
    const abandoned = [0, 1].map(() => upload(port, '/guarded', { 'content-length': 10, authorization: 'Bearer right' }));
    for (const u of abandoned) {
      u.response.catch(() => {});
      u.req.write('01234');
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const u of abandoned) u.req.destroy();
    await Promise.all(abandoned.map((u) => u.closed));
    await new Promise((r) => setTimeout(r, 100));
    const next = [0, 1].map(() => upload(port, '/guarded', { 'content-length': 2, authorization: 'Bearer right' }));
    for (const u of next) u.req.end('{}');
    const done = await Promise.all(next.map((u) => within(2000, u.response, 'upload after abandoned ones')));
    assert.deepEqual(done.map((d) => d.status), [200, 200]);
    assert.deepEqual(handled, [2, 2]);
  });

  it('an authorised body within the limit reaches the handler whole', async () => {
    handled.length = 0;
    const res = await fetch(`http://127.0.0.1:${port}/guarded`, { method: 'POST', headers: { authorization: 'Bearer right' }, body: Buffer.alloc(MAX) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, bytes: MAX });
  });
});
