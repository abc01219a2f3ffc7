// Slack allows about one chat.postMessage per second per channel (short bursts tolerated). The
// stand-in is deliberately stricter: a post within the interval of the previous accepted post to
// the same channel is refused, so a bot that relies on the burst allowance fails here first.
export class PostMessageRateLimit {
  #intervalMs: number;
  readonly #lastPost = new Map<string, number>();

  /** `perSecond`: posts per second per channel; `Infinity` (or 0) switches the limit off. */
  constructor(perSecond: number) {
    this.#intervalMs = PostMessageRateLimit.interval(perSecond);
  }

  static interval(perSecond: number): number {
    if (!Number.isFinite(perSecond) || perSecond <= 0) return 0;
    return 1000 / perSecond;
  }

  setPerSecond(perSecond: number): void {
    this.#intervalMs = PostMessageRateLimit.interval(perSecond);
  }

  /** Seconds to wait (Slack's Retry-After is whole seconds) or undefined when the post may go. */
  retryAfter(channel: string, now: number): number | undefined {
    if (this.#intervalMs === 0) return undefined;
    const last = this.#lastPost.get(channel);
    if (last === undefined) return undefined;
    const waitMs = last + this.#intervalMs - now;
    if (waitMs <= 0) return undefined;
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  accepted(channel: string, now: number): void {
    this.#lastPost.set(channel, now);
  }

  reset(): void {
    this.#lastPost.clear();
  }
}
