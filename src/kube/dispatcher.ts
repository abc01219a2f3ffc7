/**
 * How the bot's Kubernetes requests reach the API server. client-node 2 builds a new undici Agent
 * (its own pool and TLS set-up) for every request it authenticates, so each of the cache's watches
 * held a pool of its own and every list paid for a fresh TLS connection. Here reads (GET: get,
 * list, watch start) share one pooled Agent per TLS/proxy option set, as client-go shares one
 * transport; new options (a rotated client certificate) get a new one.
 *
 * A pooled keep-alive socket can be dead without the pool knowing yet: after an API-server restart
 * (or a load balancer dropping an idle connection) the first request written on it fails with
 * UND_ERR_SOCKET "other side closed" or ECONNRESET before any response. A read that fails that way
 * before its response started is sent once more, on a new connection (client-go retries idempotent
 * requests the same way). Writes (POST, PUT, PATCH, DELETE) are never retried: each goes out on a
 * connection of its own, opened for it and closed after it, as before sharing, so no write is ever
 * written on a socket left over from before a restart.
 */
import { createHash } from 'node:crypto';
import type { AgentOptions } from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

type Create = (cluster: Cluster | null, agentOptions: AgentOptions) => Dispatcher | undefined;

const STALE_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** True for the errors of a request written on a connection the other side had already closed. */
export function isStaleSocketError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (typeof e?.code === 'string' && STALE_CODES.has(e.code)) || (typeof e?.message === 'string' && /other side closed/i.test(e.message));
}

/**
 * Dispatches a GET, and dispatches it once more when the first attempt fails on a stale socket
 * before any response arrived (nothing of it reached the caller, so the retry is invisible). A
 * failure after the response started (a watch cut mid-stream) is the caller's to handle.
 */
function dispatchRead(dispatch: Dispatcher['dispatch'], opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
  let responded = false;
  let retried = false;
  const attempt = (): boolean =>
    dispatch(opts, {
      // Each attempt has its own controller; the caller (fetch) rebinds its abort to the latest.
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onRequestUpgrade: (controller, statusCode, headers, socket) => handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
      onResponseStart: (controller, statusCode, headers, statusMessage) => {
        if (statusCode >= 200) responded = true;
        handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
      },
      onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
      // A connection that could not be opened fails with no controller (no request started).
      onResponseError: (controller, err) => {
        if (!responded && !retried && !controller?.aborted && isStaleSocketError(err)) {
          retried = true;
          attempt();
          return;
        }
        handler.onResponseError?.(controller, err);
      },
    });
  return attempt();
}

/** One dispatcher for one TLS/proxy option set: reads pooled (with the stale-socket retry), writes on a connection each. */
function kubeDispatcher(reads: Dispatcher, make: () => Dispatcher): Dispatcher {
  return reads.compose((dispatch) => (opts, handler) => {
    if (opts.method === 'GET') return dispatchRead(dispatch, opts, handler);
    const own = make();
    const dispatched = own.dispatch(opts, handler);
    // close() lets the request finish, then closes its connection.
    void own.close().catch(() => {});
    return dispatched;
  });
}

const sharing = new WeakSet<KubeConfig>();

/** Makes the requests of `kc` share dispatchers as above. Idempotent per KubeConfig. */
export function shareDispatchers(kc: KubeConfig): void {
  const target = kc as unknown as { createDispatcher?: Create };
  if (sharing.has(kc) || typeof target.createDispatcher !== 'function') return;
  sharing.add(kc);
  const create = target.createDispatcher.bind(kc);
  let shared: { key: string; dispatcher: Dispatcher | undefined } | undefined;
  target.createDispatcher = (cluster, agentOptions) => {
    // The options hold key material: compare a digest of them, not a copy.
    const key = createHash('sha256').update(JSON.stringify(kc.createDispatcherOptions(cluster, agentOptions))).digest('hex');
    if (shared?.key === key) return shared.dispatcher;
    const previous = shared?.dispatcher;
    // Without TLS options client-node uses undici's global dispatcher; nothing of ours to share.
    const reads = create(cluster, agentOptions);
    const dispatcher = reads ? kubeDispatcher(reads, () => create(cluster, agentOptions)!) : undefined;
    shared = { key, dispatcher };
    // Requests already running on the old one (a watch) finish there; then its connections close.
    void previous?.close().catch(() => {});
    return dispatcher;
  };
}
