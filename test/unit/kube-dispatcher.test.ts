// client-node authenticates each request with a new undici Agent unless the bot shares one: every
// watch, list and lease renewal would open its own pool and TLS connection. Shared, a pooled
// keep-alive socket can be dead when a request goes out on it (an API-server restart): reads are
// sent once more, writes never.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { HttpMethod, KubeConfig, RequestContext, Watch } from '@kubernetes/client-node';
import { kubeFromConfig } from '../../src/kube/client.ts';
import { isStaleSocketError } from '../../src/kube/dispatcher.ts';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

function kubeconfig(user: { token?: string; certData?: string; keyData?: string }, server = 'https://127.0.0.1:6443'): KubeConfig {
  const kc = new KubeConfig();
  const cluster = server.startsWith('http:') ? { name: 'c', server, skipTLSVerify: true } : { name: 'c', server, caData: CA, skipTLSVerify: false };
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig, method: HttpMethod = HttpMethod.GET): Promise<unknown> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api/v1/pods', method);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

describe('Kubernetes requests share one undici Agent', () => {
  it('two requests with the same TLS options get the same dispatcher', async () => {
    const kube = kubeFromConfig(kubeconfig({ token: 't0ken' }));
    const first = await dispatcherOf(kube.kc);
    assert.ok(first, 'a TLS cluster gets a dispatcher');
    assert.equal(await dispatcherOf(kube.kc), first);
    assert.equal(await dispatcherOf(kube.kc, HttpMethod.PUT), first);
  });

  it('new TLS options (a rotated client certificate) get a new dispatcher', async () => {
    const kc = kubeconfig({ certData: Buffer.from('cert-1').toString('base64'), keyData: Buffer.from('key-1').toString('base64') });
    kubeFromConfig(kc);
    const first = await dispatcherOf(kc);
    kc.users[0] = { ...kc.users[0]!, certData: Buffer.from('cert-2').toString('base64') };
    const rotated = await dispatcherOf(kc);
    assert.notEqual(rotated, first);
    assert.equal(await dispatcherOf(kc), rotated);
  });

  it('kubeFromConfig twice on one KubeConfig still shares', async () => {
    const kc = kubeconfig({ token: 't0ken' });
    kubeFromConfig(kc);
    kubeFromConfig(kc);
    assert.equal(await dispatcherOf(kc), await dispatcherOf(kc));
  });

  it('names the stale-socket errors, and only those', () => {
    assert.ok(isStaleSocketError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })));
    assert.ok(isStaleSocketError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
    assert.ok(isStaleSocketError(new Error('other side closed')));
    assert.ok(!isStaleSocketError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    assert.ok(!isStaleSocketError(new Error('Headers Timeout Error')));
    assert.ok(!isStaleSocketError(undefined));
  });
});

/**
 * A plain-HTTP API server stand-in that answers on keep-alive connections and, when told to,
 * closes a connection as a request arrives on it without answering: what a request written on a
 * socket that an API-server restart had closed sees.
 */
class ClosingServer {
  server: Server | undefined;
  sockets = new Set<Socket>();
  port = 0;
  /** One entry per request: "<connection number> <method> <path>". */
  seen: string[] = [];
  connections = 0;
  /** Decides, per request, whether its connection is closed instead of answered. */
  close: (r: { connection: number; nth: number; method: string; path: string }) => boolean = () => false;
  /** Decides whether a GET is answered with a watch stream that is then cut. */
  watchCut = false;

  async start(): Promise<void> {
    this.server = createServer((socket) => this.#serve(socket, ++this.connections));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  #serve(socket: Socket, connection: number): void {
    let buffered = Buffer.alloc(0);
    let nth = 0;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        const [method = '', path = ''] = head.split(' ');
        nth += 1;
        this.seen.push(`${connection} ${method} ${path}`);
        if (this.close({ connection, nth, method, path })) {
          socket.destroy();
          return;
        }
        if (this.watchCut && path.includes('watch=true')) {
          socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
          const event = JSON.stringify({ type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'p', namespace: 'n', resourceVersion: '2' } } }) + '\n';
          socket.write(`${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`);
          setTimeout(() => socket.destroy(), 50);
          return;
        }
        const body = method === 'GET'
          ? JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] })
          : JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c', namespace: 'n' } });
        socket.write(`HTTP/1.1 ${method === 'POST' ? '201 Created' : '200 OK'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n${body}`);
      }
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

