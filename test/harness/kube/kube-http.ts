// Minimal HTTPS calls the harness needs before any client library is configured (readiness,
// bootstrap namespace). Everything else goes through kubectl or @kubernetes/client-node.
import { request } from 'node:https';

export interface KubeEndpoint {
  server: string;
  token: string;
  ca: string;
}

export interface KubeResponse {
  status: number;
  body: string;
}

export function kubeRequest(ep: KubeEndpoint, method: string, path: string, body?: unknown): Promise<KubeResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      new URL(path, ep.server),
      {
        method,
        ca: ep.ca,
        timeout: 10_000,
        headers: {
          Authorization: `Bearer ${ep.token}`,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json' } : {}),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
