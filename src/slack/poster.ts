/**
 * Posts channel messages at most once per second per channel (Slack's chat.postMessage limit),
 * in order, without dropping any. The WebClient itself waits out an HTTP 429's Retry-After and
 * retries; the pacing here keeps us from hitting that in the first place during a burst.
 */
import type { WebClient } from '@slack/web-api';
import type { ChatPostMessageArguments, ChatPostMessageResponse } from '@slack/web-api';

export class ChannelPoster {
  #client: WebClient;
  #minIntervalMs: number;
  #tails = new Map<string, Promise<unknown>>();
  #last = new Map<string, number>();

  constructor(client: WebClient, opts: { minIntervalMs?: number } = {}) {
    this.#client = client;
    this.#minIntervalMs = opts.minIntervalMs ?? 1100;
  }

  post(args: ChatPostMessageArguments): Promise<ChatPostMessageResponse> {
    const channel = args.channel;
    const previous = this.#tails.get(channel) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(async () => {
      const wait = (this.#last.get(channel) ?? 0) + this.#minIntervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        return await this.#client.chat.postMessage(args);
      } finally {
        this.#last.set(channel, Date.now());
      }
    });
    this.#tails.set(channel, next);
    // Forget finished chains so the map does not grow with every channel ever used.
    void next.finally(() => {
      if (this.#tails.get(channel) === next) this.#tails.delete(channel);
    }).catch(() => undefined);
    return next;
  }

  /** Messages still waiting, per channel: for /metrics and for tests. */
  get pendingChannels(): number {
    return this.#tails.size;
  }
}
