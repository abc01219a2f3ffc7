// The watch the caches run on (src/kube/line-watch.ts), against a local HTTP server: what
// client-node's ListWatch relies on of a watch, and what WatchedList does with it (bookmarks, a
// 410 Gone re-list, a quiet watch timing out and resuming, stop).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { kubeFromConfig } from '../../src/kube/client.ts';
import type { Kube } from '../../src/kube/client.ts';
import { LineWatch } from '../../src/kube/line-watch.ts';
import { WatchedList } from '../../src/kube/watched-list.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

let server: Server;
let kube: Kube;
let handler: Handler = (_req, res) => res.end();
const seen: string[] = [];
const log = pino({ level: 'silent' });

const pod = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'n', resourceVersion: rv } });
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(url.pathname + url.search);
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't0ken' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  kube = kubeFromConfig(kc);
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen.length = 0;
});

function run(watch: LineWatch, path = '/api/v1/pods', params: Record<string, string> = {}) {
  const events: string[] = [];
  let doneCalls = 0;
  let controller: AbortController | undefined;
  const done = new Promise<unknown>((resolve) => {
    void watch.watch(path, params, (phase, obj) => events.push(`${phase} ${(obj as { metadata?: { name?: string } }).metadata?.name}`), (err) => {
      doneCalls++;
      resolve(err);
    }).then((c) => { controller = c; });
  });
  return { events, done, doneCalls: () => doneCalls, abort: () => controller?.abort() };
}

describe('LineWatch', () => {
  test('one event per line, also split across chunks or several in one; a bad line is skipped; the server closing ends it without an error', async () => {
    handler = (req, res) => {
      assert.equal(req.headers.authorization, 'Bearer t0ken');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const two = line('ADDED', pod('a', '2')) + line('MODIFIED', pod('a', '3'));
      const third = line('DELETED', pod('a', '4'));
      res.write(two);
      res.write(third.slice(0, 10));
      setTimeout(() => {
        res.write(third.slice(10));
        res.write('not json\n');
        res.end(line('ADDED', pod('b', '5')));
      }, 30);
    };
    const w = run(new LineWatch(kube.kc), '/api/v1/pods', { resourceVersion: '1', labelSelector: 'app=x' });
    assert.equal(await w.done, null);
    assert.deepEqual(w.events, ['ADDED a', 'MODIFIED a', 'DELETED a', 'ADDED b']);
    assert.equal(seen[0], '/api/v1/pods?watch=true&resourceVersion=1&labelSelector=app%3Dx');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(w.doneCalls(), 1);
  });

  test('a non-200 answer fails it with the statusCode (410 Gone, 404 for a missing CRD)', async () => {
    for (const code of [410, 404, 403]) {
      handler = (_req, res) => { res.writeHead(code, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ kind: 'Status', code })); };
      const w = run(new LineWatch(kube.kc));
      const err = await w.done as { statusCode?: number };
      assert.equal(err?.statusCode, code);
    }
  });

  test('no byte for the inactivity time ends it with a TimeoutError (ListWatch reconnects at once)', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.write(line('ADDED', pod('a', '2'))); };
    const t0 = Date.now();
    const w = run(new LineWatch(kube.kc, { inactivityMs: 300 }));
    const err = await w.done as Error;
    assert.equal(err?.name, 'TimeoutError');
    assert.ok(Date.now() - t0 >= 250);
    assert.deepEqual(w.events, ['ADDED a']);
  });

  test('abort() ends it once, and no event arrives after', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(line('ADDED', pod('a', '2')));
      setTimeout(() => { if (!res.destroyed) res.write(line('ADDED', pod('late', '3'))); }, 200);
    };
    const w = run(new LineWatch(kube.kc));
    while (w.events.length === 0) await new Promise((r) => setTimeout(r, 10));
    w.abort();
    await w.done;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(w.doneCalls(), 1);
    assert.deepEqual(w.events, ['ADDED a']);
  });
});

describe('WatchedList on LineWatch', () => {
  function podsList(list: () => unknown) {
    return new WatchedList({ what: 'pods', kc: kube.kc, path: '/api/v1/pods', log, list: list as never, backoff: { initialMs: 50, maxMs: 100 } });
  }

  test('a bookmark moves the resourceVersion the next watch resumes from; a 410 Gone re-lists', async () => {
    let lists = 0;
    const watchRvs: string[] = [];
    handler = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') {
        lists++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: lists === 1 ? '10' : '50' }, items: [pod(`listed-${lists}`, '9')] }));
        return;
      }
      watchRvs.push(url.searchParams.get('resourceVersion') ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (watchRvs.length === 1) {
        res.write(line('ADDED', pod('watched', '11')));
        res.end(line('BOOKMARK', { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '20' } }));
      } else if (watchRvs.length === 2) {
        res.end(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 20' }));
      } else {
        res.write(line('ADDED', pod('after-relist', '51')));
      }
    };
    const list = podsList(() => kube.core.listPodForAllNamespaces());
    list.start();
    const deadline = Date.now() + 10_000;
    while (!list.list().some((p) => p.metadata?.name === 'after-relist') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    try {
      assert.deepEqual(watchRvs.slice(0, 3), ['10', '20', '50'], 'resumes from the bookmark, then from the re-list');
      assert.equal(lists, 2, 'the 410 made it list again');
      assert.deepEqual(list.list().map((p) => p.metadata?.name).sort(), ['after-relist', 'listed-2']);
      assert.equal(list.state, 'synced');
    } finally {
      await list.stop();
    }
    assert.equal(list.state, 'stopped');
    const after = seen.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, after, 'nothing is requested after stop');
  });
});
