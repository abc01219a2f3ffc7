/**
 * The HTTP boundary with the API server, against a small fake on loopback (client-node 2 calls
 * undici's fetch directly, which nock does not intercept): the merge-patch content type, the
 * missing-CRD line, the informer restart after a failed watch, and the follow-up of a manual sync.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { kubeFromConfig } from '../../src/kube/client.ts';
import type { Kube } from '../../src/kube/client.ts';
import { WatchedList } from '../../src/kube/watched-list.ts';
import { backupStatus } from '../../src/backup/status.ts';
import { backupDoctor } from '../../src/backup/doctor.ts';
import { followManualSync } from '../../commands/backup/run.ts';
import { resumeSchedule, triggerManualSync } from '../../src/volsync/trigger.ts';
import { VOLSYNC_MISSING } from '../../src/backup/inventory.ts';
import type { ReplicationSource } from '../../src/backup/objects.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
interface Seen { method: string; url: string; contentType?: string; body: string }

class FakeApiServer {
  server!: Server;
  seen: Seen[] = [];
  routes: Array<{ method: string; path: RegExp; handler: Handler }> = [];
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
      req.on('end', () => {
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
        const route = this.routes.find((r) => r.method === req.method && r.path.test(req.url ?? ''));
        if (route) route.handler(req, res, body);
        else json(res, 404, notFound());
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(method: string, path: RegExp, handler: Handler): void {
    this.routes.unshift({ method, path, handler });
  }

  reset(): void {
    this.routes = [];
    this.seen = [];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** What a real kube-apiserver answers for a resource whose CRD is not installed. */
const notFound = () => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });

function kubeAt(url: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'fake', server: url, skipTLSVerify: true }], users: [{ name: 'u', token: 'fake-token' }], contexts: [{ name: 'c', cluster: 'fake', user: 'u' }], currentContext: 'c' });
  return kubeFromConfig(kc);
}

const log = pino({ level: 'silent' });
const rsObj = (name: string, rv: string, status: Record<string, unknown> = {}): ReplicationSource & { apiVersion: string; kind: string } => ({
  apiVersion: 'volsync.backube/v1alpha1', kind: 'ReplicationSource',
  metadata: { name, namespace: 'apps', resourceVersion: rv, uid: `uid-${name}` },
  spec: { sourcePVC: name, trigger: { schedule: '0 * * * *' } },
  status,
});

