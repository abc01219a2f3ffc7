/**
 * Seeding helpers shared by the benches: a private API server with a client for it, a keep-alive
 * HTTPS client for the harness's API server, a bounded-parallel pool, and `must` (a create that
 * already exists is fine).
 */
import { Agent, request } from 'node:https';
import { startKube } from '../test/harness/kube/start-kube.ts';
import type { KubeHarness } from '../test/harness/kube/start-kube.ts';
import { readKubeconfig } from '../test/harness/kube/kubeconfig.ts';

export interface Api {
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: string }>;
}

export function apiClient(server: string, token: string, ca: string, maxSockets: number): Api {
  // Keep-alive connections: seeding is thousands of small requests.
  const agent = new Agent({ keepAlive: true, maxSockets, ca });
  return {
    call(method, path, body, contentType = 'application/json') {
      return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request(new URL(path, server), {
          method, agent,
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(payload ? { 'Content-Type': contentType } : {}) },
        }, (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (data += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        });
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}

export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export async function must(api: Api, method: string, path: string, body?: unknown, contentType?: string): Promise<void> {
  const res = await api.call(method, path, body, contentType);
  if (res.status >= 300 && res.status !== 409) throw new Error(`${method} ${path}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
}

/** Runs `bench` against a private real API server (the test harness) and a seeding client for it, then stops the server. */
export async function withApiServer(concurrency: number, info: (line: string) => void, bench: (kube: KubeHarness, api: Api) => Promise<void>): Promise<void> {
  info('starting a private API server');
  const kube = await startKube({ log: (l) => info(l) });
  try {
    const parts = await readKubeconfig(kube.kubeconfigPath);
    await bench(kube, apiClient(parts.server, parts.token, parts.caPem, concurrency));
  } finally {
    await kube.stop();
  }
}