describe('a pooled socket the API server had closed', () => {
  const api = new ClosingServer();
  before(() => api.start());
  after(() => api.stop());
  beforeEach(() => {
    api.seen = [];
    api.close = () => false;
    api.watchCut = false;
  });

  // undici reuses a connection from the next turn of the event loop on.
  const tick = () => new Promise((r) => setTimeout(r, 20));
  const fresh = () => kubeFromConfig(kubeconfig({ token: 't0ken' }, `http://127.0.0.1:${api.port}`));

  it('reads share one connection', async () => {
    const kube = fresh();
    const before = api.connections;
    await kube.core.listNamespacedPod({ namespace: 'n' });
    await tick();
    await kube.core.listNamespacedPod({ namespace: 'n' });
    assert.equal(api.connections - before, 1, api.seen.join('\n'));
  });

  it('a read written on it is sent once more, on a new connection, and succeeds', async () => {
    const kube = fresh();
    await kube.core.listNamespacedPod({ namespace: 'n' });
    const first = Number(api.seen[0]!.split(' ')[0]);
    await tick();
    // The next request on that connection finds it closed, as after a restart.
    api.close = ({ connection, nth }) => connection === first && nth === 2;
    const listed = await kube.core.listNamespacedPod({ namespace: 'n' });
    assert.equal(listed.metadata?.resourceVersion, '1');
    assert.equal(api.seen.length, 3, api.seen.join('\n'));
    assert.notEqual(Number(api.seen[2]!.split(' ')[0]), first, 'the retry went out on a new connection');
  });

  it('a read is sent once more only once: a second stale failure reaches the caller', async () => {
    const kube = fresh();
    api.close = ({ method }) => method === 'GET';
    await assert.rejects(kube.core.listNamespacedPod({ namespace: 'n' }), (err: Error & { cause?: { code?: string } }) => isStaleSocketError(err.cause ?? err));
    assert.equal(api.seen.length, 2, api.seen.join('\n'));
  });

  it('a read to an API server that is down fails at once with the refused connection', async () => {
    const down = new ClosingServer();
    await down.start();
    const port = down.port;
    await down.stop();
    const kube = kubeFromConfig(kubeconfig({ token: 't0ken' }, `http://127.0.0.1:${port}`));
    const outcome = kube.core.listNamespacedPod({ namespace: 'n' }).then(() => 'answered', (err: { cause?: { code?: string } }) => err.cause?.code);
    assert.equal(await Promise.race([outcome, new Promise((r) => setTimeout(() => r('hung'), 5000))]), 'ECONNREFUSED');
  });

  it('a write is never sent twice: its connection closing fails it, once', async () => {
    const kube = fresh();
    api.close = ({ method }) => method !== 'GET';
    await assert.rejects(kube.core.createNamespacedConfigMap({ namespace: 'n', body: { metadata: { name: 'c' } } }));
    await assert.rejects(kube.core.deleteNamespacedConfigMap({ namespace: 'n', name: 'c' }));
    assert.deepEqual(api.seen.map((s) => s.split(' ')[1]), ['POST', 'DELETE']);
  });

  it('a write goes out on a connection of its own, never on a pooled one', async () => {
    const kube = fresh();
    await kube.core.listNamespacedPod({ namespace: 'n' });
    await tick();
    await kube.core.createNamespacedConfigMap({ namespace: 'n', body: { metadata: { name: 'c' } } });
    await tick();
    await kube.core.createNamespacedConfigMap({ namespace: 'n', body: { metadata: { name: 'c' } } });
    const connections = api.seen.map((s) => s.split(' ')[0]);
    assert.equal(new Set(connections).size, 3, api.seen.join('\n'));
  });

  it('a watch cut after its response started is not sent again (the caller restarts it)', async () => {
    const kube = fresh();
    api.watchCut = true;
    const events: string[] = [];
    const done = await new Promise<unknown>((resolve) => {
      void new Watch(kube.kc).watch('/api/v1/pods', {}, (phase, obj: { metadata?: { name?: string } }) => events.push(`${phase} ${obj.metadata?.name}`), resolve);
    });
    assert.deepEqual(events, ['ADDED p']);
    assert.ok(done === null || done instanceof Error, String(done));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(api.seen.filter((s) => s.includes('watch=true')).length, 1, api.seen.join('\n'));
  });
});
