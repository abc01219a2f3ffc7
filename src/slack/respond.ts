/**
 * respond() for a response_url that survives Slack failing for a moment. Bolt's own respond()
 * makes one attempt: a single 5xx, 429 or a request that never answers lost the command's reply.
 * This one retries 5xx, 429 (after Retry-After) and network errors or timeouts, a few times within
 * about half a minute, and gives up on anything else (404 used_url/expired_url, 400 invalid_blocks)
 * at once. The URL is never logged: it is a bearer credential for the reply.
 *
 * The POST goes through node:http(s) with one keep-alive agent per protocol rather than fetch:
 * undici's WHATWG fetch and its web streams were a fifth of the bot's CPU per command in the ack
 * bench (bench/README.md), for a request whose answer is only a status line.
 */
import type { RespondArguments } from '@slack/bolt';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface RespondRetryOptions {
  /** Attempts in all (default 4). */
  attempts?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** First backoff after a 5xx or network error, doubled each time (default 500 ms). */
  backoffMs?: number;
  /** Longest Retry-After waited (default 30 s). */
  maxRetryAfterMs?: number;
  /** How one attempt is sent (default postJson). */
  post?: PostJson;
}

/** What a response_url answered: its status and Retry-After (the body is not needed). */
export interface PostAnswer {
  status: number;
  retryAfter: string | undefined;
}

export type PostJson = (url: string, body: string, timeoutMs: number) => Promise<PostAnswer>;

// Sockets are kept for the next reply: Slack's response_url host is the same for every command.
const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 16, timeout: 30_000 }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 16, timeout: 30_000 }),
};

/** POSTs a JSON body and resolves with the status once the answer has been read; rejects on a network error or after `timeoutMs` (error name TimeoutError). */
export const postJson: PostJson = (url, body, timeoutMs) => new Promise((resolve, reject) => {
  const target = new URL(url);
  const protocol = target.protocol === 'https:' ? 'https:' : 'http:';
  const send = protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = Buffer.from(body, 'utf8');
  const timer = setTimeout(() => {
    const err = new Error(`no answer within ${timeoutMs} ms`);
    err.name = 'TimeoutError';
    req.destroy(err);
  }, timeoutMs);
  const req = send(target, {
    method: 'POST',
    agent: agents[protocol],
    headers: { 'content-type': 'application/json', 'content-length': payload.length },
  }, (res) => {
    res.resume();
    res.once('end', () => {
      clearTimeout(timer);
      const retryAfter = res.headers['retry-after'];
      resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
    });
    res.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  req.once('error', (err) => {
    clearTimeout(timer);
    reject(err);
  });
  req.end(payload);
});

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

/** Sends one reply through a response_url (Bolt's RespondFn, without the fetch Response). */
export type Respond = (message: string | RespondArguments) => Promise<PostAnswer>;

export function retryingRespond(responseUrl: string, o: RespondRetryOptions = {}): Respond {
  const attempts = o.attempts ?? 4;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const backoffMs = o.backoffMs ?? 500;
  const maxRetryAfterMs = o.maxRetryAfterMs ?? 30_000;
  const post = o.post ?? postJson;
  return async (message: string | RespondArguments) => {
    const body = JSON.stringify(typeof message === 'string' ? { text: message } : message);
    let last: ResponseUrlError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let wait = backoffMs * 2 ** (attempt - 1);
      try {
        const res = await post(responseUrl, body, timeoutMs);
        if (res.status >= 200 && res.status < 300) return res;
        last = new ResponseUrlError(`Slack answered the response_url with ${res.status}`, res.status);
        if (res.status === 429) {
          const after = Number(res.retryAfter);
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
