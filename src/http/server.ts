/**
 * The bot's one HTTP listener, in every mode: /healthz, /readyz and /metrics always; /slack/events
 * in HTTP mode; /alertmanager when alerts are configured. Routes are registered by the parts that
 * own them, so this file knows nothing about Slack or Alertmanager.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> | void;

export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

interface Route {
  method: string;
  path: string;
  handler: RouteHandler;
  maxBody: number;
}

export class HttpError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new HttpError(413, `body larger than ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, `body larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class HttpServer {
  #routes: Route[] = [];
  #checks = new Map<string, ReadinessCheck>();
  #server: Server | undefined;
  #log: Logger;
  #stopping: string | undefined;

  constructor(log: Logger, metrics?: Metrics) {
    this.#log = log;
    this.route('GET', '/healthz', (_req, res) => sendJson(res, 200, { ok: true }));
    this.route('GET', '/readyz', async (_req, res) => {
      const failing: Record<string, string> = {};
      for (const [name, check] of this.#checks) {
        try {
          const problem = await check();
          if (problem) failing[name] = problem;
        } catch (err) {
          failing[name] = (err as Error).message;
        }
      }
      if (this.#stopping) failing['shutdown'] = this.#stopping;
      const ok = Object.keys(failing).length === 0;
      sendJson(res, ok ? 200 : 503, { ok, checks: [...this.#checks.keys()], failing });
    });
    if (metrics) {
      this.route('GET', '/metrics', async (_req, res) => {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
    }
  }

  route(method: string, path: string, handler: RouteHandler, opts: { maxBody?: number } = {}): void {
    this.#routes.push({ method, path, handler, maxBody: opts.maxBody ?? 1024 * 1024 });
  }

  /** From now on /readyz answers 503 with `reason`: the process is shutting down and takes no new work. */
  stopTakingWork(reason: string): void {
    this.#stopping = reason;
  }

  /** A named check /readyz runs: returns undefined when ready, else why not. */
  readiness(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((req, res) => void this.#handle(req, res));
    // Slack retries after 3 s and Alertmanager has its own timeouts; a slow client must not pin a socket.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const candidates = this.#routes.filter((r) => r.path === path);
    const route = candidates.find((r) => r.method === req.method);
    try {
      if (!route) {
        if (candidates.length) {
          sendJson(res, 405, { ok: false, error: 'method not allowed' }, { allow: candidates.map((r) => r.method).join(', ') });
        } else {
          sendJson(res, 404, { ok: false, error: 'not found' });
        }
        return;
      }
      const body = req.method === 'GET' || req.method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, route.maxBody);
      await route.handler(req, res, body);
    } catch (err) {
      if (err instanceof HttpError) {
        if (!res.headersSent) sendJson(res, err.status, { ok: false, error: err.message });
        return;
      }
      this.#log.error({ err, path }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal error' });
      else res.end();
    }
  }
}
