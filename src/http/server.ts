/**
 * The bot's one HTTP listener, in every mode: /healthz, /readyz and /metrics always; /slack/events
 * in HTTP mode; /alertmanager when alerts are configured. Routes are registered by the parts that
 * own them, so this file knows nothing about Slack or Alertmanager.
 *
 * A request body is memory the caller makes us spend, so nothing is read before the route's
 * `authorize` check has passed on the headers alone, a declared Content-Length over the limit is
 * refused at once, a streamed body is cut off the moment it passes the limit, and each route reads
 * at most `maxConcurrentUploads` bodies at a time (503 with Retry-After beyond that).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> | void;

export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

/** Why a request is refused before its body is read: the status, a short reason, extra headers. */
export interface Refusal {
  status: number;
  error: string;
  headers?: Record<string, string>;
}

/** Looks only at the request line and headers; returns a Refusal to answer without reading the body. */
export type Authorize = (req: IncomingMessage) => Refusal | undefined;

export interface RouteOptions {
  /** Largest body accepted, in bytes (default 1 MiB). */
  maxBody?: number;
  /** Runs before any byte of the body is read. */
  authorize?: Authorize;
  /** Bodies this route reads at the same time; more are answered 503 with Retry-After (default 16). */
  maxConcurrentUploads?: number;
}

export const DEFAULT_MAX_BODY = 1024 * 1024;
export const DEFAULT_MAX_CONCURRENT_UPLOADS = 16;

interface Route {
  method: string;
  path: string;
  handler: RouteHandler;
  maxBody: number;
  authorize: Authorize | undefined;
  maxConcurrentUploads: number;
  uploading: number;
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

/** How long a refused connection is kept half-closed, discarding what the client still sends. */
const LINGER_MS = 1000;

/**
 * Answers without reading (the rest of) the body, and closes the connection once the answer is
 * out, so a client that keeps sending costs neither memory nor, for long, a socket.
 */
function refuse(req: IncomingMessage, res: ServerResponse, r: Refusal): void {
  const socket = req.socket;
  if (res.headersSent) {
    socket.destroy();
    return;
  }
  req.pause();
  // Node closes a `Connection: close` response's socket as soon as the answer is flushed; with
  // unread upload bytes still arriving that close is a TCP reset, which can destroy the answer
  // before the client reads it. Linger instead (as nginx does): send FIN, discard what still
  // arrives for a moment, then close.
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  sendJson(res, r.status, { ok: false, error: r.error }, { ...r.headers, connection: 'close' });
}

/** Reads the body, stopping (not draining) the moment it passes `max`. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        done(new HttpError(413, `body larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done();
    const onError = (err: Error) => done(new HttpError(400, `request body unreadable: ${err.message}`));
    const onClose = () => done(new HttpError(400, 'the client closed the connection before the body ended'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function tooLarge(max: number): Refusal {
  return { status: 413, error: `body larger than ${max} bytes` };
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

  route(method: string, path: string, handler: RouteHandler, opts: RouteOptions = {}): void {
    this.#routes.push({
      method,
      path,
      handler,
      maxBody: opts.maxBody ?? DEFAULT_MAX_BODY,
      authorize: opts.authorize,
      maxConcurrentUploads: opts.maxConcurrentUploads ?? DEFAULT_MAX_CONCURRENT_UPLOADS,
      uploading: 0,
    });
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
      const refusal = route.authorize?.(req);
      if (refusal) {
        refuse(req, res, refusal);
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        await route.handler(req, res, Buffer.alloc(0));
        return;
      }
      if (Number(req.headers['content-length'] ?? 0) > route.maxBody) {
        refuse(req, res, tooLarge(route.maxBody));
        return;
      }
      if (route.uploading >= route.maxConcurrentUploads) {
        refuse(req, res, { status: 503, error: 'too many requests in progress; retry', headers: { 'retry-after': '1' } });
        return;
      }
      let body: Buffer;
      route.uploading += 1;
      try {
        body = await readBody(req, route.maxBody);
      } finally {
        route.uploading -= 1;
      }
      await route.handler(req, res, body);
    } catch (err) {
      if (err instanceof HttpError) {
        refuse(req, res, { status: err.status, error: err.message });
        return;
      }
      this.#log.error({ err, path }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal error' });
      else res.end();
    }
  }
}
