/**
 * One queue per channel for everything the bot posts: messages at most once per 1.1 s per channel
 * (Slack's chat.postMessage limit is about one per second per channel), in order, none dropped.
 * chat.update calls wait in the same lane with their own spacing, and several updates of one
 * message that are still waiting collapse into the last one (only the newest state matters).
 *
 * When Slack still answers 429, the WebClient waits for Retry-After and retries; the lane also
 * stops sending to that channel until then, and widens that channel's spacing (then narrows it
 * again, a little with every post that goes through), so a stricter limit than expected costs a
 * few 429s, not one per post. A call that runs out of the client's retries because of rate
 * limiting is tried again here, after Retry-After, rather than lost.
 */
import { WebClientEvent } from '@slack/web-api';
import type { ChatPostMessageArguments, ChatPostMessageResponse, ChatUpdateArguments, ChatUpdateResponse, WebClient } from '@slack/web-api';

export interface PosterOptions {
  /** Minimum spacing of chat.postMessage calls per channel (default 1100 ms). */
  minIntervalMs?: number;
  /** Minimum spacing of chat.update calls per channel (default 1100 ms; chat.update is Tier 3). */
  updateIntervalMs?: number;
  /** Wait after a rate-limited call when Slack gave no Retry-After (default 1000 ms). */
  defaultRetryAfterMs?: number;
}

export interface PosterStats {
  /** Calls waiting or in flight, all channels. */
  depth: number;
  posted: number;
  updated: number;
  /** Updates folded into a newer update of the same message before they were sent. */
  updatesCoalesced: number;
  /** HTTP 429 answers Slack gave to calls of this client. */
  rateLimited: number;
  /** Calls that got a 429 and then went through after waiting Retry-After. */
  rateLimitedAnswered: number;
  failed: number;
}

type Kind = 'post' | 'update';

interface Waiter {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Item {
  kind: Kind;
  args: ChatPostMessageArguments | ChatUpdateArguments;
  waiters: Waiter[];
  /** Saw a 429 at least once. */
  rateLimited: boolean;
}

interface Lane {
  items: Item[];
  current: Item | undefined;
  running: boolean;
  /** Not before this instant (Retry-After). */
  blockedUntil: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isRateLimitError(err: unknown): err is { retryAfter?: number } {
  const e = err as { code?: string; message?: string } | undefined;
  return e?.code === 'slack_webapi_rate_limited_error' || /rate limit was exceeded|ratelimited/i.test(e?.message ?? '');
}

/** Seconds from "…retry-after: 3)" in the SDK's error text, or from WebAPIRateLimitedError. */
function retryAfterMs(err: unknown, fallback: number): number {
  const e = err as { retryAfter?: number; message?: string };
  if (typeof e.retryAfter === 'number') return e.retryAfter * 1000;
  const m = /retry-after: (\d+)/i.exec(e.message ?? '');
  return m ? Number(m[1]) * 1000 : fallback;
}

export class ChannelPoster {
  #client: WebClient;
  #minIntervalMs: number;
  #updateIntervalMs: number;
  #defaultRetryAfterMs: number;
  #lanes = new Map<string, Lane>();
  #lastPost = new Map<string, number>();
  #lastUpdate = new Map<string, number>();
  /** Per-channel post spacing after 429s (absent: minIntervalMs). */
  #learned = new Map<string, number>();
  #idleWaiters: Array<() => void> = [];
  #stats: Omit<PosterStats, 'depth'> = { posted: 0, updated: 0, updatesCoalesced: 0, rateLimited: 0, rateLimitedAnswered: 0, failed: 0 };