describe('API boundary', () => {
  const api = new FakeApiServer();
  let kube: Kube;
  before(async () => {
    await api.start();
    kube = kubeAt(api.url);
  });
  after(() => api.stop());

  test('VolSync not installed: status and doctor say so in one line', async () => {
    api.reset();
    const status = await backupStatus({ kube, now: () => new Date() }, {});
    assert.equal(status.text, VOLSYNC_MISSING);
    assert.equal(status.blocks.length, 1);
    const doctor = await backupDoctor({ kube, pvcLabel: 'backup=hourly', now: () => new Date() }, undefined);
    assert.equal(doctor.text, VOLSYNC_MISSING);
    assert.ok(api.seen.some((s) => s.url.startsWith('/apis/volsync.backube/v1alpha1/replicationsources')));
  });

  test('the manual trigger is a merge patch, conditional on the resourceVersion that was checked', async () => {
    api.reset();
    api.on('PATCH', /^\/apis\/volsync\.backube\/v1alpha1\/namespaces\/apps\/replicationsources\/app/, (_req, res) => json(res, 200, rsObj('app', '43')));
    await triggerManualSync(kube, rsObj('app', '42'), 'tok-1');
    const patch = api.seen.find((s) => s.method === 'PATCH');
    assert.equal(patch?.contentType, 'application/merge-patch+json');
    assert.deepEqual(JSON.parse(patch!.body), { metadata: { resourceVersion: '42' }, spec: { trigger: { manual: 'tok-1' } } });
  });

  test('following a manual sync: done when lastManualSync equals the token; a new failure ends it too', async () => {
    api.reset();
    const states = [rsObj('app', '1', {}), rsObj('app', '2', { conditions: [{ type: 'Synchronizing', status: 'True', reason: 'SyncInProgress' }] }), rsObj('app', '3', { lastManualSync: 'tok-1', lastSyncDuration: '9s' })];
    api.on('GET', /\/replicationsources\/app$/, (_req, res) => json(res, 200, states.length > 1 ? states.shift() : states[0]));
    const ok = await followManualSync(kube, 'apps', 'app', 'tok-1', rsObj('app', '0'), { timeoutMs: 10_000, pollMs: 10 });
    assert.equal(ok.outcome, 'succeeded');

    api.reset();
    const before = rsObj('app', '0', { latestMoverStatus: { result: 'Failed', logs: 'old failure' } });
    const seq = [rsObj('app', '1', { latestMoverStatus: { result: 'Failed', logs: 'old failure' } }), rsObj('app', '2', { latestMoverStatus: { result: 'Failed', logs: 'new failure: repository is already locked' } })];
    api.on('GET', /\/replicationsources\/app$/, (_req, res) => json(res, 200, seq.length > 1 ? seq.shift() : seq[0]));
    const failed = await followManualSync(kube, 'apps', 'app', 'tok-2', before, { timeoutMs: 10_000, pollMs: 10 });
    assert.equal(failed.outcome, 'failed');
    assert.match(failed.outcome === 'failed' ? failed.logs ?? '' : '', /new failure/);

    api.reset();
    api.on('GET', /\/replicationsources\/app$/, (_req, res) => json(res, 200, rsObj('app', '5', {})));
    assert.equal((await followManualSync(kube, 'apps', 'app', 'tok-3', rsObj('app', '0'), { timeoutMs: 100, pollMs: 10 })).outcome, 'timeout');
    api.reset();
    api.on('GET', /\/replicationsources\/app$/, (_req, res) => json(res, 404, { ...notFound(), message: 'replicationsources.volsync.backube "app" not found', details: { name: 'app' } }));
    assert.equal((await followManualSync(kube, 'apps', 'app', 'tok-4', rsObj('app', '0'), { timeoutMs: 5000, pollMs: 10 })).outcome, 'gone');
  });

  test('removing the manual trigger after a sync retries on a 409 conflict, from the re-read source (/backup run and the VolSync unlock)', async () => {
    api.reset();
    const manual = (rv: string) => ({ ...rsObj('app', rv), spec: { sourcePVC: 'app', trigger: { schedule: '0 * * * *', manual: 'tok-9' } } });
    let patches = 0;
    api.on('PATCH', /\/replicationsources\/app$/, (_req, res) => {
      patches++;
      if (patches === 1) json(res, 409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: 'the object has been modified' });
      else json(res, 200, rsObj('app', '12'));
    });
    api.on('GET', /\/replicationsources\/app$/, (_req, res) => json(res, 200, manual('11')));
    const r = await resumeSchedule(kube, manual('10'), 'tok-9');
    assert.deepEqual(r, { outcome: 'resumed', schedule: '0 * * * *' });
    const sent = api.seen.filter((x) => x.method === 'PATCH').map((x) => JSON.parse(x.body));
    assert.deepEqual(sent, [
      { metadata: { resourceVersion: '10' }, spec: { trigger: { manual: null } } },
      { metadata: { resourceVersion: '11' }, spec: { trigger: { manual: null } } },
    ]);
  });

  test('an informer whose watch fails is restarted and resumes from its resourceVersion', async () => {
    api.reset();
    let watches = 0;
    api.on('GET', /^\/apis\/volsync\.backube\/v1alpha1\/replicationsources(\?|$)/, (req, res) => {
      const url = new URL(req.url ?? '', api.url);
      if (url.searchParams.get('watch') !== 'true') {
        json(res, 200, { apiVersion: 'volsync.backube/v1alpha1', kind: 'ReplicationSourceList', metadata: { resourceVersion: '10' }, items: [rsObj('first', '9')] });
        return;
      }
      watches++;
      if (watches === 1) {
        // The API server failing mid-watch (e.g. restarting behind a load balancer).
        json(res, 503, { kind: 'Status', status: 'Failure', code: 503, message: 'unavailable' });
        return;
      }
      assert.equal(url.searchParams.get('resourceVersion'), '10', 'resumes where it was');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: rsObj('second', '11') })}\n`);
    });
    const list = new WatchedList({
      what: 'ReplicationSources', kc: kube.kc, path: '/apis/volsync.backube/v1alpha1/replicationsources', log,
      list: () => kube.custom.listClusterCustomObject({ group: 'volsync.backube', version: 'v1alpha1', plural: 'replicationsources' }) as never,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    list.start();
    const deadline = Date.now() + 10_000;
    while (!(list.synced && list.list().length === 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    try {
      assert.equal(list.state, 'synced');
      assert.deepEqual(list.list().map((o) => o.metadata?.name).sort(), ['first', 'second']);
      assert.ok(list.restarts >= 1);
      assert.ok(watches >= 2);
    } finally {
      await list.stop();
    }
    assert.equal(list.state, 'stopped');
  });

  test('a missing CRD makes the collection absent, not failed, and it is looked for again later', async () => {
    api.reset();
    const list = new WatchedList({
      what: 'Longhorn volumes', kc: kube.kc, path: '/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes', log,
      list: () => kube.custom.listNamespacedCustomObject({ group: 'longhorn.io', version: 'v1beta2', plural: 'volumes', namespace: 'longhorn-system' }) as never,
      backoff: { absentMs: 100 },
    });
    list.start();
    const deadline = Date.now() + 5000;
    while (list.state !== 'absent' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(list.state, 'absent');
    assert.equal(list.settled, true);
    const lists = () => api.seen.filter((s) => s.url.startsWith('/apis/longhorn.io/')).length;
    const first = lists();
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(lists() > first, 'looked again');
    await list.stop();
  });
});
