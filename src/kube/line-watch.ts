/**
 * A Kubernetes watch as client-node's ListWatch drives it (the same `watch()` contract as
 * client-node's Watch), made lighter: client-node's Watch runs each watch through fetch, a web
 * ReadableStream converted back to a Node stream, a readline interface and a timer reset on every
 * chunk, ~0.13 MB of heap per open watch. Here the request goes through undici's request() on the
 * kube dispatcher (src/kube/dispatcher.ts: the shared pool, and its one retry of a watch start on a
 * stale socket), its body is a Node stream split into lines here, and undici's own body timeout
 * stands for the inactivity timer. What ListWatch relies on is kept: one JSON event per line, a
 * non-200 answer fails with its statusCode (a 410 Gone makes ListWatch re-list, a 404 marks a
 * missing CRD), 30 s without a byte ends the watch with a TimeoutError (ListWatch reconnects at
 * once from its resourceVersion), the server closing the stream ends it without an error, and
 * `done` is called exactly once, also after abort().
 */
import { STATUS_CODES } from 'node:http';
import { HttpMethod, RequestContext, Watch } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

/** As client-node's Watch.requestTimeoutMs: no byte for this long ends the watch. */
export const WATCH_INACTIVITY_MS = 30_000;

type Callback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;
type Done = (err: unknown) => void;

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function asTimeout(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TIMEOUTS.has(code) ? new DOMException('The operation was aborted due to timeout', 'TimeoutError') : err;
}

export class LineWatch implements Pick<Watch, 'watch'> {
  #kc: KubeConfig;
  #inactivityMs: number;
  /** A cluster with no TLS options has no dispatcher of ours (client-node uses undici's global one): client-node's Watch serves it. */
  #fallback: Watch | undefined;

  constructor(kc: KubeConfig, opts: { inactivityMs?: number } = {}) {
    this.#kc = kc;
    this.#inactivityMs = opts.inactivityMs ?? WATCH_INACTIVITY_MS;
  }

  async watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: Callback, done: Done): Promise<AbortController> {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('No currently active cluster');
    const url = new URL(cluster.server + path);
    url.searchParams.set('watch', 'true');
    for (const [key, value] of Object.entries(queryParams ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    await this.#kc.applySecurityAuthentication(ctx);
    const dispatcher = ctx.getDispatcher() as Dispatcher | undefined;
    if (!dispatcher || typeof dispatcher.request !== 'function') {
      const fallback = (this.#fallback ??= Object.assign(new Watch(this.#kc), { requestTimeoutMs: this.#inactivityMs }));
      return fallback.watch(path, queryParams, callback, done);
    }

    const controller = new AbortController();
    let finished = false;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      controller.abort();
      done(err);
    };
    try {
      const { statusCode, body } = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'GET',
        headers: ctx.getHeaders(),
        signal: controller.signal,
        headersTimeout: this.#inactivityMs,
        bodyTimeout: this.#inactivityMs,
      });
      if (statusCode !== 200) {
        body.resume();
        throw Object.assign(new Error(STATUS_CODES[statusCode] ?? 'Internal Server Error'), { statusCode });
      }
      body.setEncoding('utf8');
      let rest = '';
      body.on('data', (chunk: string) => {
        rest += chunk;
        let start = 0;
        for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n', start)) {
          const line = rest.slice(start, nl);
          start = nl + 1;
          try {
            const event = JSON.parse(line) as { type: string; object: unknown };
            callback(event.type, event.object, event);
          } catch {
            // A line that is not an event (or a callback that threw) is skipped, as client-node does.
          }
        }
        rest = rest.slice(start);
      });
      body.on('error', (err: unknown) => finish(asTimeout(err)));
      body.on('end', () => finish(null));
      body.on('close', () => finish(null));
    } catch (err) {
      finish(asTimeout(err));
    }
    return controller;
  }
}