  constructor(client: WebClient, opts: PosterOptions = {}) {
    this.#client = client;
    this.#minIntervalMs = opts.minIntervalMs ?? 1100;
    this.#updateIntervalMs = opts.updateIntervalMs ?? 1100;
    this.#defaultRetryAfterMs = opts.defaultRetryAfterMs ?? 1000;
    // Every 429 this client sees, whoever made the call: count it and hold the channel's lane.
    const emitter = client as unknown as { on?: (event: string, fn: (...a: unknown[]) => void) => void };
    emitter.on?.(WebClientEvent.RATE_LIMITED, (retrySec: unknown, req: unknown) => {
      this.#stats.rateLimited++;
      const channel = (req as { body?: { channel?: unknown } } | undefined)?.body?.channel;
      if (typeof channel !== 'string') return;
      const lane = this.#lanes.get(channel);
      if (!lane) return;
      if (lane.current) lane.current.rateLimited = true;
      if (lane.current?.kind === 'post') this.#widen(channel);
      const until = Date.now() + (typeof retrySec === 'number' ? retrySec * 1000 : this.#defaultRetryAfterMs);
      lane.blockedUntil = Math.max(lane.blockedUntil, until);
    });
  }

  post(args: ChatPostMessageArguments): Promise<ChatPostMessageResponse> {
    return this.#enqueue('post', args) as Promise<ChatPostMessageResponse>;
  }

  /** chat.update through the channel's lane; a waiting update of the same message is replaced by this one. */
  update(args: ChatUpdateArguments): Promise<ChatUpdateResponse> {
    return this.#enqueue('update', args) as Promise<ChatUpdateResponse>;
  }

  /** Calls waiting or in flight, all channels: for /metrics and back-pressure. */
  get depth(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.items.length + (lane.current ? 1 : 0);
    return n;
  }

  depthFor(channel: string): number {
    const lane = this.#lanes.get(channel);
    return lane ? lane.items.length + (lane.current ? 1 : 0) : 0;
  }

  /** Channels with messages still waiting. */
  get pendingChannels(): number {
    return this.#lanes.size;
  }

  stats(): PosterStats {
    return { depth: this.depth, ...this.#stats };
  }

  /** Resolves when every lane is empty. */
  idle(): Promise<void> {
    if (this.#lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #enqueue(kind: Kind, args: ChatPostMessageArguments | ChatUpdateArguments): Promise<unknown> {
    const channel = args.channel;
    let lane = this.#lanes.get(channel);
    if (!lane) {
      lane = { items: [], current: undefined, running: false, blockedUntil: 0 };
      this.#lanes.set(channel, lane);
    }
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      if (kind === 'update') {
        const ts = (args as ChatUpdateArguments).ts;
        const waiting = lane.items.find((i) => i.kind === 'update' && (i.args as ChatUpdateArguments).ts === ts);
        if (waiting) {
          waiting.args = args;
          waiting.waiters.push(waiter);
          this.#stats.updatesCoalesced++;
          return;
        }
      }
      lane.items.push({ kind, args, waiters: [waiter], rateLimited: false });
      if (!lane.running) void this.#run(channel, lane);
    });
  }

  async #run(channel: string, lane: Lane): Promise<void> {
    lane.running = true;
    while (lane.items.length > 0) {
      const item = lane.items.shift()!;
      lane.current = item;
      try {
        const result = await this.#send(channel, lane, item);
        for (const w of item.waiters) w.resolve(result);
      } catch (err) {
        this.#stats.failed++;
        for (const w of item.waiters) w.reject(err);
      }
      lane.current = undefined;
    }
    lane.running = false;
    // Forget drained lanes so the map does not grow with every channel ever used.
    this.#lanes.delete(channel);
    if (this.#lanes.size === 0) for (const done of this.#idleWaiters.splice(0)) done();
  }

  /** After a 429: half as often again, up to one post per 10 s. */
  #widen(channel: string): void {
    const now = this.#learned.get(channel) ?? this.#minIntervalMs;
    this.#learned.set(channel, Math.min(10_000, Math.round(now * 1.5)));
  }

  /** After a post went through: 2 % closer to the configured spacing. */
  #narrow(channel: string): void {
    const now = this.#learned.get(channel);
    if (now === undefined) return;
    const next = now * 0.98;
    if (next <= this.#minIntervalMs) this.#learned.delete(channel);
    else this.#learned.set(channel, next);
  }

  async #send(channel: string, lane: Lane, item: Item): Promise<unknown> {
    const last = item.kind === 'post' ? this.#lastPost : this.#lastUpdate;
    for (;;) {
      const interval = item.kind === 'post' ? this.#learned.get(channel) ?? this.#minIntervalMs : this.#updateIntervalMs;
      const wait = Math.max((last.get(channel) ?? 0) + interval, lane.blockedUntil) - Date.now();
      if (wait > 0) await sleep(wait);
      try {
        const result = item.kind === 'post'
          ? await this.#client.chat.postMessage(item.args as ChatPostMessageArguments)
          : await this.#client.chat.update(item.args as ChatUpdateArguments);
        if (item.kind === 'post') {
          this.#stats.posted++;
          this.#narrow(channel);
        } else {
          this.#stats.updated++;
        }
        if (item.rateLimited) this.#stats.rateLimitedAnswered++;
        return result;
      } catch (err) {
        if (!isRateLimitError(err)) throw err;
        // The client gave up retrying; the message still has to go out.
        item.rateLimited = true;
        if (item.kind === 'post') this.#widen(channel);
        lane.blockedUntil = Math.max(lane.blockedUntil, Date.now() + retryAfterMs(err, this.#defaultRetryAfterMs));
      } finally {
        last.set(channel, Date.now());
      }
    }
  }
}
