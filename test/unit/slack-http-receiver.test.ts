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

describe('VerifiedHttpReceiver: the ack goes out before the work, which waits in a bounded queue', () => {
  // A stand-in for Bolt's App: only processEvent is called by the receiver.
  type Processed = { body: Record<string, unknown>; ack: (r?: unknown) => Promise<void> };
  let server: HttpServer;
  let receiver: VerifiedHttpReceiver;
  let url: string;
  let processed: Processed[];
  let hold: Promise<void>;
  let release: () => void;
  let replyServer: import('node:http').Server;
  let responseUrl: string;
  let replies: Array<Record<string, unknown>>;

  before(async () => {
    const { createServer } = await import('node:http');
    replies = [];
    replyServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { replies.push(JSON.parse(Buffer.concat(chunks).toString('utf8'))); res.end(); });
    });
    await new Promise<void>((r) => replyServer.listen(0, '127.0.0.1', r));
    responseUrl = `http://127.0.0.1:${(replyServer.address() as import('node:net').AddressInfo).port}/response/r1`;
  });
  after(() => { replyServer.closeAllConnections(); replyServer.close(); });

  const start = async (work: { concurrency: number; backlog: number }) => {
    processed = [];
    replies.length = 0;
    hold = new Promise<void>((r) => { release = r; });
    server = new HttpServer(log);
    receiver = new VerifiedHttpReceiver({ signingSecret: SECRET, server, log, work });
    receiver.init({
      processEvent: async (event: Processed) => {
        processed.push(event);
        await hold;
      },
    } as unknown as import('@slack/bolt').App);
    url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}/slack/events`;
  };
  const stop = async () => { release(); await receiver.stop(); await server.close(); };

  const send = (body: string, contentType: string) => {
    const timestamp = Math.floor(Date.now() / 1000);
    return fetch(url, { method: 'POST', body, headers: { 'content-type': contentType, 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signSlackRequest(SECRET, timestamp, body) } });
  };
  let n = 0;
  const command = () => send(new URLSearchParams({ command: '/backup', text: `status ${++n}`, user_id: 'U1', channel_id: 'C1', response_url: responseUrl }).toString(), 'application/x-www-form-urlencoded');
  const click = () => send(new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', n: ++n, response_url: responseUrl, actions: [] }) }).toString(), 'application/x-www-form-urlencoded');
  const event = () => send(JSON.stringify({ type: 'event_callback', event_id: `Ev${++n}`, event: { type: 'message' } }), 'application/json');

  it('acks a slash command and a click with an empty 200 while their work has not finished', async () => {
    await start({ concurrency: 4, backlog: 10 });
    try {
      for (const send1 of [command, click]) {
        const res = await send1();
        assert.equal(res.status, 200);
        assert.equal(await res.text(), '');
      }
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(processed.length, 2, 'both were handed to Bolt after their acks');
      assert.equal(receiver.work.running, 2);
      release();
      await receiver.work.idle();
    } finally {
      await stop();
    }
  });

  it('an event is acked only after Bolt has it, never queued: a stop or a crash cannot lose an event Slack was told arrived', async () => {
    await start({ concurrency: 1, backlog: 1 });
    try {
      let answered = false;
      const pending = event().then((res) => { answered = true; return res; });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(processed.length, 1, 'handed to Bolt');
      assert.equal(answered, false, 'not acked while its listener runs');
      assert.equal(receiver.work.waiting + receiver.work.running, 0, 'not in the queue');
      release();
      assert.equal((await pending).status, 200);
    } finally {
      await stop();
    }
  });

  it('when the backlog is full: a command is answered "busy, nothing was done" in its ack, a click through its response_url', async () => {
    await start({ concurrency: 1, backlog: 1 });
    try {
      assert.equal((await command()).status, 200); // runs (held)
      await new Promise((r) => setTimeout(r, 20));
      assert.equal((await command()).status, 200); // waits
      assert.equal(receiver.work.waiting, 1);

      const busyCommand = await command();
      assert.equal(busyCommand.status, 200);
      const body = await busyCommand.json() as { response_type: string; text: string };
      assert.equal(body.response_type, 'ephemeral');
      assert.match(body.text, /busy/);
      assert.match(body.text, /Nothing was done/);

      assert.equal((await click()).status, 200);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(replies.length, 1, 'the refused click was told through its response_url');
      assert.match(String(replies[0]!.text), /busy.*Nothing was done/s);
      assert.equal(replies[0]!.replace_original, false);

      release();
      await receiver.work.idle();
      assert.equal(processed.length, 2, 'the two accepted commands ran; the refused ones did not');
      assert.deepEqual(processed.map((p) => p.body.text), [`status ${n - 3}`, `status ${n - 2}`]);
    } finally {
      await stop();
    }
  });

  it('on stop, a command still waiting is told the bot was restarting and that nothing was done', async () => {
    await start({ concurrency: 1, backlog: 5 });
    try {
      await command();
      await new Promise((r) => setTimeout(r, 20));
      await command();
      assert.equal(receiver.work.waiting, 1);
      const stopped = receiver.stop();
      release();
      await stopped;
      assert.equal(processed.length, 1);
      assert.equal(replies.length, 1);
      assert.match(String(replies[0]!.text), /restarting.*Nothing was done/s);
    } finally {
      await server.close();
    }
  });

  it('a listener that acks with a body after the ack went out has it delivered through the response_url', async () => {
    await start({ concurrency: 1, backlog: 5 });
    try {
      release();
      await command();
      await receiver.work.idle();
      await processed[0]!.ack({ response_type: 'ephemeral', text: 'late answer' });
      assert.deepEqual(replies, [{ response_type: 'ephemeral', text: 'late answer' }]);
    } finally {
      await stop();
    }
  });

  it('still verifies first: an unsigned or replayed command is refused 401 and never queued', async () => {
    await start({ concurrency: 1, backlog: 5 });
    try {
      const body = new URLSearchParams({ command: '/backup', text: 'status', response_url: responseUrl }).toString();
      const unsigned = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(unsigned.status, 401);
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signSlackRequest(SECRET, timestamp, body) };
      assert.equal((await fetch(url, { method: 'POST', body, headers })).status, 200);
      assert.equal((await fetch(url, { method: 'POST', body, headers })).status, 401);
      const forged = await fetch(url, { method: 'POST', body: body + '&x=1', headers });
      assert.equal(forged.status, 401);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(processed.length, 1);
    } finally {
      await stop();
    }
  });
});
