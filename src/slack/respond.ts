/**
 * respond() for a response_url that survives Slack failing for a moment. Bolt's own respond()
 * makes one attempt: a single 5xx, 429 or a request that never answers lost the command's reply.
 * This one retries 5xx, 429 (after Retry-After) and network errors or timeouts, a few times within
 * about half a minute, and gives up on anything else (404 used_url/expired_url, 400 invalid_blocks)
 * at once. The URL is never logged: it is a bearer credential for the reply.
 */
import type { RespondArguments, RespondFn } from '@slack/bolt';

export interface RespondRetryOptions {
  /** Attempts in all (default 4). */
  attempts?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** First backoff after a 5xx or network error, doubled each time (default 500 ms). */
  backoffMs?: number;
  /** Longest Retry-After waited (default 30 s). */
  maxRetryAfterMs?: number;
  fetchFn?: typeof fetch;
}

export class ResponseUrlError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined) {
    super(message);
    this.name = 'ResponseUrlError';
    this.status = status;
  }
}

/** Slack sends an https URL; anything else (a forged or garbled envelope) has nowhere to answer. */
export function isResponseUrl(u: unknown): u is string {
  if (typeof u !== 'string' || !URL.canParse(u)) return false;
  const { protocol } = new URL(u);
  return protocol === 'https:' || protocol === 'http:';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function retryingRespond(responseUrl: string, o: RespondRetryOptions = {}): RespondFn {
  const attempts = o.attempts ?? 4;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const backoffMs = o.backoffMs ?? 500;
  const maxRetryAfterMs = o.maxRetryAfterMs ?? 30_000;
  const fetchFn = o.fetchFn ?? globalThis.fetch;
  return async (message: string | RespondArguments) => {
    const body = JSON.stringify(typeof message === 'string' ? { text: message } : message);
    let last: ResponseUrlError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let wait = backoffMs * 2 ** (attempt - 1);
      try {
        const res = await fetchFn(responseUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) });
        if (res.ok) return res;
        await res.body?.cancel();
        last = new ResponseUrlError(`Slack answered the response_url with ${res.status}`, res.status);
        if (res.status === 429) {
          const after = Number(res.headers.get('retry-after'));
          wait = Math.min(maxRetryAfterMs, Number.isFinite(after) && after > 0 ? after * 1000 : 1000);
        } else if (res.status < 500) {
          throw last;
        }
      } catch (err) {
        if (err instanceof ResponseUrlError && err.status !== undefined && err.status < 500 && err.status !== 429) throw err;
        if (!(err instanceof ResponseUrlError)) last = new ResponseUrlError(`the response_url did not answer (${(err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'network error'})`, undefined);
      }
      if (attempt < attempts) await sleep(wait);
    }
    throw last ?? new ResponseUrlError('the response_url failed', undefined);
  };
}
